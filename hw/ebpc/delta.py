"""Delta transform: non-zero words in, BPC blocks (base + exact deltas) out; fast and serial."""

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ..stream import OutputRegister
from .layouts import block_layout, word_layout

__all__ = ["Delta", "SerialDelta"]


class Delta(wiring.Component):
    """Group non-zero words into blocks and compute their deltas (golden: ``nonzero_blocks``,
    ``block_deltas``).

    Word 0 of a block is its base; word i > 0 gives d_i = x_i - x_(i-1) on ``word_bits + 1`` bits.
    A word with ``last`` closes its block early: the missing words are zero values, so the next
    delta is -x and the rest are 0. The bit-planes of a block are its deltas read bit by bit, so
    the next stage reads them from this layout with wiring only.

    Parameters
    ----------
    params : EBPCParams

    Members
    -------
    i : In(stream.Signature(word_layout))
        Non-zero words; ``last`` on the last one of a transfer.
    o : Out(stream.Signature(block_layout))
        Blocks; ``last`` on the last block of a transfer.

    Latency: 1 cycle from the word that completes a block. Throughput: one word per cycle.
    Backpressure: a word that would close a block waits (``i.ready`` low) while the previous
    block still waits on ``o``; other words are accepted. ``i.ready`` depends on ``i.payload``.
    """

    def __init__(self, params):
        self._p = params
        super().__init__({
            "i": In(stream.Signature(word_layout(params))),
            "o": Out(stream.Signature(block_layout(params))),
        })

    def elaborate(self, platform):
        m = Module()
        p = self._p
        n = p.block_size
        w = self.i.payload
        x = w.data.as_signed()

        index = Signal(range(n))
        # data registers without reset: each is written before it is read in a block
        base = Signal(p.word_bits, reset_less=True)
        prev = Signal(signed(p.word_bits), reset_less=True)
        # d_1 .. d_(n-2) wait here; d_(n-1) comes with the word that closes the block
        deltas = Signal(data.ArrayLayout(p.word_bits + 1, n - 2), reset_less=True)

        out = OutputRegister(m, self.o, reset_less=True, name="blk")
        closes = w.last | (index == n - 1)
        # only a word that closes a block needs the output register
        m.d.comb += self.i.ready.eq(out.free | ~closes)
        take = self.i.valid & self.i.ready
        diff = Signal(signed(p.word_bits + 1))      # not "delta": the name of this stage
        m.d.comb += diff.eq(x - prev)

        with m.If(take):
            m.d.sync += prev.eq(x)
            with m.If(closes):
                m.d.sync += index.eq(0)
                out.emit(last=w.last, base=Mux(index == 0, w.data, base))
                for j in range(1, n):               # delta d_j sits in deltas[j - 1]
                    with m.If(index == j):
                        m.d.sync += out.payload.deltas[j - 1].eq(diff)
                    with m.Elif(index + 1 == j):    # first padding word: 0 - x
                        m.d.sync += out.payload.deltas[j - 1].eq(-x)
                    if j < n - 1:                   # index > n - 1 cannot be
                        with m.Elif(index > j):
                            m.d.sync += out.payload.deltas[j - 1].eq(deltas[j - 1])
                    with m.Else():
                        m.d.sync += out.payload.deltas[j - 1].eq(0)
            with m.Else():
                m.d.sync += index.eq(index + 1)
                with m.If(index == 0):
                    m.d.sync += base.eq(w.data)
                for j in range(1, n - 1):           # index n - 1 closes the block
                    with m.If(index == j):
                        m.d.sync += deltas[j - 1].eq(diff)
        return m


class SerialDelta(Delta):
    """The area-optimised counterpart of :class:`Delta` (golden: ``nonzero_blocks``,
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
