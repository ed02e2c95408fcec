"""Reports of the synthesis flow: ``synth.json``, the Markdown tables and the console summary.

Where a core is one of the EBPC cores, two references stand beside ours: the authors' RTL
measured in this same flow (:mod:`hw.ebpc.authors`, :data:`AUTHORS`: the yardstick), and the
EBPC paper's Table II (:mod:`hw.ebpc.paper`: Cavigelli et al., IEEE JETCAS 2019; Synopsys DC on
UMC 65 nm, a different flow), grouped through :data:`PAPER_ROWS`. That mapping is approximate:
the two designs cut the pipeline differently.
"""

import json
from pathlib import Path

from dnnpress import outputs
from hw.ebpc import authors, paper

from . import liberty

__all__ = ["PAPER", "PAPER_ROWS", "AUTHORS", "PAPER_LABEL", "AUTHORS_LABEL", "num",
           "area_time", "write_json", "render_markdown", "console_table"]

#: the paper's Table II, GE, and our stage -> its rows in pipeline order (:mod:`hw.ebpc.paper`)
PAPER, PAPER_ROWS = paper.TABLE_II, paper.STAGES
_PAPER_SOURCE = paper.SOURCE
#: the authors' RTL in our flow, per core: its source, method, area and words/cycle
AUTHORS = {core: {"source": authors.SOURCE, "method": authors.METHOD, **area,
                  "words_per_cycle": authors.WORDS_PER_CYCLE.get(core, {})}
           for core, area in authors.AREA.items()}
#: the column heads of the two references
PAPER_LABEL = "paper, Synopsys DC / UMC 65 nm, a different flow"
AUTHORS_LABEL = "authors' RTL, same flow"


def area_time(ge, words_per_cycle):
    """The area-time figure GE x (cycles per word) (smaller is better); None when either is
    missing."""
    return None if ge is None or not words_per_cycle else ge / words_per_cycle


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
    return [f"Beside the {_PAPER_SOURCE}, a different flow: the mapping of stages to its rows "
            "is approximate (the pipelines are cut differently), and its GE come from a "
            "commercial 65 nm library, ours from footprint ratios (docs/synthesis.md).", "",
            *_table(["paper row", "paper GE", "our stages", "our GE (NanGate45)"], out, (0, 2))]


def _authors_line(name, n45):
    """One line: the authors' RTL in the same flow beside this configuration's total."""
    a = AUTHORS[name]
    return (f"- Beside the authors' RTL in the same flow ({a['source']}; `hw/ebpc/authors.py`): "
            f"{a['total_ge']:,} GE, {a['ffs']} FFs; this configuration is "
            f"{n45['total_ge'] / a['total_ge']:.2f}x its GE.")


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
    mac = r.get("macros")
    if mac:
        names = ", ".join(f"`{x['name']}` {x['depth']} x {x['width']}" for x in mac["list"])
        lines.append(f"- As SRAM macros ({names}; {mac['bits']:,} bits, `synth/macros.py`): "
                     f"logic without them {mac['logic_ge']:,.0f} GE NanGate45, "
                     f"{mac['logic_ffs']} FFs; SRAM estimate {mac['sram_ge']:,.0f} GE "
                     f"({mac['model']}); total {mac['total_ge']:,.0f} GE.")
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
    if core in AUTHORS:
        lines.append(_authors_line(core, n45))
    if core in PAPER:
        lines += ["", *_paper_rows(core, n45)]
    return lines + [""]


