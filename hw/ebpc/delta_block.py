"""Single-buffered delta transform: non-zero words in, BPC blocks out, one block register."""

from amaranth.hdl import Module, Signal, signed

from ..stream import OutputRegister
from .delta_planes import DeltaTransform

__all__ = ["DeltaBlock"]


class DeltaBlock(DeltaTransform):
    """The area-optimised counterpart of :class:`DeltaTransform` (golden: ``nonzero_blocks``,
    ``block_deltas``): the deltas are written straight into the output block register, so there
    is one block of storage instead of two.

    Word 0 of a block is its base; word i > 0 gives d_i = x_i - x_(i-1). A word with ``last``
    closes its block early (the next delta is -x, the rest 0).

    Parameters
    ----------
    params : EBPCParams

    Members
    -------
    i : In(stream.Signature(word_layout))
    o : Out(stream.Signature(block_layout))

    The block register and the previous word have no reset: only ``o.valid`` and the word index
    are reset, so nothing stale leaves after a reset.

    Latency: 1 cycle from the word that completes a block. Throughput: one word per cycle while
    the block fills; no word is accepted while a complete block waits on ``o`` (``i.ready`` is
    ``~o.valid | o.ready``), so the next block starts filling in the cycle its predecessor is
    taken.
    """

    def elaborate(self, platform):
        m = Module()
        p = self._p
        n = p.block_size
        w = self.i.payload
        x = w.data.as_signed()
        # data registers without reset (only ``valid`` and the index need one)
        out = OutputRegister(m, self.o, reset_less=True, name="blk")
        blk = out.payload

        index = Signal(range(n))
        prev = Signal(signed(p.word_bits), reset_less=True)
        closes = w.last | (index == n - 1)
        m.d.comb += self.i.ready.eq(out.free)
        take = self.i.valid & self.i.ready

        with m.If(take & closes):
            out.emit()
        with m.If(take):
            m.d.sync += [prev.eq(x), index.eq(index + 1)]
            with m.If(index == 0):
                m.d.sync += blk.base.eq(w.data)
            for j in range(1, n):                   # delta d_j sits in deltas[j - 1]
                with m.If(index == j):
                    m.d.sync += blk.deltas[j - 1].eq(x - prev)
                with m.If(closes & (index + 1 == j)):   # first padding word: 0 - x
                    m.d.sync += blk.deltas[j - 1].eq(-x)
                with m.If(closes & (index + 1 < j)):
                    m.d.sync += blk.deltas[j - 1].eq(0)
            with m.If(closes):
                m.d.sync += [index.eq(0), blk.last.eq(w.last)]
        return m
