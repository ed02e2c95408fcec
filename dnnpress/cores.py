"""The registry of cores that ``dnnpress emit`` can generate: one line per core.

A core is named on the command line (``ebpc-encoder``), emitted as a Verilog module
(``ebpc_encoder``) and built by its top component, which declares its parameter space
(``PARAMS``, :mod:`hw.params`) and validates it; this module only names the component and the
configurations the synthesis report shows beside the defaults.
"""

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

from hw import params

__all__ = ["Core", "CORES", "core", "resolve", "build", "module", "emit"]


@dataclass(frozen=True)
class Core:
    """A generatable core: CLI ``name`` and its top component ``factory`` (``"module:Class"``);
    ``variants``: parameter overrides that ``synth`` reports beside the defaults.

    Everything else is the component's: its parameters (:attr:`params`, from the class's
    ``PARAMS``, see :mod:`hw.params`) and the one line of :attr:`doc` (the first line of its
    module's docstring). The Verilog module is ``name`` with ``_`` for ``-``.
    """

    name: str
    factory: str
    variants: tuple = ()

    @property
    def module(self):
        """The emitted Verilog module's name."""
        return self.name.replace("-", "_")

    @property
    def component(self):
        """The top component class (imported on first use)."""
        module, _, attr = self.factory.partition(":")
        return getattr(importlib.import_module(module), attr)

    @property
    def params(self):
        """The :class:`hw.params.Param` of the component, defaults included."""
        return getattr(self.component, "PARAMS", ())

    @property
    def doc(self):
        """One line: the first line of the component's module docstring."""
        text = sys.modules[self.component.__module__].__doc__ or self.name
        return text.strip().splitlines()[0].rstrip(".")

    def defaults(self):
        return {p.name: p.default for p in self.params}


#: every core that exists, by CLI name: one line each
CORES = {c.name: c for c in (
    Core("ebpc-encoder", "hw.ebpc.encoder:EBPCEncoder", ({"serial": 1},)),
    Core("ebpc-decoder", "hw.ebpc.decoder:EBPCDecoder", ({"serial": 1},)),
    Core("noc-weight-decoder", "hw.noc.weight_decoder:NoCWeightDecoder"),
    Core("dict-decoder", "hw.dict.decoder:DictDecoder"),
    Core("cluster-cache", "hw.cluster.cache:ClusterIndexCache"),
    Core("cluster-entry-decoder", "hw.cluster.entry_decoder:ClusterEntryDecoder"),
)}


def core(name):
    """The core called ``name``; ``ValueError`` listing the known ones."""
    if name not in CORES:
        raise ValueError(f"unknown core {name!r}; cores: {', '.join(CORES)}")
    return CORES[name]


def resolve(c, settings):
    """Parameters of core ``c`` from ``NAME=VALUE`` strings over its defaults (each name at most
    once, values as decimal integers); ``ValueError`` saying what is allowed."""
    return params.parse(c.params, settings, owner=c.name)


def build(c, values, axis=False):
    """Elaborate-ready Amaranth component of core ``c`` at parameters ``values``; with ``axis``,
    its AXI4-Stream top (:class:`hw.axis.AXIStreamTop`)."""
    component = c.component(**values)
    if axis:
        from hw.axis import AXIStreamTop

        return AXIStreamTop(component)
    return component


def module(c, axis=False):
    """The Verilog module name of core ``c`` (``<module>_axis`` for its AXI4-Stream top)."""
    return f"{c.module}_axis" if axis else c.module


def emit(c, values, outdir, axis=False):
    """Write ``outdir/<module>.v`` (``<module>_axis.v`` with ``axis``) for core ``c`` at
    parameters ``values``, headed by the comment of :func:`dnnpress.portdoc.header`; return its
    path."""
    from amaranth.back import verilog

    from .portdoc import header

    name = module(c, axis)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    top = build(c, values, axis)
    text = verilog.convert(top, name=name, emit_src=False)
    path = outdir / f"{name}.v"
    path.write_text(header(c, values, top.core if axis else top, axis) + text)
    return path
