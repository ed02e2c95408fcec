"""Reports of the synthesis flow: ``synth.json``, the Markdown tables and the console summary.

Where a core is one of the EBPC paper's (:mod:`hw.ebpc.paper`: Cavigelli et al., IEEE JETCAS
2019, Table II), its figures stand beside ours, grouped through :data:`PAPER_ROWS`. The mapping
is approximate: the two designs cut the pipeline differently.
"""

import json
from pathlib import Path

from dnnpress import outputs
from hw.ebpc import paper

from . import liberty

__all__ = ["PAPER", "PAPER_ROWS", "num", "write_json", "render_markdown",
           "console_table"]

#: the paper's Table II, GE, and our stage -> its rows in pipeline order (:mod:`hw.ebpc.paper`)
PAPER, PAPER_ROWS = paper.TABLE_II, paper.STAGES
_PAPER_SOURCE = paper.SOURCE


def _ordered(name, stages):
    """``stages`` items in pipeline order where known (:data:`PAPER_ROWS`), the rest sorted."""
    known = list(PAPER_ROWS.get(name, {}))
    return sorted(stages.items(), key=lambda kv: (kv[0] not in known,
                                                  known.index(kv[0]) if kv[0] in known else 0,
                                                  kv[0]))


def write_json(results, path):
    """Write ``results`` (``{"cores": {...}, ...}``) to ``path`` as indented JSON, whole or not
    at all (:func:`dnnpress.outputs.write_file`; ``ValueError`` when it cannot be written)."""
    text = json.dumps(results, indent=2, default=str) + "\n"
    outputs.write_file(path, lambda f: f.write(text.encode()))
    return Path(path)


def num(value, digits=0, unit=""):
    """``value`` with thousands separators and ``digits`` decimals, then ``unit``; ``–`` for
    ``None``."""
    return "–" if value is None else f"{value:,.{digits}f}{unit}"


def _table(head, rows, text_columns=(0,)):
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join("---" if i in text_columns else "---:" for i in range(len(head)))
             + "|"]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def _paper_rows(name, n45):
    paper, rows = PAPER[name], PAPER_ROWS.get(name, {})
    groups = {}
    for stage, fig in _ordered(name, n45["stages"]):
        groups.setdefault(rows.get(stage, ()), []).append((stage, fig["ge"]))
    out = []
    for key, members in groups.items():
        ours = sum(ge for _, ge in members)
        label = " + ".join(key) if key else "(no counterpart)"
        paper_ge = sum(paper["rows"][r] for r in key) if key else None
        out.append([label, num(paper_ge), ", ".join(s for s, _ in members), num(ours)])
    rest = paper["total"] - sum(paper["rows"].values())
    out.append(["(not itemised)", num(rest), "", ""])
    out.append(["**total**", f"**{paper['total']:,}**", "flattened",
                f"**{n45['total_ge']:,.0f}**"])
    return [f"Beside the {_PAPER_SOURCE}; the mapping of stages to its rows is approximate "
            "(the pipelines are cut differently), and its GE come from a commercial 65 nm "
            "library, ours from footprint ratios (docs/synthesis.md).", "",
            *_table(["paper row", "paper GE", "our stages", "our GE (NanGate45)"], out, (0, 2))]


