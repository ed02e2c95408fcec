"""Delta reverse: decoded blocks in, their words out one per cycle."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..stream import OutputRegister
from .layouts import decoded_block_layout, decoded_word_layout

__all__ = ["DeltaReverse"]


class DeltaReverse(wiring.Component):
    """x_0 = base, x_i = x_(i-1) + d_i in ``word_bits``-bit wrap-around (golden:
    ``words_from_deltas``), one word per cycle; ``end`` items pass through as one item.

    Parameters
    ----------
    params : EBPCParams

    Members
    -------
    i : In(stream.Signature(decoded_block_layout))
    o : Out(stream.Signature(decoded_word_layout))

    Latency 1 cycle. Throughput one word per cycle, ``block_size`` cycles per block (the padding
    words of a transfer's final block included). Backpressure: the block stays on ``i`` until
    its final word is taken.
    """

    def __init__(self, params):
        self._p = params
        super().__init__({
            "i": In(stream.Signature(decoded_block_layout(params))),
            "o": Out(stream.Signature(decoded_word_layout(params))),
        })

    def elaborate(self, platform):
        m = Module()
        p = self._p
        blk = self.i.payload
        index = Signal(range(p.block_size))
        acc = Signal(p.word_bits, reset_less=True)     # written by word 0 of every block

        word = Signal(p.word_bits)
        with m.Switch(index):
            with m.Case(0):
                m.d.comb += word.eq(blk.base)
            for i in range(1, p.block_size):
                with m.Case(i):
                    m.d.comb += word.eq(acc + blk.deltas[i - 1])

        out = OutputRegister(m, self.o, reset_less=True, name="word")
        final = blk.end | (index == p.block_size - 1)
        m.d.comb += self.i.ready.eq(out.free & final)
        with m.If(out.free & self.i.valid):
            out.emit(acc.eq(word), index.eq(Mux(final, 0, index + 1)),
                     data=word, end=blk.end, error=blk.error)
        return m
