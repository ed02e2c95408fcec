"""EBPC compressor top: words in, ZNZ and BPC streams out."""

from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..bitpack import BitPacker
from ..bitpack import word_layout as packed_layout
from ..params import Param, parametrised
from .delta import Delta
from .layouts import EBPC_PARAMS, SERIAL_PARAM, ZNZ_CODE_BITS, EBPCParams, item_bits, word_layout
from .symbol_coder import SerialSymbolCoder, SymbolCoder
from .zero_run import ZeroRunCoder

__all__ = ["EBPCEncoder"]


@parametrised
class EBPCEncoder(wiring.Component):
    """EBPC compressor, bit-exact with ``golden.ebpc.encode``.

    Pipeline: :class:`ZeroRunCoder` splits the words into ZNZ codes (packed by a
    :class:`BitPacker` onto ``o_znz``) and non-zero words; :class:`Delta` forms blocks
    and their deltas; :class:`SymbolCoder` codes each block as a few items; a second
    :class:`BitPacker` packs them onto ``o_bpc``.

    ``serial=1`` selects the area-optimised stage: one symbol code per cycle with a narrower
    BPC packer (:class:`SerialSymbolCoder`); :class:`Delta` still fills the next block while
    one is coded. The streams are the same; a block is coded in ``word_bits + 2`` cycles or
    more, so throughput drops where blocks come faster (docs/synthesis.md). At ``bpc_words=2``
    a port word carries two stream words, the first in the high half, and ``half`` marks a
    final port word whose low half is not part of the stream.

    Members
    -------
    i_words : In(stream.Signature(StructLayout({"data": word_bits, "last": 1})))
        Signed words; ``last`` on the final word of a transfer (1..2**24 words).
    o_znz : Out(stream.Signature(StructLayout({"data": word_bits, "last": 1})))
        The ZNZ stream of each transfer, ``last`` on its final word.
    o_bpc : Out(stream.Signature(StructLayout({"data": bpc_words * word_bits, "last": 1
                                               [, "half": 1]})))
        The BPC stream of each transfer, ``last`` on its final word; nothing for a transfer whose
        words are all zero.

    Throughput: one input word per cycle while neither output port is the bottleneck (8-bit BPC
    port: up to 0.8 words/cycle on incompressible data, 10 bits per word); back-to-back transfers
    need no idle cycle. Latency: 3 cycles from a word to its ZNZ word (when that word fills),
    about 5 cycles from the last word of a block to its first BPC word. Backpressure on either
    output stalls the input once the internal buffers fill; ``valid`` never waits on ``ready``.

    Raises
    ------
    ValueError
        For a parameter out of range.
    """

    PARAMS = (*EBPC_PARAMS,
              Param("bpc_words", (1, 2), "BPC port width in words; 2 lifts the 0.8 word/cycle "
                                         "cap of incompressible data"),
              SERIAL_PARAM)

    def __init__(self, word_bits=8, block_size=8, bpc_words=1, serial=0):
        self._p = EBPCParams(word_bits, block_size)
        self._serial = bool(serial)
        self._bpc_bits = bpc_words * word_bits
        super().__init__({
            "i_words": In(stream.Signature(word_layout(self._p))),
            "o_znz": Out(stream.Signature(packed_layout(word_bits, word_bits))),
            "o_bpc": Out(stream.Signature(packed_layout(self._bpc_bits, word_bits))),
        })

    @property
    def params(self):
        return self._p

    @property
    def bpc_bits(self):
        return self._bpc_bits

    def elaborate(self, platform):
        m = Module()
        p = self._p
        m.submodules.zero_run = zero_run = ZeroRunCoder(p)
        m.submodules.znz_packer = znz_packer = BitPacker(ZNZ_CODE_BITS, p.word_bits)
        m.submodules.delta = delta = Delta(p)
        m.submodules.symbol_coder = coder = (SerialSymbolCoder if self._serial else SymbolCoder)(p)
        m.submodules.bpc_packer = bpc_packer = BitPacker(item_bits(p, coder.lanes),
                                                         self._bpc_bits, p.word_bits)
        wiring.connect(m, wiring.flipped(self.i_words), zero_run.i)
        wiring.connect(m, zero_run.o_znz, znz_packer.i)
        wiring.connect(m, znz_packer.o, wiring.flipped(self.o_znz))
        wiring.connect(m, zero_run.o_nz, delta.i)
        wiring.connect(m, delta.o, coder.i)
        wiring.connect(m, coder.o, bpc_packer.i)
        wiring.connect(m, bpc_packer.o, wiring.flipped(self.o_bpc))
        return m
