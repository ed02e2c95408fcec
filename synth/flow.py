"""Area in gate equivalents, flip-flops, memories and logic depth of a core, with one Yosys run.

The core's Verilog is read, memories are counted (``memory -nomap``), and a generic ``synth``
keeps the hierarchy. From that one netlist, for each area library of :mod:`synth.liberty`:

- hierarchical: ``dfflegalize`` (synchronous reset and enables become logic in front of a plain
  D flip-flop), ``dfflibmap``, ``abc -liberty``: one row per pipeline stage;
- flattened: the same after ``flatten``: the total (logic may merge across stage boundaries).

Then the technology-neutral logic depth (``abc -g`` onto 2-input gates and muxes, ``ltp -noff``)
and, when asked, the netlist on the OSU 0.18 um library for :mod:`synth.timing`.
"""

import json
import re
import subprocess
from pathlib import Path

from . import liberty

__all__ = ["FlowError", "GATES", "run_yosys", "script", "run", "parse_area", "parse_depth",
           "parse_memories"]

#: gate set of the logic-depth mapping
GATES = "AND,NAND,OR,NOR,XOR,XNOR,MUX"
#: ABC script for the 180 nm netlist: delay-driven mapping, then buffering and gate sizing
_ABC_TIMED = ("+strash;&get,-n;&fraig,-x;&put;scorr;dc2;dretime;strash;&get,-n;&dch,-f;"
              "&nf,-D,{d};&put;buffer,-p;upsize,-D,{d};dnsize,-D,{d};stime,-p")
#: delay target of that mapping, ps (below what 180 nm reaches: ABC maps for minimum delay)
DELAY_TARGET_PS = 2000
_LEGAL_FF = "dfflegalize -cell $_DFF_P_ x"


class FlowError(RuntimeError):
    """A tool of the flow failed; the message says which, why, and where its log is."""


