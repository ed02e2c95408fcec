"""The stages of HC-P v1's literal lane code in the dictionary decoder engine.

:class:`CodeTable` builds, from the table fields of a v1 stream (one count or one value a
cycle), what a canonical decoder needs: per code length ``l`` the end of its codes
(``lim[l]`` = first code + count) and the offset that turns a code into the index of its value
(``off[l]`` = index of the first code - first code, modulo 256). :class:`LaneDecoder` then
finds, in one cycle and without a table lookup, the lengths and value indices of the G lane
codes of a literal; the values themselves are read from the engine's symbol memory at those
indices (one read port per lane), as a hit's entry is read from the dictionary.
"""

from amaranth.hdl import Const, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from golden.dict_codec import L_MAX

__all__ = ["CodeTable", "LaneDecoder", "LIM_BITS", "OFF_BITS"]

#: ``lim``: up to 2**L_MAX; ``off``: an index into at most 256 values, modulo 256
LIM_BITS, OFF_BITS = L_MAX + 1, 8
#: the largest field F (k = 0): values of 8 bits, counts of 9
VALUE_BITS = 8


def table_signature():
    """``lim`` and ``off`` per code length 1 .. :data:`L_MAX` (index ``l - 1``)."""
    return {"lim": data.ArrayLayout(LIM_BITS, L_MAX), "off": data.ArrayLayout(OFF_BITS, L_MAX)}


class CodeTable(wiring.Component):
    """The canonical code's decoding table, built one table field per cycle.

    Members
    -------
    clear : In(1)
        A v1 stream's table starts: no codes, length 1 next, no values seen.
    count_en, count : In(1), In(9)
        The count of codes of length ``length``; ``over`` says (combinationally) whether it
        over-subscribes the code (more codes of at most ``length`` bits than there are
        ``length``-bit patterns); taken when ``count_en``.
    length : Out(range(L_MAX + 2))
        The code length whose count comes next.
    total : Out(9)
        The values counted so far (the table's values to come).
    value_en, value : In(1), In(8)
        A value of the table (the F-bit field, zero-extended); ``twice`` says
        (combinationally) whether it was given before; recorded when ``value_en``.
    lim, off : Out
        The table (:func:`table_signature`); lengths without codes have ``lim`` 0, so no code
        of theirs ever matches.
    """

    def __init__(self):
        super().__init__({
            "clear": In(1), "count_en": In(1), "count": In(VALUE_BITS + 1),
            "value_en": In(1), "value": In(VALUE_BITS),
            "length": Out(range(L_MAX + 2)), "total": Out(VALUE_BITS + 1),
            "over": Out(1), "twice": Out(1),
            **{name: Out(layout) for name, layout in table_signature().items()},
        })

    def elaborate(self, platform):
        m = Module()
        room = Signal(LIM_BITS + 1)            # the first code of length ``length``
        seen = Signal(1 << VALUE_BITS)
        new = Signal(LIM_BITS + 2)
        m.d.comb += [new.eq(room + self.count),
                     self.over.eq(new > (Const(1, LIM_BITS + 1) << self.length)),
                     self.twice.eq(seen.bit_select(self.value, 1))]
        with m.If(self.clear):
            m.d.sync += [room.eq(0), self.length.eq(1), self.total.eq(0), seen.eq(0),
                         self.lim.eq(0)]
        with m.Elif(self.count_en):
            m.d.sync += [room.eq(new << 1), self.length.eq(self.length + 1),
                         self.total.eq(self.total + self.count)]
            for i in range(L_MAX):
                with m.If(self.length == i + 1):
                    m.d.sync += [self.lim[i].eq(new), self.off[i].eq(self.total - room)]
        with m.Elif(self.value_en):
            m.d.sync += seen.bit_select(self.value, 1).eq(1)
        return m


class LaneDecoder(wiring.Component):
    """The G lane codes of a literal, combinationally: their value indices and the bits the
    whole literal needs.

    Members
    -------
    bits : In(window)
        The stream's next bits, MSB first (a literal's prefix at the top).
    start : In(2)
        The prefix length (1 when runs are off, else 2).
    lim, off : In
        The table (:class:`CodeTable`).
    longest : In(4)
        The table's longest code length ``L``.
    index : Out(ArrayLayout(8, G))
        Lane ``j``'s index into the table's values.
    need : Out(range(window + 1))
        The literal's length in bits when every lane is a code of the table; else the bits up
        to the first lane that is not, plus ``max(L, 1)``: once they are all present, the
        literal is known to be malformed.
    bad : Out(1)
        Some lane is not a code of the table (meaningful once ``need`` bits are present).

    Bits past the ones present read as 0 (:func:`hw.bitunpack.window_signature`): a lane whose
    code is not all present either matches a code that ends past them or matches none, so
    ``need`` is then more than what is present and the engine waits.
    """

    def __init__(self, lanes, window):
        self._g, self._window = lanes, window
        super().__init__({
            "bits": In(window), "start": In(2), "longest": In(4),
            **{name: In(layout) for name, layout in table_signature().items()},
            "index": Out(data.ArrayLayout(OFF_BITS, lanes)),
            "need": Out(range(window + 1)), "bad": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        win = self._window
        at = self.start                                  # where lane j's code starts
        bad, bad_need = Const(0), Const(0)               # a lane so far is not a code; need
        shortest = Signal(4)                             # max(L, 1)
        m.d.comb += shortest.eq(Mux(self.longest == 0, 1, self.longest))
        for j in range(self._g):
            code = Signal(L_MAX, name=f"lane{j}_bits")
            length = Signal(range(L_MAX + 1), name=f"lane{j}_length")
            ok = Signal(name=f"lane{j}_ok")
            m.d.comb += code.eq((self.bits << at)[win - L_MAX:win])
            for bits_l in range(1, L_MAX + 1):
                top = code[L_MAX - bits_l:]
                with (m.If if bits_l == 1 else m.Elif)(top < self.lim[bits_l - 1]):
                    m.d.comb += [length.eq(bits_l), ok.eq(1),
                                 self.index[j].eq(top + self.off[bits_l - 1])]
            end, need_j, bad_j = (Signal(range(win + 1), name=f"lane{j}_end"),
                                  Signal(range(win + 1), name=f"lane{j}_bad_need"),
                                  Signal(name=f"lane{j}_bad"))
            m.d.comb += [end.eq(at + length), bad_j.eq(bad | ~ok),
                         need_j.eq(Mux(bad, bad_need, at + shortest))]
            at, bad, bad_need = end, bad_j, need_j
        m.d.comb += [self.need.eq(Mux(bad, bad_need, at)), self.bad.eq(bad)]
        return m