def _core_md(name, r, level):
    core = r.get("core", name)
    n45, sky = r["area"]["nangate45"], r["area"]["sky130"]
    params = ", ".join(f"{k}={v}" for k, v in r["params"].items())
    lines = [f"{'#' * (level + 1)} {name} (`{r['module']}`, {params})", ""]
    rows = [[f"`{s}`", num(f["ge"]), num(sky["stages"].get(s, {}).get("ge")), f["ffs"],
             num(f["cells"])] for s, f in _ordered(core, n45["stages"])]
    rows.append(["sum of stages (hierarchical)", num(n45["hier_total_ge"]),
                 num(sky["hier_total_ge"]), "", ""])
    rows.append(["**total (flattened)**", f"**{n45['total_ge']:,.0f}**",
                 f"**{sky['total_ge']:,.0f}**", r["ffs"], num(n45["cells"])])
    lines += _table(["stage", "GE NanGate45", "GE sky130", "FFs", "cells"], rows) + [""]
    depth, mem = r["depth"], r["memories"]
    lines.append(f"- Logic depth: {depth['gates']} gates (2-input gates and muxes, "
                 f"`{depth['from']}` to `{depth['to']}`).")
    lines.append(f"- Memories: {mem['bits']} bits in {mem['count']} memories" +
                 (" (mapped to flip-flops, included above)." if mem["count"] else "."))
    t = r.get("timing")
    if t and "fmax_mhz" in t:
        lines.append(f"- {t['library']}: critical path {t['critical_path_ns']:.2f} ns, "
                     f"Fmax {num(t['fmax_mhz'])} MHz ({t['gates_on_path']} gates, "
                     f"{t['from_stage']} to {t['to_stage']}); "
                     f"{num(t['area_ge_osu018'])} GE in OSU cells.")
    elif t:
        lines.append("- 180 nm timing: " + (f"skipped ({t['skipped']})" if "skipped" in t
                                              else f"failed: {t.get('error')}"))
    f = r.get("fpga")
    if f and "up5k" in f:
        lines += ["", *_table(["iCE40", "LUT4", "FFs", "carry", "BRAM", "LCs (wrapped)",
                               "Fmax MHz", "path levels"],
                              [[d.upper(), num(v["lut4"]), v["ffs"], v["carry"], v["bram_4k"],
                                num(v.get("lc_used")), num(v.get("fmax_mhz"), 1),
                                num(v.get("path_levels"))] for d, v in f.items()])]
    elif f:
        lines.append("- iCE40: " + (f"skipped ({f['skipped']})" if "skipped" in f
                                     else f"failed: {f.get('error')}"))
    if core in PAPER:
        lines += ["", *_paper_rows(core, n45)]
    return lines + [""]


def _configs_md(core, configs, level):
    """The configurations of ``core`` side by side (``configs``: report key -> result): GE per
    stage, totals, flip-flops, Fmax and the measured words/cycle, the paper's beside them."""
    paper = PAPER.get(core)
    varied = [k for k in next(iter(configs.values()))["params"]
              if len({r["params"].get(k) for r in configs.values()}) > 1]
    names = [", ".join(f"{k}={r['params'][k]}" for k in varied) or key
             for key, r in configs.items()]
    head = ["", *(f"`{n}`" for n in names)] + (["paper"] if paper else [])
    rs = list(configs.values())

    def row(label, values, theirs=""):
        return [label, *values] + ([theirs] if paper else [])

    stages = [s for s, _ in _ordered(core, rs[0]["area"]["nangate45"]["stages"])]
    rows = [row(f"GE `{s}`", [num(r["area"]["nangate45"]["stages"].get(s, {}).get("ge"))
                              for r in rs]) for s in stages]
    rows.append(row("**GE total NanGate45**", [f"**{num(r['area']['nangate45']['total_ge'])}**"
                                                for r in rs],
                    f"**{paper['total']:,}**" if paper else ""))
    if paper:
        rows.append(row("GE / paper", [f"{r['area']['nangate45']['total_ge'] / paper['total']:.2f}x"
                                       for r in rs]))
    rows.append(row("GE total sky130", [num(r["area"]["sky130"]["total_ge"]) for r in rs]))
    rows.append(row("flip-flops", [str(r["ffs"]) for r in rs]))
    rows.append(row("Fmax 180 nm (MHz)", [num((r.get("timing") or {}).get("fmax_mhz"))
                                          for r in rs], "600 (65 nm)" if paper else ""))
    measured = [(r.get("throughput") or {}).get("words_per_cycle") or {} for r in rs]
    kinds = list(dict.fromkeys(kind for wpc in measured for kind in wpc))
    authors = next((r["throughput"]["authors_rtl"] for r in rs if r.get("throughput")), {})
    for kind in kinds:
        rows.append(row(f"words/cycle, {kind}", [num(wpc.get(kind), 3) for wpc in measured],
                        num(authors.get(kind), 3)))
    lines = [f"{'#' * (level + 1)} {core}: configurations", "",
             *_table(head, rows), ""]
    if not kinds:
        lines.append(f"- words/cycle not measured yet: `make bench CORES={core}` before "
                     "`make synth` adds them.")
    else:
        source = next(r["throughput"]["source"] for r in rs if r.get("throughput"))
        lines.append(f"- words/cycle: measured by `make bench` in Icarus, every valid / ready "
                     f"high (`{Path(source).name}`); the paper column holds the authors' RTL "
                     "figures stored with it.")
    return lines + [""]


