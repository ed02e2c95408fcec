"""The one preamble of every testbench module (``tb/*_tb.py``): the run it is imported for.

Inside a cocotb simulation started by :func:`tb.runner.run`, the core parameters come in the
environment variable ``DNNPRESS_PARAMS`` (JSON, over the core's defaults); a simulation without
it is an error. Imported anywhere else (pytest collecting the cocotb tests, ``tb.bench`` reading
the benches), the module gets the core's defaults in its :class:`Context`, so its declarations
(``CORE``, ``PARAM_SETS``, ``BENCH``, ...) and module-level constants need no simulator.
"""

import json
import os
import warnings
import zlib
from dataclasses import dataclass

import cocotb
from amaranth.hdl import UnusedElaboratable

from dnnpress import cores

__all__ = ["Context", "PARAMS_ENV"]

#: the environment variable that carries the core parameters into the simulation
PARAMS_ENV = "DNNPRESS_PARAMS"


@dataclass(frozen=True)
class Context:
    """One run of a testbench module: the core parameters and the top component they build.

    Members
    -------
    params : dict
        Parameter name -> value, every parameter of the core.
    component : amaranth.lib.wiring.Component
        The top component at ``params`` (the object the simulated Verilog was emitted from, so
        the harness reads its stream layouts).
    """

    params: dict
    component: object

    @classmethod
    def of(cls, core):
        """The run of ``core`` (a registered name or a :class:`dnnpress.cores.Core`)."""
        c = core if isinstance(core, cores.Core) else cores.core(core)
        if cocotb.is_simulation:
            if PARAMS_ENV not in os.environ:
                raise RuntimeError(f"dnnpress: error: {PARAMS_ENV} is not set; run the "
                                   f"testbench through tb.runner.run")
            params = json.loads(os.environ[PARAMS_ENV])
        else:
            params = c.defaults()
        # the component (and what it builds) is read for its ports, never elaborated here
        warnings.filterwarnings("ignore", category=UnusedElaboratable)
        return cls(params, c.component(**params))

    def seed_of(self, *parts):
        """A seed for ``parts`` (any repr-able values) at these parameters: the same parts give
        the same seed, other parameters another one."""
        return zlib.crc32(repr((self.params, parts)).encode())
