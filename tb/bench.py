"""``make bench``: RTL throughput of the cores in Icarus (cocotb), as tables and JSON.

For each parameter set, a core's ``throughput`` cocotb test sends each data kind (EBPC: two
2048-word transfers; NoC decoder: 3,000 weights per code class) with every valid / ready high
and measures words/cycle from the first input word to the final output word. Writes
``build/reports/<core>.json`` and prints one table per core.
"""

import json
import sys
import tempfile
from pathlib import Path

from dnnpress import cores
from dnnpress.paths import REPORTS, bench_report
from tb.runner import run

__all__ = ["BENCHES", "main"]

#: core -> (cocotb module, parameter sets, goals per data kind, the authors' RTL per kind)
BENCHES = {
    "ebpc-encoder": ("tb.ebpc_encoder_tb",
                     [{}, {"bpc_words": 2}, {"word_bits": 16, "block_size": 16}, {"serial": 1}],
                     {"dense": 0.79, "adversarial": 0.97, "sparse50": 0.97, "relu": 0.97},
                     {"dense": 0.797, "adversarial": 0.573}),
    "ebpc-decoder": ("tb.ebpc_decoder_tb", [{}, {"word_bits": 16, "block_size": 16}, {"serial": 1}],
                     {"dense": 0.79, "adversarial": 0.97, "sparse50": 0.97, "relu": 0.97},
                     {"dense": 0.797, "adversarial": 0.797}),
    "noc-weight-decoder": ("tb.noc_decoder_tb", [{}, {"weight_bits": 8, "len_bits": 4},
                                                 {"weight_bits": 8, "len_bits": 3}],
                           {"raw": 0.97, "runs": 0.97, "mixed": 0.97}, {}),
    "dict-decoder": ("tb.dict_decoder_tb", [{}, {"G": 8, "B_max": 8, "R": 8},
                                            {"G": 1, "B_max": 4, "R": 4}],
                     {"hits": 1.0, "runs": 1.0}, {}),
    "cluster-entry-decoder": ("tb.cluster_entry_tb", [{}, {"line_bytes": 4}],
                              {"dense": 1.0}, {}),
}
SOURCE = ("goals: issues 4 / 5 (8-bit ports, 2048-word transfers) and 8 (one weight per cycle); "
          "authors' RTL: ebpc-format.md section 7")


def measure(core, module, params):
    """Rows of the ``throughput`` test of ``core`` at ``params``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        run(core, module, params, select=r"\.throughput\b",
            extra_env={"DNNPRESS_BENCH": str(out)}, quiet=True)
        return json.loads(out.read_text())["rows"]


def table(core, results, goals, authors):
    head = f"{'parameters':<40} {'data':<12} {'words/cycle':>11} {'goal':>6} {'authors':>8}"
    lines = [f"{core}: words/cycle, valid / ready high", head,
             "-" * len(head)]
    for r in results:
        name = ",".join(f"{k}={v}" for k, v in r["params"].items())
        for row in r["rows"]:
            first = r is results[0]          # goals and the authors' figures: 8-bit defaults
            goal = goals.get(row["kind"], "") if first else ""
            theirs = authors.get(row["kind"], "") if first else ""
            lines.append(f"{name:<40} {row['kind']:<12} {row['words_per_cycle']:>11.3f} "
                         f"{goal:>6} {theirs:>8}")
    return "\n".join(lines)


def main(argv=None):
    """``python -m tb.bench [CORE ...]``: every benchmarked core, or the ones named."""
    names = sys.argv[1:] if argv is None else argv
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        print(f"tb.bench: no benchmark for {unknown[0]}; cores: {', '.join(BENCHES)}",
              file=sys.stderr)
        return 2
    REPORTS.mkdir(parents=True, exist_ok=True)
    for core in names or BENCHES:
        module, param_sets, goals, authors = BENCHES[core]
        defaults = cores.core(core).defaults()
        results = [{"params": {**defaults, **params}, "rows": measure(core, module, params)}
                   for params in param_sets]
        print(table(core, results, goals, authors), "\n")
        path = bench_report(core)
        path.write_text(json.dumps({"core": core, "goals": goals, "authors_rtl": authors,
                                    "source": SOURCE, "results": results}, indent=2) + "\n")
        print(f"wrote {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
