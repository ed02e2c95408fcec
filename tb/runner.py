"""One place that builds emitted Verilog with Icarus and runs a cocotb test module on it.

:func:`run` emits the core's Verilog for one parameter set into
``build/sim/<module>/<tag>/`` (one folder per pytest-xdist worker, so parallel runs never share
a build), compiles it with ``iverilog -g2005`` (the Icarus time-0 trap: under ``-g2012`` the
``always @*`` blocks Yosys writes stay X until an input changes) and runs the cocotb
``test_module`` with the parameters in the environment variable ``DNNPRESS_PARAMS`` (JSON).
It raises :class:`SimulationFailed` when no test ran or any failed.

Waveforms: ``WAVES=1`` in the environment writes an FST/VCD next to the results.
"""

import json
import os
from pathlib import Path

from cocotb_tools.runner import get_results, get_runner

from dnnpress import cores
from dnnpress.paths import BUILD

__all__ = ["SIM", "SimulationFailed", "run", "params_from_env"]

#: work folder of the simulations
SIM = BUILD / "sim"


class SimulationFailed(AssertionError):
    """A cocotb run in which no test ran, or some failed."""


def _tag(params):
    return "-".join(f"{k}{v}" for k, v in sorted(params.items())) or "default"


def run(core_name, test_module, params=None, select=None, extra_env=None, seed=1,
        quiet=False):
    """Emit ``core_name`` (a registered name or a :class:`dnnpress.cores.Core`) at ``params``
    (over its defaults), simulate ``test_module`` on it.

    ``select``: a regular expression on the cocotb test names (default: all); ``quiet`` sends
    the simulator's output to ``sim.log`` in the test folder instead of the terminal. Returns
    ``(tests, failed)`` counts; raises :class:`SimulationFailed` unless tests ran and all passed.
    """
    core = core_name if isinstance(core_name, cores.Core) else cores.core(core_name)
    values = {**core.defaults(), **(params or {})}
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    build_dir = SIM / core.module / f"{_tag(values)}-{worker}"
    verilog = cores.emit(core, values, build_dir)
    waves = os.environ.get("WAVES", "0") == "1"
    runner = get_runner("icarus")
    runner.build(sources=[verilog], hdl_toplevel=core.module, build_dir=build_dir,
                 build_args=["-g2005"], timescale=("1ns", "1ps"), waves=waves,
                 log_file=build_dir / "build.log" if quiet else None)
    test_dir = build_dir / "".join(c if c.isalnum() else "_" for c in select or "all")
    env = {"DNNPRESS_PARAMS": json.dumps(values), **(extra_env or {})}
    xml = runner.test(hdl_toplevel=core.module, test_module=test_module, test_filter=select,
                      build_dir=build_dir, test_dir=test_dir, extra_env=env, waves=waves,
                      seed=seed, timescale=("1ns", "1ps"),
                      log_file=test_dir / "sim.log" if quiet else None)
    tests, failed = get_results(Path(xml))
    if tests == 0:
        raise SimulationFailed(f"{test_module} on {core.module} {values}: no cocotb test ran "
                               f"(selected {select!r}); log in {test_dir}")
    if failed:
        where = test_dir / "sim.log" if quiet else "the log above"
        raise SimulationFailed(f"{test_module} on {core.module} {values}: {failed} of {tests} "
                               f"cocotb tests failed; see {where} and {xml}")
    return tests, failed


def params_from_env():
    """The core parameters :func:`run` passed to the cocotb module."""
    return json.loads(os.environ["DNNPRESS_PARAMS"])