def render_markdown(results, level=2):
    """The Markdown report of ``results`` (``synth.json``): a level-``level`` title, then one
    section per configuration one level below, the configurations side by side, and the cell
    areas; :mod:`synth.readme` puts it into ``docs/synthesis.md``."""
    lines = [f"{'#' * level} Synthesis results", "",
             "GE = area / NAND2 area: NanGate45 footprint ratios (headline) and sky130_fd_sc_hd "
             "(band); synchronous reset as logic in front of plain D flip-flops (about 1 GE per "
             "bit); generated by `synth` (docs/synthesis.md).", ""]
    groups = {}
    for name, r in results["cores"].items():
        groups.setdefault(r.get("core", name), {})[name] = r
        lines += _core_md(name, r, level)
    for core, configs in groups.items():
        if len(configs) > 1:
            lines += _configs_md(core, configs, level)
    return "\n".join(lines + _cells_md(results.get("ge_libraries", {}), level))


def _cells_md(libraries, level):
    """The GE of each cell of the area libraries (``synth.json``'s ``ge_libraries``)."""
    if not libraries:
        return []
    names = list(libraries)
    cells = list(dict.fromkeys(c for table in libraries.values() for c in table))
    function = {**{c: "`" + f.replace("|", "\\|") + "`" for c, (_, f) in liberty.CELLS.items()},
                "DFF": "positive-edge D flip-flop, no reset"}
    rows = [[c, function.get(c, ""), *(num(libraries[n].get(c), 2) for n in names)]
            for c in cells]
    return [f"{'#' * (level + 1)} Cell areas (GE)", "",
            "Each cell's footprint divided by the library's NAND2 footprint (`synth/liberty.py`; "
            "X1 / `_1` drive strengths).", "",
            *_table(["cell", "function", *names], rows, (0, 1)), ""]


def console_table(results):
    """The area table printed at the end of :func:`synth.main`: one row per configuration,
    a rule under the head, a legend under the table."""
    head = ["configuration", "GE NanGate45", "GE sky130", "FFs", "memory bits", "depth",
            "Fmax 180nm", "UP5K LUT4", "UP5K Fmax", "HX8K Fmax"]
    rows = []
    for name, r in results["cores"].items():
        t, f = r.get("timing") or {}, r.get("fpga") or {}
        up, hx = f.get("up5k") or {}, f.get("hx8k") or {}
        rows.append([name, num(r["area"]["nangate45"]["total_ge"]),
                     num(r["area"]["sky130"]["total_ge"]), str(r["ffs"]),
                     num(r["memories"]["bits"]), str(r["depth"]["gates"]),
                     num(t.get("fmax_mhz"), 0, " MHz"), num(up.get("lut4")),
                     num(up.get("fmax_mhz"), 1, " MHz"), num(hx.get("fmax_mhz"), 1, " MHz")])
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths)))
             for row in [head, ["-" * w for w in widths], *rows]]
    return "\n".join(lines + [
        "GE: area / NAND2 area by footprint ratios (flattened; NanGate45 headline, sky130 band); "
        "FFs include memory bits;",
        "depth: 2-input gates on the longest path; Fmax 180nm: OSU 0.18 um cells, OpenSTA; "
        "UP5K / HX8K: iCE40 after nextpnr."])
