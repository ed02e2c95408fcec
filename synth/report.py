"""Reports of the synthesis flow: ``synth.json``, the Markdown tables and the console summary.

Where a core is one of the EBPC paper's (Cavigelli et al., "EBPC: Extended Bit-Plane Compression
for Deep Neural Network Inference and Training Accelerators", IEEE JETCAS 2019, Table II: UMC
65 nm, Synopsys Design Compiler, 600 MHz), its figures stand beside ours, grouped through
:data:`PAPER_ROWS`. The mapping is approximate: the two designs cut the pipeline differently.
"""

import json
from pathlib import Path

__all__ = ["PAPER", "PAPER_ROWS", "write_json", "render_markdown", "console_table"]

#: the paper's Table II, GE; rows that do not add up to the total are not itemised there
PAPER = {
    "ebpc-encoder": {"total": 2833, "rows": {"zero-RLE": 476, "delta & DBX": 735,
                                             "depth-1 FIFO": 605, "DBP/DBX encoder": 335,
                                             "packer": 300}},
    "ebpc-decoder": {"total": 3007, "rows": {"unpacker": 647, "symbol decoder": 313,
                                             "buffer": 1109, "delta reverse": 249,
                                             "zero-RLE": 564}},
}
_PAPER_SOURCE = "EBPC paper, Table II (UMC 65 nm, Synopsys DC, 600 MHz)"
_CODER = ("delta & DBX", "depth-1 FIFO", "DBP/DBX encoder")

#: our stage -> the paper rows it corresponds to (approximately); stages sharing rows are summed.
#: The order is the pipeline's, and the tables follow it.
PAPER_ROWS = {
    "ebpc-encoder": {"zero_run": ("zero-RLE",), "znz_packer": ("packer",), "delta": _CODER,
                     "symbol_coder": _CODER, "bpc_packer": ("packer",)},
    "ebpc-decoder": {"znz_unpacker": ("unpacker",), "znz_decoder": ("zero-RLE",),
                     "bpc_unpacker": ("unpacker",), "symbol_decoder": ("symbol decoder",),
                     "plane_buffer": ("buffer",), "delta_reverse": ("delta reverse",),
                     "merge": ("zero-RLE",)},
}


def _ordered(name, stages):
    """``stages`` items in pipeline order where known (:data:`PAPER_ROWS`), the rest sorted."""
    known = list(PAPER_ROWS.get(name, {}))
    return sorted(stages.items(), key=lambda kv: (kv[0] not in known,
                                                  known.index(kv[0]) if kv[0] in known else 0,
                                                  kv[0]))


def write_json(results, path):
    """Write ``results`` (``{"cores": {...}, ...}``) to ``path`` as indented JSON."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return path


def _num(value, digits=0, unit=""):
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
        out.append([label, _num(paper_ge), ", ".join(s for s, _ in members), _num(ours)])
    rest = paper["total"] - sum(paper["rows"].values())
    out.append(["(not itemised)", _num(rest), "", ""])
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
    rows = [[f"`{s}`", _num(f["ge"]), _num(sky["stages"].get(s, {}).get("ge")), f["ffs"],
             _num(f["cells"])] for s, f in _ordered(core, n45["stages"])]
    rows.append(["sum of stages (hierarchical)", _num(n45["hier_total_ge"]),
                 _num(sky["hier_total_ge"]), "", ""])
    rows.append(["**total (flattened)**", f"**{n45['total_ge']:,.0f}**",
                 f"**{sky['total_ge']:,.0f}**", r["ffs"], _num(n45["cells"])])
    lines += _table(["stage", "GE NanGate45", "GE sky130", "FFs", "cells"], rows) + [""]
    depth, mem = r["depth"], r["memories"]
    lines.append(f"- Logic depth: {depth['gates']} gates (2-input gates and muxes, "
                 f"`{depth['from']}` to `{depth['to']}`).")
    lines.append(f"- Memories: {mem['bits']} bits in {mem['count']} memories" +
                 (" (mapped to flip-flops, included above)." if mem["count"] else "."))
    t = r.get("timing")
    if t and "fmax_mhz" in t:
        lines.append(f"- {t['library']}: critical path {t['critical_path_ns']:.2f} ns, "
                     f"Fmax {_num(t['fmax_mhz'])} MHz ({t['gates_on_path']} gates, "
                     f"{t['from_stage']} to {t['to_stage']}); "
                     f"{_num(t['area_ge_osu018'])} GE in OSU cells.")
    elif t:
        lines.append("- 180 nm timing: " + (f"skipped ({t['skipped']})" if "skipped" in t
                                              else f"failed: {t.get('error')}"))
    f = r.get("fpga")
    if f and "up5k" in f:
        lines += ["", *_table(["iCE40", "LUT4", "FFs", "carry", "BRAM", "LCs (wrapped)",
                               "Fmax MHz", "path levels"],
                              [[d.upper(), _num(v["lut4"]), v["ffs"], v["carry"], v["bram_4k"],
                                _num(v.get("lc_used")), _num(v.get("fmax_mhz"), 1),
                                _num(v.get("path_levels"))] for d, v in f.items()])]
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
    rows = [row(f"GE `{s}`", [_num(r["area"]["nangate45"]["stages"].get(s, {}).get("ge"))
                              for r in rs]) for s in stages]
    rows.append(row("**GE total NanGate45**", [f"**{_num(r['area']['nangate45']['total_ge'])}**"
                                                for r in rs],
                    f"**{paper['total']:,}**" if paper else ""))
    rows.append(row("GE total sky130", [_num(r["area"]["sky130"]["total_ge"]) for r in rs]))
    rows.append(row("flip-flops", [str(r["ffs"]) for r in rs]))
    rows.append(row("Fmax 180 nm (MHz)", [_num((r.get("timing") or {}).get("fmax_mhz"))
                                          for r in rs], "600 (65 nm)" if paper else ""))
    measured = [(r.get("throughput") or {}).get("words_per_cycle") or {} for r in rs]
    kinds = list(dict.fromkeys(kind for wpc in measured for kind in wpc))
    authors = next((r["throughput"]["authors_rtl"] for r in rs if r.get("throughput")), {})
    for kind in kinds:
        rows.append(row(f"words/cycle, {kind}", [_num(wpc.get(kind), 3) for wpc in measured],
                        _num(authors.get(kind), 3)))
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
    section per core one level below; the README can embed it."""
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
    return "\n".join(lines)


def console_table(results):
    """The compact per-core summary printed by :func:`synth.main`."""
    head = ["core", "GE nangate45", "GE sky130", "FFs", "depth", "180nm Fmax", "UP5K LUT",
            "UP5K Fmax", "HX8K Fmax"]
    rows = [head]
    for name, r in results["cores"].items():
        t, f = r.get("timing") or {}, r.get("fpga") or {}
        up, hx = f.get("up5k") or {}, f.get("hx8k") or {}
        rows.append([name, _num(r["area"]["nangate45"]["total_ge"]),
                     _num(r["area"]["sky130"]["total_ge"]), str(r["ffs"]),
                     str(r["depth"]["gates"]), _num(t.get("fmax_mhz"), 0, " MHz"),
                     _num(up.get("lut4")), _num(up.get("fmax_mhz"), 1, " MHz"),
                     _num(hx.get("fmax_mhz"), 1, " MHz")])
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(row, widths))) for row in rows)
