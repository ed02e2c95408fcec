"""The registry of cores that ``dnnpress emit`` can generate, with their parameters.

A core is named on the command line (``ebpc-encoder``), emitted as a Verilog module
(``ebpc_encoder``) and built by a factory that takes the validated parameters as keywords. The
factory is imported only when the core is built, so listing the cores needs no HDL import.
"""

import importlib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Param", "Core", "CORES", "core", "resolve", "build", "emit"]


@dataclass(frozen=True)
class Param:
    """An elaboration parameter: its name, default, allowed values and one line of meaning."""

    name: str
    default: int
    choices: tuple
    doc: str

    def parse(self, text):
        """The value of ``text`` for this parameter; ``ValueError`` saying what is allowed."""
        allowed = ", ".join(str(c) for c in self.choices)
        try:
            value = int(text, 0)
        except ValueError:
            raise ValueError(f"{self.name} must be one of {allowed}, not {text!r}") from None
        if value not in self.choices:
            raise ValueError(f"{self.name} must be one of {allowed}, not {value}")
        return value


@dataclass(frozen=True)
class Core:
    """A generatable core: CLI name, Verilog module name, factory ``"module:callable"``;
    ``variants``: parameter overrides that ``synth`` reports beside the defaults."""

    name: str
    module: str
    factory: str
    params: tuple
    doc: str
    variants: tuple = ()

    def defaults(self):
        return {p.name: p.default for p in self.params}


_EBPC_PARAMS = (
    Param("word_bits", 8, (8, 16), "word width in bits (signed words)"),
    Param("block_size", 8, (8, 16), "words per BPC block"),
)
_EBPC_SERIAL = Param("serial", 0, (0, 1), "1: area-optimised (one block register, one symbol "
                                          "code per cycle; same streams, lower throughput)")

#: every core that exists, by CLI name
CORES = {c.name: c for c in (
    Core("ebpc-encoder", "ebpc_encoder", "hw.ebpc.encoder:EBPCEncoder",
         _EBPC_PARAMS + (
             Param("bpc_words", 1, (1, 2), "BPC port width in words; 2 lifts the 0.8 word/cycle "
                                            "cap of incompressible data"),
             _EBPC_SERIAL),
         "EBPC compressor: words in, ZNZ and BPC streams out", ({"serial": 1},)),
    Core("ebpc-decoder", "ebpc_decoder", "hw.ebpc.decoder:EBPCDecoder",
         _EBPC_PARAMS + (_EBPC_SERIAL,),
         "EBPC decompressor: count, ZNZ and BPC streams in, words out", ({"serial": 1},)),
    Core("noc-weight-decoder", "noc_weight_decoder", "hw.noc.weight_decoder:NoCWeightDecoder",
         (Param("weight_bits", 16, tuple(range(8, 17)), "fixed-point weight width W"),
          Param("len_bits", 6, tuple(range(3, 9)), "run-length field width")),
         "NoC trend-run weight decoder: packed 32-bit stream in, one weight per cycle out"),
    Core("dict-decoder", "dict_decoder", "hw.dict.decoder:DictDecoder",
         (Param("G", 4, (1, 2, 4, 8), "weights per symbol (output lanes)"),
          Param("B_max", 4, tuple(range(1, 9)), "dictionary of up to 2**B_max symbols"),
          Param("R", 4, tuple(range(0, 9)), "widest run field accepted (0: no runs)")),
         "HC-P dictionary decoder: 32-bit stream in, G int8 weights per cycle out"),
    Core("cluster-cache", "cluster_cache", "hw.cluster.cache:ClusterIndexCache",
         (Param("line_bytes", 16, (4, 8, 16, 32), "bytes per line (entries per line)"),
          Param("ways", 4, (1, 2, 4, 8), "associativity"),
          Param("sets", 16, tuple(1 << i for i in range(9)), "sets (power of two)"),
          Param("addr_width", 16, tuple(range(8, 33)), "line-address width"),
          Param("policy", 0, (0, 1, 2), "0 importance-pinned with bypass, 1 LRU, "
                                        "2 evict-least-important"),
          Param("group_bits", 2, (1, 2, 3), "importance-group width")),
         "Cluster-index cache: line requests in, lines out, backing-memory port"),
    Core("cluster-entry-decoder", "cluster_entry_decoder",
         "hw.cluster.entry_decoder:ClusterEntryDecoder",
         (Param("line_bytes", 16, (4, 8, 16, 32), "entries per input line"),
          Param("position_bits", 16, tuple(range(8, 25)), "weight-position width"),
          Param("group_bits", 2, (1, 2, 3), "importance-group width")),
         "Cluster entry decoder + centroid lookup: lines in, {position, value} out"),
)}


def core(name):
    """The core called ``name``; ``ValueError`` listing the known ones."""
    if name not in CORES:
        raise ValueError(f"unknown core {name!r}; cores: {', '.join(CORES)}")
    return CORES[name]


def resolve(c, settings):
    """Parameters of core ``c`` from ``NAME=VALUE`` strings over its defaults."""
    values = c.defaults()
    by_name = {p.name: p for p in c.params}
    for item in settings:
        name, sep, text = item.partition("=")
        if not sep:
            raise ValueError(f"--set takes NAME=VALUE, not {item!r}")
        if name not in by_name:
            raise ValueError(f"{c.name} has no parameter {name!r}; parameters: "
                             f"{', '.join(by_name)}")
        values[name] = by_name[name].parse(text)
    return values


def build(c, params):
    """Elaborate-ready Amaranth component of core ``c``."""
    module, _, attr = c.factory.partition(":")
    return getattr(importlib.import_module(module), attr)(**params)


def emit(c, params, outdir):
    """Write ``outdir/<module>.v`` for core ``c`` with ``params``; return its path."""
    from amaranth.back import verilog

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    text = verilog.convert(build(c, params), name=c.module, emit_src=False)
    path = outdir / f"{c.module}.v"
    path.write_text(text)
    return path
