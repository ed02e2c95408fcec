"""Bit unpacker: stream words in, a window on the next bits of the transfer out."""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .bitpack import word_layout

__all__ = ["BitUnpacker", "buffer_bits", "window_signature"]


def buffer_bits(in_bits, window):
    """Buffer size of an unpacker of ``in_bits``-bit words showing ``window`` bits: ``window +
    in_bits`` rounded up to whole words."""
    return -(-(window + in_bits) // in_bits) * in_bits


def window_signature(in_bits, window, max_take=None):
    """The port between an unpacker of ``in_bits``-bit words (source side) and a decoder.

    Members (source side): ``bits`` the next ``window`` bits, first bit at the MSB (bits past
    ``avail`` read as 0); ``avail`` how many are present (up to the unpacker's
    :func:`buffer_bits`); ``end`` the transfer's final word is in, so no more bits will come;
    inputs ``take`` bits consumed this cycle (at most ``avail`` and ``max_take``, by default
    ``window``) and ``flush`` drop the rest of the transfer and start the next.
    """
    max_take = window if max_take is None else max_take
    return wiring.Signature({
        "bits": Out(window),
        "avail": Out(range(buffer_bits(in_bits, window) + 1)),
        "end": Out(1),
        "take": In(range(max_take + 1)),
        "flush": In(1),
    })


class BitUnpacker(wiring.Component):
    """Turn a stream of ``in_bits``-bit words (with ``last``) into a bit window.

    Parameters
    ----------
    in_bits : int
        Input word width, 8, 16 or 32.
    window : int
        Bits shown on ``o.bits``, 1..128.
    max_take : int
        Most bits a consumer takes per cycle, 1..``window``.

    Members
    -------
    i : In(stream.Signature(StructLayout({"data": in_bits, "last": 1})))
    o : Out(window_signature(in_bits, window, max_take))

    The buffer holds ``capacity`` = :func:`buffer_bits` bits. A word
    is accepted when it fits beside the bits kept after this cycle's ``take``; after the word
    with ``last`` none is accepted until ``flush``. Latency 1 cycle from a word to its bits on
    ``o``; throughput one word per cycle. ``i.ready`` depends combinationally on ``o.take``.
    """

    def __init__(self, in_bits, window, max_take):
        if in_bits not in (8, 16, 32):
            raise ValueError(f"in_bits must be 8, 16 or 32, not {in_bits!r}")
        if not isinstance(window, int) or not 1 <= window <= 128:
            raise ValueError(f"window must be an integer in 1..128, not {window!r}")
        if not isinstance(max_take, int) or not 1 <= max_take <= window:
            raise ValueError(f"max_take must be an integer in 1..window, not {max_take!r}")
        self._in_bits = in_bits
        self._window = window
        self._capacity = buffer_bits(in_bits, window)
        super().__init__({
            "i": In(stream.Signature(word_layout(in_bits, in_bits))),
            "o": Out(window_signature(in_bits, window, max_take)),
        })

    @property
    def capacity(self):
        return self._capacity

    def elaborate(self, platform):
        m = Module()
        cap, win, nbits = self._capacity, self._window, self._in_bits
        buf = Signal(cap)                     # MSB-aligned
        avail = Signal(range(cap + 1))
        end = Signal()
        m.d.comb += [self.o.bits.eq(buf[cap - win:]), self.o.avail.eq(avail), self.o.end.eq(end)]

        kept = Signal(cap)
        kept_avail = Signal(range(cap + 1))
        m.d.comb += [kept.eq(buf << self.o.take), kept_avail.eq(avail - self.o.take)]
        m.d.comb += self.i.ready.eq(~end & ~self.o.flush & (kept_avail <= cap - nbits))
        placed = Signal(cap)
        shift = Signal(range(cap + 1))
        m.d.comb += shift.eq(cap - nbits - kept_avail)
        m.d.comb += placed.eq((self.i.payload.data << shift)[:cap])

        with m.If(self.o.flush):
            m.d.sync += [buf.eq(0), avail.eq(0), end.eq(0)]
        with m.Elif(self.i.valid & self.i.ready):
            m.d.sync += [buf.eq(kept | placed), avail.eq(kept_avail + nbits),
                         end.eq(self.i.payload.last)]
        with m.Else():
            m.d.sync += [buf.eq(kept), avail.eq(kept_avail)]
        return m

