"""EBPC decompressor top: count, ZNZ and BPC streams in, words out."""

from amaranth.hdl import Module, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..bitpack import word_layout as packed_layout
from ..bitunpack import BitUnpacker
from ..params import parametrised
from .delta_reverse import DeltaReverse
from .layouts import COUNT_BITS, EBPC_PARAMS, SERIAL_PARAM, EBPCParams, output_word_layout
from .merge import Merge
from .plane_buffer import PlaneBuffer
from .symbol_decoder import SerialSymbolDecoder, SymbolDecoder, symbol_window
from .znz_decoder import ZNZ_WINDOW, ZnzDecoder

__all__ = ["EBPCDecoder"]


@parametrised
class EBPCDecoder(wiring.Component):
    """EBPC decompressor, bit-exact with ``golden.ebpc.decode``.

    Pipeline: ZNZ words -> :class:`BitUnpacker` -> :class:`ZnzDecoder` (flags); BPC words ->
    :class:`BitUnpacker` -> :class:`SymbolDecoder` -> :class:`PlaneBuffer` ->
    :class:`DeltaReverse` (non-zero words); :class:`Merge` lays the words over the flags.

    ``serial=1`` selects the area-optimised stage: one symbol code per cycle with a narrower
    BPC unpacker (:class:`SerialSymbolDecoder`, its output not registered) in front of a
    one-lane :class:`PlaneBuffer`, which still collects the next block while the previous one
    is emptied. Same streams, about the same throughput on 8-bit words (docs/synthesis.md).

    Members
    -------
    i_count : In(stream.Signature(unsigned(24)))
        N - 1 for each transfer (1 <= N <= 2**24).
    i_znz : In(stream.Signature(StructLayout({"data": word_bits, "last": 1})))
        The transfer's ZNZ stream, ``last`` on its final word.
    i_bpc : In(stream.Signature(StructLayout({"data": word_bits, "last": 1})))
        The transfer's BPC stream, ``last`` on its final word; none at all for a transfer whose
        words are all zero.
    o_words : Out(stream.Signature(StructLayout({"data": word_bits, "last": 1, "error": 1})))
        Exactly N words per transfer, ``last`` on the N-th. ``error`` on the N-th word flags a
        malformed transfer (a stream too short, a zero run past N or past its block, a position
        outside the plane, words after the needed ones); missing words are 0. Both input
        streams are drained up to their ``last``, and the next transfer decodes normally.

    Throughput: one word per cycle while the BPC input is not the bottleneck (8-bit port: up to
    0.8 words/cycle on incompressible data), less a few cycles per transfer (the count, the
    padding words of the final block). Backpressure on ``o_words`` stalls the inputs once the
    buffers fill. No combinational path from an input to an output ``valid``.

    Raises
    ------
    ValueError
        For a parameter out of range.
    """

    PARAMS = (*EBPC_PARAMS, SERIAL_PARAM)

    def __init__(self, word_bits=8, block_size=8, serial=0):
        self._p = EBPCParams(word_bits, block_size)
        self._serial = bool(serial)
        stream_in = packed_layout(word_bits, word_bits)
        super().__init__({
            "i_count": In(stream.Signature(unsigned(COUNT_BITS))),
            "i_znz": In(stream.Signature(stream_in)),
            "i_bpc": In(stream.Signature(stream_in)),
            "o_words": Out(stream.Signature(output_word_layout(self._p))),
        })

    @property
    def params(self):
        return self._p

    def elaborate(self, platform):
        m = Module()
        p = self._p
        symbols = (SerialSymbolDecoder if self._serial else SymbolDecoder)(p)
        width = symbol_window(p, symbols.lanes)
        m.submodules.znz_unpacker = znz_unpacker = BitUnpacker(p.word_bits, ZNZ_WINDOW,
                                                              ZNZ_WINDOW)
        m.submodules.znz_decoder = znz = ZnzDecoder(p, early_end=self._serial)
        m.submodules.bpc_unpacker = bpc_unpacker = BitUnpacker(p.word_bits, width, width)
        m.submodules.symbol_decoder = symbols
        m.submodules.plane_buffer = planes = PlaneBuffer(p, symbols.lanes, hold_end=self._serial)
        m.submodules.delta_reverse = reverse = DeltaReverse(p, pass_end=self._serial)
        m.submodules.merge = merge = Merge(p)

        wiring.connect(m, wiring.flipped(self.i_count), znz.i_count)
        wiring.connect(m, wiring.flipped(self.i_znz), znz_unpacker.i)
        wiring.connect(m, znz_unpacker.o, znz.window)
        wiring.connect(m, wiring.flipped(self.i_bpc), bpc_unpacker.i)
        wiring.connect(m, bpc_unpacker.o, symbols.window)
        wiring.connect(m, symbols.o, planes.i)
        wiring.connect(m, planes.o, reverse.i)
        wiring.connect(m, znz.o, merge.i_flags)
        wiring.connect(m, reverse.o, merge.i_words)
        m.d.comb += reverse.skip.eq(merge.skip)
        wiring.connect(m, merge.o, wiring.flipped(self.o_words))
        return m
