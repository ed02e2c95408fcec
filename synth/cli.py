"""``synth [CORE ...] [--set NAME=VALUE ...] [--no-timing] [--no-fpga] [--out DIR]``.

Runs the flow on the named cores (default: every core of :data:`dnnpress.cores.CORES`), and on
their variants (the EBPC cores' area-optimised ``serial=1``) unless ``--set`` names one of their
parameters; prints a compact table and writes ``synth.json`` and ``synth.md`` into ``DIR``
(``build/reports``), with the words/cycle that ``make bench`` measured where it has. Work
files go to ``build/synth/<module>/``. A missing optional tool prints one line and its figures
are skipped; without Yosys nothing can run and the exit status is 2.
"""

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dnnpress import cores
from dnnpress.paths import BUILD, REPORTS, bench_report

from . import flow, fpga, liberty, report, timing, tools

__all__ = ["WORK", "DESCRIPTION", "add_arguments", "run_core", "measured_throughput", "main",
           "run"]

#: work folder: one subfolder per core module
WORK = BUILD / "synth"
RESET_STYLE = ("synchronous, active high, to 0: logic in front of a plain D flip-flop "
               "(about 1 GE per flip-flop)")
_FAILURES = (flow.FlowError, RuntimeError, OSError, subprocess.SubprocessError)


def _fpga(found, verilog, module, workdir):
    try:
        return fpga.run(found.yosys, found.nextpnr, verilog, module, workdir)
    except _FAILURES as exc:
        return {"error": str(exc)}


def run_core(core, params, found, workdir, timing_on=True, fpga_on=True):
    """All figures of ``core`` at ``params`` with the tools ``found`` (:func:`tools.find`).

    The ASIC part (area, depth, 180 nm netlist) and the iCE40 part run side by side. Raises
    :class:`flow.FlowError` when the area synthesis fails; timing and FPGA failures are recorded
    as ``{"error": ...}`` in the result.
    """
    start = time.monotonic()
    workdir = Path(workdir)
    verilog = cores.emit(core, params, workdir)
    osu = found.osu_lib if timing_on and found.sta and found.osu_lib else None
    with ThreadPoolExecutor(max_workers=2) as pool:
        fpga_job = pool.submit(_fpga, found, verilog, core.module, workdir / "ice40") \
            if fpga_on else None
        area = flow.run(found.yosys, verilog, core.module, workdir, osu=osu)
        if osu is None:
            why = "--no-timing" if not timing_on else "sta or the OSU library not found"
            sta = {"skipped": why}
        else:
            try:
                sta = timing.run(found.sta, osu, area["osu_netlist"], core.module, workdir)
            except _FAILURES as exc:
                sta = {"error": str(exc)}
        fpga_result = fpga_job.result() if fpga_job else {"skipped": "--no-fpga"}
    area.pop("osu_netlist")
    return {"module": core.module, "params": params, "verilog": str(verilog), **area,
            "timing": sta, "fpga": fpga_result, "runtime_s": round(time.monotonic() - start, 1)}


def _settings(selected, items):
    """Per core, the ``NAME=VALUE`` items that name one of its parameters."""
    names = {item.partition("=")[0] for item in items}
    known = {p.name for c in selected for p in c.params}
    unknown = sorted(names - known)
    if unknown:
        raise ValueError(f"no selected core has a parameter {unknown[0]!r}; parameters: "
                         f"{', '.join(sorted(known))}")
    return {c.name: [i for i in items if i.partition("=")[0] in {p.name for p in c.params}]
            for c in selected}


def _jobs(selected, settings, params):
    """``(report key, core, parameters, work folder)`` per synthesis: each core at its
    parameters, and where no ``--set`` names it, its :attr:`~dnnpress.cores.Core.variants`."""
    jobs = []
    for c in selected:
        jobs.append((c.name, c, params[c.name], WORK / c.module))
        for variant in () if settings[c.name] else c.variants:
            label = ",".join(f"{k}={v}" for k, v in variant.items())
            tag = "_".join(f"{k}{v}" for k, v in variant.items())
            jobs.append((f"{c.name} {label}", c, {**params[c.name], **variant},
                         WORK / f"{c.module}_{tag}"))
    return jobs


def measured_throughput(core, params, reports=REPORTS):
    """Words/cycle per data kind of ``core`` at ``params`` from ``make bench``'s JSON
    (``reports/<core>.json``), with the authors' figures; None when not measured."""
    path = bench_report(core, reports)
    try:
        bench = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    for entry in bench.get("results", []):
        if entry.get("params") == params:
            return {"words_per_cycle": {r["kind"]: r["words_per_cycle"] for r in entry["rows"]},
                    "authors_rtl": bench.get("authors_rtl", {}), "source": str(path)}
    return None


DESCRIPTION = "Area (GE), logic depth, 180 nm timing and iCE40 figures of the dnnpress cores."


def add_arguments(p):
    """The flow's options on parser ``p`` (also ``dnnpress synth``'s)."""
    p.add_argument("cores", nargs="*", metavar="CORE", help="cores (default: all)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="parameter of the cores that have it (repeatable)")
    p.add_argument("--no-timing", action="store_true", help="skip the 180 nm timing")
    p.add_argument("--no-fpga", action="store_true", help="skip iCE40 synthesis and P&R")
    p.add_argument("--out", type=Path, default=REPORTS, metavar="DIR",
                   help="report folder (build/reports)")
    return p


def main(argv=None):
    """``python -m synth``: parse ``argv`` and :func:`run`."""
    p = add_arguments(argparse.ArgumentParser(prog="synth", description=DESCRIPTION))
    return run(p.parse_args(argv))


def run(args):
    """Run the flow; print the table; write the reports. 0, or 2 on a user error / no Yosys."""
    try:
        selected = [cores.core(n) for n in args.cores] or list(cores.CORES.values())
        settings = _settings(selected, args.set)
        params = {c.name: cores.resolve(c, settings[c.name]) for c in selected}
    except ValueError as exc:
        print(f"dnnpress: error: {exc}", file=sys.stderr)
        return 2
    found = tools.find(timing=not args.no_timing, fpga=not args.no_fpga)
    for line in found.messages:
        print(line, file=sys.stderr)
    if found.yosys is None:
        return 2
    results = {"generated_by": "synth (dnnpress)", "reset_style": RESET_STYLE,
               "ge_libraries": liberty.LIBRARIES, "timing_library": timing.LABEL,
               "paper": report.PAPER, "paper_rows": report.PAPER_ROWS, "cores": {}}
    start = time.monotonic()
    jobs = _jobs(selected, settings, params)
    for key, c, values, workdir in jobs:
        print(f"synth: {key} ...", flush=True)
        try:
            r = run_core(c, values, found, workdir, not args.no_timing, not args.no_fpga)
        except _FAILURES as exc:
            print(f"dnnpress: {key}: {exc}", file=sys.stderr)
            return 1
        results["cores"][key] = {"core": c.name, **r,
                                 "throughput": measured_throughput(c.name, values)}
        for part in ("timing", "fpga"):
            if "error" in r[part]:
                print(f"dnnpress: {key}: {part}: {r[part]['error']}", file=sys.stderr)
    print(report.console_table(results))
    out = Path(args.out)
    report.write_json(results, out / "synth.json")
    (out / "synth.md").write_text(report.render_markdown(results) + "\n")
    print(f"synth: {len(jobs)} configuration(s) in {time.monotonic() - start:.0f} s; wrote "
          f"{out / 'synth.json'} and {out / 'synth.md'}")
    return 0