def run_yosys(yosys, ys, log, cwd, timeout=1800):
    """Run Yosys script ``ys`` with log ``log``; ``FlowError`` with its last error line."""
    proc = subprocess.run([*yosys, "-q", "-l", str(log), "-s", str(ys)], cwd=cwd, timeout=timeout,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        text = Path(log).read_text(errors="replace") if Path(log).exists() else proc.stderr
        errors = [line for line in text.splitlines() if "ERROR" in line] or text.splitlines()[-1:]
        raise FlowError(f"{yosys[0]} failed: {errors[0].strip() if errors else '?'} (log: {log})")


def _mapped(lib, flat):
    return ["design -load generic", *(["flatten", "opt -fast"] if flat else []), _LEGAL_FF,
            f"dfflibmap -liberty {lib}", f"abc -liberty {lib}", "opt_clean"]


def script(verilog, module, libs, osu=None):
    """The Yosys script: ``libs`` maps library name -> area Liberty; ``osu`` the 180 nm one."""
    lines = [f"read_verilog {verilog}", f"hierarchy -check -top {module}", "proc",
             "setattr -unset init w:*", "memory -nomap", "tee -q -o memories.il dump t:$mem_v2",
             f"synth -top {module}", "setattr -unset init w:*", "design -save generic"]
    for name, lib in libs.items():
        for kind in ("hier", "flat"):
            lines += _mapped(lib, kind == "flat") + [
                f"tee -q -o area_{name}_{kind}.json stat -json",
                f"tee -q -o area_{name}_{kind}.txt stat -liberty {lib}"]
    lines += ["design -load generic", "flatten", "opt -fast", _LEGAL_FF, f"abc -g {GATES}",
              "opt_clean", "tee -q -o depth.txt ltp -noff"]
    if osu is not None:
        lines += ["design -load generic", _LEGAL_FF, f"dfflibmap -liberty {osu}",
                  "rename -enumerate -pattern ff_% t:DFF*", "flatten", "opt -fast",
                  f"abc -liberty {osu} -script {_ABC_TIMED.format(d=DELAY_TARGET_PS)}",
                  "opt_clean", "setundef -zero", "splitnets -ports", "opt_clean -purge",
                  "autoname", f"tee -q -o osu_area.txt stat -liberty {osu}",
                  "write_verilog -noattr -noexpr -nohex -nodec osu_netlist.v"]
    return "\n".join(lines) + "\n"


def _inclusive(modules, name, table, unmapped):
    """(cells, flip-flops, area) of module ``name`` with its submodules."""
    cells = ffs = 0
    area = 0.0
    for kind, n in modules[name]["num_cells_by_type"].items():
        if kind in modules:
            sub = _inclusive(modules, kind, table, unmapped)
            cells, ffs, area = cells + n * sub[0], ffs + n * sub[1], area + n * sub[2]
        else:
            cells += n
            ffs += n if kind == "DFF" else 0
            if kind in table:
                area += n * table[kind]
            else:
                unmapped[kind] = unmapped.get(kind, 0) + n
    return cells, ffs, area


def _row(cells, ffs, area):
    return {"cells": cells, "ffs": ffs, "ge": round(area, 2)}


def parse_area(path, module, library):
    """Totals and per-stage rows of a ``stat -json`` file, areas in GE of ``library``.

    Stages are the submodule instances of ``module`` (named without the ``<module>.`` prefix);
    the top module's own cells, if any, are the row ``(top)``. Cell types missing from the
    library are listed under ``unmapped``.
    """
    table = liberty.areas(library)
    modules = {k.lstrip("\\"): v for k, v in json.loads(Path(path).read_text())["modules"].items()}
    unmapped = {}
    total = _row(*_inclusive(modules, module, table, unmapped))
    stages, own = {}, {"num_cells_by_type": {}}
    for kind, n in modules[module]["num_cells_by_type"].items():
        if kind in modules:
            cells, ffs, area = _inclusive(modules, kind, table, {})
            name = kind.removeprefix(f"{module}.")
            stages[name] = _row(n * cells, n * ffs, n * area)
        else:
            own["num_cells_by_type"][kind] = n
    if own["num_cells_by_type"]:
        stages["(top)"] = _row(*_inclusive({"(top)": own}, "(top)", table, {}))
    return {**total, "stages": stages, "unmapped": unmapped}


def parse_depth(path):
    """Longest path in gates from ``ltp -noff``: ``{"gates", "from", "to"}``."""
    text = Path(path).read_text()
    head = re.search(r"Longest topological path in \S+ \(length=(\d+)\)", text)
    if head is None:
        return {"gates": 0, "from": None, "to": None}
    nodes = [n.lstrip("\\") for n in re.findall(r"^\s+(?:\d+|ff): (\S+)", text[head.end():],
                                                   re.M)]
    return {"gates": int(head.group(1)), "from": nodes[0] if nodes else None,
            "to": nodes[-1] if nodes else None}


def parse_memories(path):
    """Memories left by ``memory -nomap`` (RTLIL dump): ``{"count", "bits", "list"}``."""
    text = Path(path).read_text() if Path(path).exists() else ""
    found = []
    for block in re.findall(r"^\s*cell \$mem\S* (\S+)\n(.*?)^\s*end", text, re.M | re.S):
        params = dict(re.findall(r"parameter \\(\w+) (\S+)", block[1]))
        width, size = int(params.get("WIDTH", 0)), int(params.get("SIZE", 0))
        found.append({"name": params.get("MEMID", block[0]).strip('"\\'), "width": width,
                      "depth": size, "bits": width * size})
    return {"count": len(found), "bits": sum(m["bits"] for m in found), "list": found}


def run(yosys, verilog, module, workdir, osu=None):
    """Run the area / depth script in ``workdir``; return the parsed figures.

    Returns ``{"area": {library: parse_area(...) + flat totals}, "ffs", "memories", "depth",
    "osu_netlist"}``; ``osu_netlist`` is ``None`` unless ``osu`` (a Liberty path) was given.
    """
    workdir = Path(workdir)
    libs = {name: liberty.write(name, workdir.parent / "lib") for name in liberty.LIBRARIES}
    ys = workdir / "area.ys"
    ys.write_text(script(Path(verilog).resolve(), module, {n: p.resolve() for n, p in
                                                            libs.items()}, osu))
    run_yosys(yosys, ys, workdir / "area.log", workdir)
    area = {}
    for name in libs:
        hier = parse_area(workdir / f"area_{name}_hier.json", module, name)
        flat = parse_area(workdir / f"area_{name}_flat.json", module, name)
        area[name] = {"total_ge": flat["ge"], "cells": flat["cells"], "ffs": flat["ffs"],
                      "hier_total_ge": hier["ge"], "stages": hier["stages"],
                      "unmapped": {**hier["unmapped"], **flat["unmapped"]}}
    first = next(iter(area.values()))
    return {"area": area, "ffs": first["ffs"], "memories": parse_memories(
        workdir / "memories.il"), "depth": parse_depth(workdir / "depth.txt"),
        "osu_netlist": workdir / "osu_netlist.v" if osu is not None else None}
