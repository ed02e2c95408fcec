"""Payload layouts shared by the EBPC stages (first field at the LSB)."""

from amaranth.lib import data

from golden.ebpc import ZNZ_RUN_BITS, EBPCParams

__all__ = ["EBPCParams", "word_layout", "block_layout", "ZNZ_CODE_BITS", "symbol_code_bits",
           "symbol_lanes", "item_bits"]

#: longest ZNZ output per input word: a pending zero run (0 + 4 bits) and a 1
ZNZ_CODE_BITS = 1 + ZNZ_RUN_BITS + 1


def word_layout(p):
    """A word and the ``last`` flag of its transfer."""
    return data.StructLayout({"data": p.word_bits, "last": 1})


def block_layout(p):
    """A BPC block: its base, its block_size - 1 deltas (word_bits + 1 bits each), ``last``."""
    return data.StructLayout({
        "base": p.word_bits,
        "deltas": data.ArrayLayout(p.word_bits + 1, p.block_size - 1),
        "last": 1,
    })


def symbol_code_bits(p):
    """Longest code of one DBX symbol: ``1`` + X, or ``000xx`` + position."""
    return max(1 + p.plane_bits, 5 + p.pos_bits, 3 + p.run_bits)


def symbol_lanes(p):
    """Elements (base or symbol codes) the symbol coder emits per cycle: enough to finish a block
    (base + word_bits + 1 symbols) in at most block_size cycles, and at least two."""
    return max(2, -(-(p.planes + 1) // p.block_size))


def item_bits(p):
    """Widest item of the symbol coder: ``symbol_lanes`` elements."""
    return symbol_lanes(p) * max(p.word_bits, symbol_code_bits(p))
