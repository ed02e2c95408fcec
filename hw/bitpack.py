"""Bit packer: variable-length codes in, fixed-width stream words out (MSB first)."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from .stream import OutputRegister

__all__ = ["BitPacker", "code_layout", "word_layout"]


def code_layout(max_bits):
    """Payload of a code stream: ``bits`` (the code in its low ``len`` bits), ``len``, ``last``."""
    return data.StructLayout({
        "bits": max_bits,
        "len": (max_bits).bit_length(),
        "last": 1,
    })


def word_layout(out_bits, unit_bits):
    """Payload of a packed stream: ``data``, ``last``, and ``half`` when a word holds 2 units."""
    fields = {"data": out_bits, "last": 1}
    if unit_bits != out_bits:
        fields["half"] = 1
    return data.StructLayout(fields)


def _ceil_div(a, b):
    return -(-a // b)


class BitPacker(wiring.Component):
    """Concatenate codes MSB first and cut them into ``out_bits``-bit words.

    Transfers are kept apart: the code that carries ``last`` ends its transfer, whose final unit
    (``unit_bits`` wide) is zero-padded on the LSB side and leaves with ``last`` set; the next
    transfer starts on a fresh word. With ``out_bits = 2 * unit_bits`` a transfer that ends on an
    odd unit leaves a word whose ``half`` flag says only its high unit belongs to the stream.

    Parameters
    ----------
    in_bits : int
        Widest code accepted per transfer, 1..64.
    out_bits : int
        Output word width, 8, 16 or 32.
    unit_bits : int
        Padding granularity; ``out_bits`` or ``out_bits // 2``.

    Members
    -------
    i : In(stream.Signature(code_layout(in_bits)))
        Codes; a code of length 0 emits nothing (with ``last`` it still ends the transfer, so
        the transfer must have emitted at least one bit before).
    o : Out(stream.Signature(word_layout(out_bits, unit_bits)))
        Stream words: ``data`` (first bit at the MSB), ``last``, and ``half`` (only the high unit
        is part of the stream) when ``unit_bits < out_bits``.

    Latency 1 cycle from a code to the word it completes. Throughput: one code per cycle while
    the buffer has room and one word per cycle; the output is the bottleneck when codes arrive
    faster than ``out_bits`` bits per cycle. Backpressure on ``o`` fills the buffer
    (``out_bits + in_bits`` bits, rounded up to whole words) and then deasserts ``i.ready``;
    ``i.ready`` depends combinationally on ``o.ready`` and on the incoming code length.
    """

    def __init__(self, in_bits, out_bits=8, unit_bits=None):
        unit_bits = out_bits if unit_bits is None else unit_bits
        if not isinstance(in_bits, int) or not 1 <= in_bits <= 64:
            raise ValueError(f"in_bits must be an integer in 1..64, not {in_bits!r}")
        if out_bits not in (8, 16, 32):
            raise ValueError(f"out_bits must be 8, 16 or 32, not {out_bits!r}")
        if unit_bits not in (out_bits, out_bits // 2):
            raise ValueError(f"unit_bits must be out_bits or out_bits // 2, not {unit_bits!r}")
        self._in_bits = in_bits
        self._out_bits = out_bits
        self._unit_bits = unit_bits
        self._width = _ceil_div(out_bits + in_bits, out_bits) * out_bits
        super().__init__({
            "i": In(stream.Signature(code_layout(in_bits))),
            "o": Out(stream.Signature(word_layout(out_bits, unit_bits))),
        })

    @property
    def in_bits(self):
        return self._in_bits

    @property
    def out_bits(self):
        return self._out_bits

    @property
    def buffer_bits(self):
        """Size of the bit buffer."""
        return self._width

    def elaborate(self, platform):
        m = Module()
        W, OW, U = self._width, self._out_bits, self._unit_bits
        units, per_word, ulog = W // U, OW // U, U.bit_length() - 1

        buf = Signal(W)                       # MSB-aligned: the oldest bit is buf[W - 1]
        fill = Signal(range(W + 1))
        ends = Signal(units)                  # ends[k]: a transfer ends with unit k of buf

        # ---- output: a whole word, or half of one when a transfer ends on its high unit
        out = OutputRegister(m, self.o)
        short = ends[0] if per_word == 2 else Const(0)
        can_emit = (fill >= OW) | short
        emit = out.free & can_emit
        with m.If(emit):
            head = Mux(short, Cat(Const(0, OW - U), buf[W - U:]), buf[W - OW:]) if per_word == 2 \
                else buf[W - OW:]
            out.emit(data=head, last=short | ends[per_word - 1],
                     **({"half": short} if per_word == 2 else {}))

        # ---- the buffer once this cycle's word has left
        kept = Signal(W)
        kept_fill = Signal(range(W + 1))
        kept_ends = Signal(units)
        with m.If(emit & short):
            m.d.comb += [kept.eq(buf << U), kept_fill.eq(fill - U), kept_ends.eq(ends >> 1)]
        with m.Elif(emit):
            m.d.comb += [kept.eq(buf << OW), kept_fill.eq(fill - OW),
                         kept_ends.eq(ends >> per_word)]
        with m.Else():
            m.d.comb += [kept.eq(buf), kept_fill.eq(fill), kept_ends.eq(ends)]

        # ---- input: the code goes right under the kept bits
        code = self.i.payload
        total = Signal(range(W + self._in_bits + 1))
        m.d.comb += total.eq(kept_fill + code.len)
        m.d.comb += self.i.ready.eq(total <= W)
        mask = Signal(self._in_bits)
        m.d.comb += mask.eq((Const(1, self._in_bits + 1) << code.len) - 1)
        placed = Signal(W)
        shift = Signal(range(W + 1))
        m.d.comb += shift.eq(W - total)
        m.d.comb += placed.eq(((code.bits & mask) << shift)[:W])
        # a transfer end pads the fill up to whole units and marks its final unit
        rounded_units = Signal(range(units + 1))
        m.d.comb += rounded_units.eq((total + U - 1) >> ulog)
        end_flag = Signal(units)
        m.d.comb += end_flag.eq((Const(1, units + 1) << rounded_units) >> 1)

        with m.If(self.i.valid & self.i.ready):
            m.d.sync += buf.eq(kept | placed)
            with m.If(code.last):
                m.d.sync += [fill.eq(rounded_units << ulog), ends.eq(kept_ends | end_flag)]
            with m.Else():
                m.d.sync += [fill.eq(total), ends.eq(kept_ends)]
        with m.Else():
            m.d.sync += [buf.eq(kept), fill.eq(kept_fill), ends.eq(kept_ends)]
        return m