def _configs_md(core, configs, level):
    """The configurations of ``core`` side by side (``configs``: report key -> result): GE per
    stage, totals, flip-flops, Fmax, the measured words/cycle and the area-time figure GE x
    (cycles per word), with the authors' RTL in the same flow and the paper beside them."""
    paper, theirs = PAPER.get(core), AUTHORS.get(core)
    varied = [k for k in next(iter(configs.values()))["params"]
              if len({r["params"].get(k) for r in configs.values()}) > 1]
    names = [", ".join(f"{k}={r['params'][k]}" for k in varied) or key
             for key, r in configs.items()]
    head = (["", *(f"`{n}`" for n in names)] + ([AUTHORS_LABEL] if theirs else [])
            + ([PAPER_LABEL] if paper else []))
    rs = list(configs.values())

    def row(label, values, same_flow="", other_flow=""):
        return ([label, *values] + ([same_flow] if theirs else [])
                + ([other_flow] if paper else []))

    def total(r):
        return r["area"]["nangate45"]["total_ge"]

    stages = [s for s, _ in _ordered(core, rs[0]["area"]["nangate45"]["stages"])]
    rows = [row(f"GE `{s}`", [num(r["area"]["nangate45"]["stages"].get(s, {}).get("ge"))
                              for r in rs]) for s in stages]
    rows.append(row("**GE total NanGate45**", [f"**{num(total(r))}**" for r in rs],
                    f"**{theirs['total_ge']:,}**" if theirs else "",
                    f"**{paper['total']:,}**" if paper else ""))
    if theirs:
        rows.append(row("GE / authors' RTL", [f"{total(r) / theirs['total_ge']:.2f}x"
                                              for r in rs], "1.00x"))
    if paper:
        rows.append(row("GE / paper", [f"{total(r) / paper['total']:.2f}x" for r in rs],
                        f"{theirs['total_ge'] / paper['total']:.2f}x" if theirs else "",
                        "1.00x"))
    rows.append(row("GE total sky130", [num(r["area"]["sky130"]["total_ge"]) for r in rs]))
    rows.append(row("flip-flops", [str(r["ffs"]) for r in rs],
                    str(theirs["ffs"]) if theirs else ""))
    rows.append(row("Fmax 180 nm (MHz)", [num((r.get("timing") or {}).get("fmax_mhz"))
                                          for r in rs], "", "600 (65 nm)" if paper else ""))
    measured = [(r.get("throughput") or {}).get("words_per_cycle") or {} for r in rs]
    kinds = list(dict.fromkeys(kind for wpc in measured for kind in wpc))
    theirs_wpc = theirs["words_per_cycle"] if theirs else {}
    for kind in kinds:
        rows.append(row(f"words/cycle, {kind}", [num(wpc.get(kind), 3) for wpc in measured],
                        num(theirs_wpc.get(kind), 3)))
    for kind in kinds:
        rows.append(row(f"GE x cycles/word, {kind}",
                        [num(area_time(total(r), wpc.get(kind))) for r, wpc in zip(rs, measured)],
                        num(area_time(theirs and theirs["total_ge"], theirs_wpc.get(kind)))))
    lines = [f"{'#' * (level + 1)} {core}: configurations", "",
             *_table(head, rows), ""]
    if theirs:
        lines.append(f"- {AUTHORS_LABEL}: {theirs['source']}; {theirs['method']} "
                     "(`hw/ebpc/authors.py`).")
    if paper:
        lines.append(f"- {PAPER_LABEL}: {_PAPER_SOURCE} (`hw/ebpc/paper.py`); not the same "
                     "measurement as ours.")
    if not kinds:
        lines.append(f"- words/cycle not measured yet: `make bench CORES={core}` before "
                     "`make synth` adds them.")
    else:
        source = next(r["throughput"]["source"] for r in rs if r.get("throughput"))
        lines.append(f"- words/cycle: measured by `make bench` in Icarus, every valid / ready "
                     f"high (`{Path(source).name}`); GE x cycles/word = GE total NanGate45 / "
                     "words/cycle, the area-time figure (smaller is better).")
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
    head = ["configuration", "GE NanGate45", "GE sky130", "FFs", "memory bits",
            "logic GE / SRAM GE (macros)", "depth", "Fmax 180nm", "UP5K LUT4", "UP5K Fmax",
            "HX8K Fmax", "authors' GE"]
    rows = []
    for name, r in results["cores"].items():
        t, f = r.get("timing") or {}, r.get("fpga") or {}
        up, hx = f.get("up5k") or {}, f.get("hx8k") or {}
        ge, theirs = r["area"]["nangate45"]["total_ge"], AUTHORS.get(r.get("core", name))
        rows.append([name, num(ge),
                     num(r["area"]["sky130"]["total_ge"]), str(r["ffs"]),
                     num(r["memories"]["bits"]),
                     f"{num(r['macros']['logic_ge'])} / {num(r['macros']['sram_ge'])}"
                     if r.get("macros") else "–", str(r["depth"]["gates"]),
                     num(t.get("fmax_mhz"), 0, " MHz"), num(up.get("lut4")),
                     num(up.get("fmax_mhz"), 1, " MHz"), num(hx.get("fmax_mhz"), 1, " MHz"),
                     f"{theirs['total_ge']:,} ({ge / theirs['total_ge']:.2f}x)" if theirs
                     else "–"])
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths)))
             for row in [head, ["-" * w for w in widths], *rows]]
    return "\n".join(lines + [
        "GE: area / NAND2 area by footprint ratios (flattened; NanGate45 headline, sky130 band); "
        "FFs include memory bits; macros: memories an SRAM compiler would make, the logic "
        "without them and the SRAM estimate (synth/macros.py);",
        f"authors' GE: the EBPC {AUTHORS_LABEL} (hw/ebpc/authors.py), ours as a multiple of it;",
        "depth: 2-input gates on the longest path; Fmax 180nm: OSU 0.18 um cells, OpenSTA; "
        "UP5K / HX8K: iCE40 after nextpnr."] + _area_time_console(results))


def _area_time_console(results):
    """Per EBPC core with measured words/cycle: one row per configuration and one for the
    authors' RTL, each data kind as ``words/cycle / GE x cycles per word``."""
    groups = {}
    for name, r in results["cores"].items():
        core = r.get("core", name)
        if core in AUTHORS and (r.get("throughput") or {}).get("words_per_cycle"):
            groups.setdefault(core, []).append((name, r["area"]["nangate45"]["total_ge"],
                                                r["throughput"]["words_per_cycle"]))
    lines = []
    for core, configs in groups.items():
        theirs = AUTHORS[core]
        configs.append((AUTHORS_LABEL, theirs["total_ge"], theirs["words_per_cycle"]))
        kinds = list(dict.fromkeys(k for _, _, wpc in configs for k in wpc))
        head = [f"{core}: words/cycle / GE x cycles/word", "GE", *kinds]
        rows = [[name, num(ge), *(f"{num(wpc.get(k), 3)} / {num(area_time(ge, wpc.get(k)))}"
                                  for k in kinds)] for name, ge, wpc in configs]
        widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
        lines += [""] + ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(row, widths)))
                         for row in [head, ["-" * w for w in widths], *rows]]
    if lines:
        lines.append("words/cycle: make bench (every valid / ready high); GE x cycles/word = GE / "
                     "words/cycle, the area-time figure (smaller is better).")
    return lines
