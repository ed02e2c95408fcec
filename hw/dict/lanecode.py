"""The stages of HC-P v1's canonical prefix codes (tokens, literal lanes) in the dictionary
decoder engine.

:class:`CodeTable` builds, from the table fields of a v1 stream (one count or one value a
cycle), what a canonical decoder needs: per code length ``l`` the end of its codes
(``lim[l]`` = first code + count) and the offset that turns a code into its index
(``off[l]`` = index of the first code - first code, modulo ``2**index_bits``).
:class:`LaneDecoder` then finds, in one cycle and without a table lookup, the lengths and
indices of consecutive codes: the token of a code (its index is the token), and the G lane
codes of a literal, whose values are read from the engine's symbol memory at those indices
(one read port per lane), as a hit's entry is read from the dictionary.
"""

from amaranth.hdl import Const, Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from golden.dict_codec import L_MAX

__all__ = ["CodeTable", "LaneDecoder", "LIM_BITS", "VALUE_BITS"]

#: ``lim``: up to 2**L_MAX
LIM_BITS = L_MAX + 1
#: the largest field F (k = 0): values of 8 bits, counts of 9
VALUE_BITS = 8


def table_signature(index_bits):
    """``lim`` and ``off`` per code length 1 .. :data:`L_MAX` (index ``l - 1``)."""
    return {"lim": data.ArrayLayout(LIM_BITS, L_MAX),
            "off": data.ArrayLayout(index_bits, L_MAX)}


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

    Parameters
    ----------
    index_bits : int
        Width of the indices (8: the literal lanes' at most 256 values; 9: the tokens' up to
        258).
    values : bool
        The code lists values (``value_en``, ``twice``); False for the tokens, whose values
        are their indices.
    """

    def __init__(self, index_bits=8, values=True):
        self._values = values
        super().__init__({
            "clear": In(1), "count_en": In(1), "count": In(VALUE_BITS + 1),
            "value_en": In(1), "value": In(VALUE_BITS),
            "length": Out(range(L_MAX + 2)), "total": Out(VALUE_BITS + 1),
            "over": Out(1), "twice": Out(1),
            **{name: Out(layout) for name, layout in table_signature(index_bits).items()},
        })

    def elaborate(self, platform):
        m = Module()
        room = Signal(LIM_BITS + 1)            # the first code of length ``length``
        seen = Signal(1 << VALUE_BITS if self._values else 1)
        new = Signal(LIM_BITS + 2)
        m.d.comb += [new.eq(room + self.count),
                     self.over.eq(new > (Const(1, LIM_BITS + 1) << self.length))]
        if self._values:
            m.d.comb += self.twice.eq((seen >> self.value)[0])
        with m.If(self.clear):
            m.d.sync += [room.eq(0), self.length.eq(1), self.total.eq(0), seen.eq(0),
                         self.lim.eq(0)]
        with m.Elif(self.count_en):
            m.d.sync += [room.eq(new << 1), self.length.eq(self.length + 1),
                         self.total.eq(self.total + self.count)]
            for i in range(L_MAX):
                with m.If(self.length == i + 1):
                    m.d.sync += [self.lim[i].eq(new), self.off[i].eq(self.total - room)]
        if self._values:
            with m.Elif(self.value_en):
                m.d.sync += seen.bit_select(self.value, 1).eq(1)
        return m


class LaneDecoder(wiring.Component):
    """Consecutive codes of one canonical code (the G lane codes of a literal, or one token),
    combinationally: their indices and the bits they need.

    Members
    -------
    bits : In(window)
        The stream's next bits, MSB first (a literal's prefix at the top).
    start : In(range(L_MAX + 1))
        Where the first code starts (after a literal's token).
    lim, off : In
        The table (:class:`CodeTable`).
    longest : In(4)
        The table's longest code length ``L``.
    index : Out(ArrayLayout(index_bits, lanes))
        Code ``j``'s index (into the table's values, or the token).
    need : Out(range(window + 1))
        Where the last code ends when every one is a code of the table; else the bits up
        to the first that is not, plus ``max(L, 1)``: once they are all present, the
        stream is known to be malformed.
    bad : Out(1)
        Some code is not one of the table (meaningful once ``need`` bits are present).

    Bits past the ones present read as 0 (:func:`hw.bitunpack.window_signature`): a lane whose
    code is not all present either matches a code that ends past them or matches none, so
    ``need`` is then more than what is present and the engine waits.
    """

    def __init__(self, lanes, window, index_bits=8):
        self._g, self._window = lanes, window
        super().__init__({
            "bits": In(window), "start": In(range(L_MAX + 1)), "longest": In(4),
            **{name: In(layout) for name, layout in table_signature(index_bits).items()},
            "index": Out(data.ArrayLayout(index_bits, lanes)),
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

