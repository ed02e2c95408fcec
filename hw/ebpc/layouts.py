"""Payload layouts shared by the EBPC stages (first field at the LSB)."""

from amaranth.lib import data

from golden.ebpc import ZNZ_RUN_BITS, EBPCParams

from ..params import Param

__all__ = ["EBPC_PARAMS", "SERIAL_PARAM", "EBPCParams", "word_layout", "block_layout",
           "ZNZ_CODE_BITS", "symbol_code_bits",
           "COUNT_BITS", "flag_layout", "lane_layout", "symbols_layout", "decoded_block_layout",
           "decoded_word_layout", "output_word_layout",
           "symbol_lanes", "item_bits"]

#: the parameters both EBPC tops take
EBPC_PARAMS = (Param("word_bits", (8, 16), "word width in bits (signed words)"),
               Param("block_size", (8, 16), "words per BPC block"))
#: the configuration switch of both EBPC tops
SERIAL_PARAM = Param("serial", (0, 1), "1: area-optimised (one symbol code per cycle; same "
                                       "streams, lower throughput on incompressible blocks)")

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
    """Elements (base or symbol codes) the fast symbol coder and decoder handle per cycle:
    enough to finish a block (base + word_bits + 1 symbols) in at most block_size cycles, and
    at least two. (The serial ones handle one.)"""
    return max(2, -(-(p.planes + 1) // p.block_size))


def item_bits(p, lanes):
    """Widest item of a symbol coder that sends ``lanes`` elements per item."""
    return lanes * max(p.word_bits, symbol_code_bits(p))


# ---- decoder payloads

#: width of the count port: N - 1 for N = 1 .. 2**24
COUNT_BITS = 24


def flag_layout():
    """A ZNZ flag: the word is non-zero; ``last`` on the N-th; ``error`` (on the last) if the ZNZ
    stream of the transfer was malformed."""
    return data.StructLayout({"nonzero": 1, "last": 1, "error": 1})


def lane_layout(p):
    """One decoded code: it covers ``k`` symbols (a zero run, or 1) of value ``x``; ``direct``
    sets the plane to zero instead (code 00001)."""
    return data.StructLayout({"valid": 1, "k": range(p.planes + 1), "x": p.plane_bits,
                              "direct": 1})


def symbols_layout(p, lanes):
    """What a symbol decoder of ``lanes`` lanes found in one cycle: maybe the block's base, up
    to ``lanes`` codes starting at symbol ``start``; ``done`` when they complete the block.
    ``end`` items carry no block: the BPC stream of the transfer is over (``error`` if it was
    malformed)."""
    return data.StructLayout({
        "base": p.word_bits, "has_base": 1, "start": range(p.planes + 1),
        "lanes": data.ArrayLayout(lane_layout(p), lanes),
        "done": 1, "end": 1, "error": 1,
    })


def decoded_block_layout(p):
    """A decoded block (base and deltas, as ``block_layout``), or with ``end`` the end of the
    transfer's BPC stream (``error`` if it was malformed)."""
    return data.StructLayout({
        "base": p.word_bits,
        "deltas": data.ArrayLayout(p.word_bits + 1, p.block_size - 1),
        "end": 1, "error": 1,
    })


def decoded_word_layout(p):
    """A decoded non-zero-path word, ``first`` on the first word of each block, or with ``end``
    the end of the transfer's BPC stream."""
    return data.StructLayout({"data": p.word_bits, "end": 1, "error": 1, "first": 1})


def output_word_layout(p):
    """Decoder output: a word, ``last`` on the N-th, ``error`` on the N-th if malformed."""
    return data.StructLayout({"data": p.word_bits, "last": 1, "error": 1})
