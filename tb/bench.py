"""``make bench``: RTL throughput of the cores in Icarus (cocotb), as tables and JSON.

Each testbench module that declares a ``BENCH`` (:class:`tb.suite.Bench`) has its bench test
(``throughput``) run on each of the bench's parameter sets: it sends each data kind (EBPC: two
2048-word transfers; NoC decoder: 3,000 weights per code class; ...) with every valid / ready
high and measures words/cycle from the first input word to the final output word. The
simulations of all parameter sets run side by side, one per CPU core, each printing a line as
it finishes. Writes ``build/reports/<core>.json`` and prints one table per core.
"""

import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dnnpress import cores
from dnnpress.paths import REPORTS, bench_report
from hw.params import label
from tb import suite
from tb.runner import run

__all__ = ["benches", "main"]


def benches():
    """Core name -> (testbench module, :class:`tb.suite.Bench`) of every benchmarked core, in
    the registry's order."""
    found = {suite.core_of(m).name: (m, m.BENCH) for m in suite.modules() if hasattr(m, "BENCH")}
    order = [*cores.CORES, *found]
    return {name: found[name] for name in sorted(found, key=order.index)}


def measure(module, bench, params):
    """Rows of the bench test of ``module`` at ``params``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        run(suite.core_of(module), module.__name__, params, select=rf"\.{bench.test}\b",
            extra_env={"DNNPRESS_BENCH": str(out)}, quiet=True)
        return json.loads(out.read_text())["rows"]


def table(core, results, bench):
    """The words/cycle table of ``core``, columns as wide as their content; the goals and the
    authors' figures stand beside the first parameter set (the defaults)."""
    head = ("parameters", "data", "words/cycle", "goal", "authors")
    rows = []
    for r in results:
        first = r is results[0]
        name = label(r["params"])
        for row in r["rows"]:
            rows.append((name, row["kind"], f"{row['words_per_cycle']:.3f}",
                         str(bench.goals.get(row["kind"], "")) if first else "",
                         str(bench.authors.get(row["kind"], "")) if first else ""))
    widths = [max(len(c) for c in col) for col in zip(head, *rows)]

    def line(cells):
        return "  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    rule = "-" * len(line(head))
    return "\n".join([f"{core}: words/cycle, valid / ready high", line(head), rule,
                      *map(line, rows), rule, bench.source])


def main(argv=None):
    """``python -m tb.bench [CORE ...]``: every benchmarked core, or the ones named."""
    names = sys.argv[1:] if argv is None else argv
    known = benches()
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"dnnpress: error: no benchmark for {unknown[0]}; cores: {', '.join(known)}",
              file=sys.stderr)
        return 2
    REPORTS.mkdir(parents=True, exist_ok=True)
    selected = names or list(known)
    start = time.monotonic()

    def job(core, values):
        module, bench = known[core]
        rows = measure(module, bench, values)
        print(f"bench: {core} {label(values)}  {time.monotonic() - start:.0f} s",
              flush=True)
        return rows

    # the simulations run in subprocesses: threads are enough to keep every core busy
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        futures = {core: [pool.submit(job, core, params) for params in known[core][1].param_sets]
                   for core in selected}
        measured = {core: [f.result() for f in fs] for core, fs in futures.items()}
    for core in selected:
        module, bench = known[core]
        defaults = suite.core_of(module).defaults()
        results = [{"params": {**defaults, **params}, "rows": rows}
                   for params, rows in zip(bench.param_sets, measured[core])]
        print(table(core, results, bench), "\n")
        path = bench_report(core)
        path.write_text(json.dumps({"core": core, "goals": bench.goals,
                                    "authors_rtl": bench.authors, "source": bench.source,
                                    "results": results}, indent=2) + "\n")
        print(f"wrote {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
