"""Delta reverse: decoded blocks in, their words out one per cycle."""

from amaranth.hdl import Const, Module, Mux, Signal
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
    pass_end : bool
        An ``end`` that finds the output register empty is shown on ``o`` combinationally
        from ``i`` (one cycle less per transfer, a longer ``ready`` path).

    Members
    -------
    i : In(stream.Signature(decoded_block_layout))
    o : Out(stream.Signature(decoded_word_layout))
        ``first`` on word 0 of every block.
    skip : In(1)
        Drop the rest of the block on ``i`` (the padding words after a transfer's N-th word):
        asserted by :class:`Merge` while it takes a word of that block from ``o``.

    Latency 1 cycle. Throughput one word per cycle, ``block_size`` cycles per block; the words
    of a block after a ``skip`` take no cycle. Backpressure: the block stays on ``i`` until its
    final word is taken (or skipped).
    """

    def __init__(self, params, pass_end=False):
        self._p = params
        self._pass_end = bool(pass_end)
        super().__init__({
            "i": In(stream.Signature(decoded_block_layout(params))),
            "o": Out(stream.Signature(decoded_word_layout(params))),
            "skip": In(1),
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

        port, bypass = self.o, Const(0)
        if self._pass_end:
            # an ``end`` that finds the register empty goes straight to ``o``
            port = stream.Signature(decoded_word_layout(p)).create()
            bypass = ~port.valid & self.i.valid & blk.end
            passed = Signal(decoded_word_layout(p))
            m.d.comb += [passed.end.eq(1), passed.error.eq(blk.error),
                         self.o.valid.eq(port.valid | bypass), port.ready.eq(self.o.ready),
                         self.o.payload.eq(Mux(port.valid, port.payload, passed))]
        out = OutputRegister(m, port, reset_less=True, name="word")
        final = blk.end | (index == p.block_size - 1)
        # index != 0: the word being taken belongs to the block on ``i``
        drop = self.skip & (index != 0)
        ready = (out.free & final) | drop
        m.d.comb += self.i.ready.eq(Mux(bypass, self.o.ready, ready) if self._pass_end else ready)
        with m.If(drop):
            m.d.sync += index.eq(0)
        with m.Elif(out.free & self.i.valid & ~bypass):
            out.emit(acc.eq(word), index.eq(Mux(final, 0, index + 1)),
                     data=word, end=blk.end, error=blk.error, first=index == 0)
        return m
