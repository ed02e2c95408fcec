"""Dictionary decoder engine: HC-P v0 / v1 word stream in, G int8 weights per beat out."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.dict_codec import L_MAX, LIMITS, NO_TOKEN, WORD_BITS

from ..bitpack import word_layout
from ..bitunpack import BitUnpacker
from ..params import Param, parametrised
from ..stream import OutputRegister, StreamEnd
from .lanecode import VALUE_BITS, CodeTable, LaneDecoder

#: a v1 token's index: up to 2**8 dictionary entries, the literal and the run
TOKEN_BITS = 9

__all__ = ["DictDecoder"]

LANES = (1, 2, 4, 8)


@parametrised
class DictDecoder(wiring.Component):
    """Decoder of :mod:`golden.dict_codec` streams, bit-exact with its ``decode_symbols``.

    Members
    -------
    i_words : In(stream.Signature(StructLayout({"data": 32, "last": 1})))
        One stream, MSB first, ``last`` on its final word.
    o_weights : Out(stream.Signature(StructLayout({"data": 8 * G, "count": range(G + 1),
                                                    "last": 1, "error": 1})))
        One symbol per beat: lane ``j`` (int8) in ``data[8j + 7 : 8j]``; ``count`` = valid lanes
        (G, fewer on the last beat when N is not a multiple of G); ``last`` on the final beat.
    error : Out(1)
        High from the detection of a malformed stream until the next stream's first word is
        decoded; the stream's output then ends with one beat carrying ``error``, ``last``,
        ``count`` 0 and data 0.

    The header (2 words) and the dictionary (``n_dict`` entries of G x (8 - k) bits, stored in
    a memory of ``2**B_max`` x 8G bits with a synchronous read port, as an SRAM macro has it:
    a hit's entry is read as its code is taken and shown from the next cycle) are read first;
    then one code per cycle: a hit or a run emits one symbol per cycle with no stall while
    input is available; a literal of
    2 + G (8 - k) bits needs that many input bits (32 per cycle), so at k = 0 G = 4 literals
    run at 32/34 symbols per cycle, at G = 8 at 32/66. Latency: 1 cycle from the word that
    completes a code to its symbol; the final symbol waits until the rest of the stream (at most
    31 zero padding bits) has been read and checked. Malformed: a header field out of the
    format's or this engine's range (G different, B > B_max, R > R, k > 6, N = 0, version, n_dict
    > 2**B), a hit past the dictionary, a run first or past N, the stream ending early, or bits
    after the last code beyond the padding: the engine drains the stream to its ``last`` and
    decodes the next one normally. Backpressure on ``o_weights`` stalls the engine and then
    the input; ``valid`` never waits on ``ready``.

    Raises
    ------
    ValueError
        For a parameter out of range.
    """

    PARAMS = (Param("G", LANES, "weights per symbol, the output lanes; a stream must have "
                                "this G"),
              Param("B_max", tuple(range(1, 9)), "the dictionary holds up to 2**B_max symbols; "
                                                 "streams with B <= B_max decode"),
              Param("R", tuple(range(0, 9)), "the widest run field; streams with R <= this "
                                             "decode (0: no runs)"),
              Param("V", (0, 1), "the newest HC-P version decoded: 1 decodes v0 and v1 "
                                 "(prefix-coded literal lanes), 0 only v0 (no code table)"))

    def __init__(self, G=4, B_max=4, R=4, V=1):
        self._g, self._v, self._b_max, self._r_max = G, V, B_max, R
        self._window = max(WORD_BITS, 2 + 8 * G, L_MAX * (G + 1) if V else 0)
        super().__init__({
            "i_words": In(stream.Signature(word_layout(WORD_BITS, WORD_BITS))),
            "o_weights": Out(stream.Signature(data.StructLayout({
                "data": 8 * G, "count": range(G + 1), "last": 1, "error": 1}))),
            "error": Out(1),
        })

    def _lanes(self, m, bits, k, name, lanes=None):
        """The G (or ``lanes``) restored int8 weights of the symbol image at the top of
        ``bits``."""
        g, win = lanes or self._g, self._window
        out = Signal(8 * g, name=name)
        with m.Switch(k):
            for kk in LIMITS["k"]:
                f = 8 - kk
                with m.Case(kk):
                    m.d.comb += out.eq(Cat(*(Cat(Const(0, kk), bits[win - (j + 1) * f:win - j * f])
                                             for j in range(g))))
        return out

    def elaborate(self, platform):
        m = Module()
        g, win = self._g, self._window
        log_g = g.bit_length() - 1
        m.submodules.unpacker = unp = BitUnpacker(WORD_BITS, win, win)
        wiring.connect(m, wiring.flipped(self.i_words), unp.i)
        bits, avail, end = unp.o.bits, unp.o.avail, unp.o.end
        m.submodules.dictionary = mem = memory.Memory(shape=8 * g, depth=1 << self._b_max,
                                                      init=[])
        # synchronous read, as an SRAM macro offers: a hit's entry is read in the cycle its code
        # is taken and shown on o_weights from the next (``from_dict``), held while it waits
        rd, wr = mem.read_port(), mem.write_port()
        from_dict = Signal(name="from_dict")
        m.d.comb += rd.en.eq(0)

        k, b, r = Signal(3), Signal(4), Signal(4)
        n_dict, index = Signal(9), Signal(9)
        sym_left = Signal(32 - log_g + 1)
        last_count = Signal(range(g + 1))
        entry_bits, literal_bits = Signal(range(8 * g + 1)), Signal(range(win + 1))
        rem = Signal(9)                       # symbols of a run still to emit
        first = Signal()                      # no symbol of this stream out yet
        bad = Signal()
        m.d.comb += self.error.eq(bad)

        o = self.o_weights
        out = OutputRegister(m, o, reset_less=True, name="weights")
        shown = Mux(from_dict, rd.data, out.payload.data)
        v1 = Signal()                          # this stream is HC-P v1
        from_table = Signal()                  # v1 literal: the lanes read from ``symbols``
        if self._v:
            # v1: the token code (hits, literal, run) and the literal lanes' code
            m.submodules.token_table = t_table = CodeTable(TOKEN_BITS, values=False)
            m.submodules.tokens = t_dec = LaneDecoder(1, win, TOKEN_BITS)
            m.submodules.lane_table = table = CodeTable()
            m.submodules.lanes = lanes = LaneDecoder(g, win)
            # the lane code's values, restored to int8, one read port per lane (read as the
            # literal is taken, shown from the next cycle, like a hit's dictionary entry)
            m.submodules.symbols = sym_mem = memory.Memory(shape=8, depth=1 << VALUE_BITS,
                                                           init=[])
            sym_rd = [sym_mem.read_port() for _ in range(g)]
            sym_wr = sym_mem.write_port()
            m.d.comb += [t_table.count.eq(bits[win - 9:]),
                         t_dec.lim.eq(t_table.lim), t_dec.off.eq(t_table.off),
                         t_dec.bits.eq(bits), t_dec.start.eq(0),
                         lanes.lim.eq(table.lim), lanes.off.eq(table.off), lanes.bits.eq(bits),
                         lanes.start.eq(t_dec.need)]
            for j, port in enumerate(sym_rd):
                m.d.comb += [port.en.eq(0), port.addr.eq(lanes.index[j])]
            shown = Mux(from_table, Cat(*(port.data for port in sym_rd)), shown)
        m.d.comb += o.payload.data.eq(shown)

        def emit(value, count=g, last=0, error=0):
            out.emit(from_dict.eq(0), from_table.eq(0), data=value, count=count, last=last,
                     error=error)

        ending = StreamEnd(m, unp.o, out, bad, final_beat=lambda: out.emit(last=1, error=0),
                           error_beat=lambda: emit(0, count=0, last=1, error=1), restart="H0")
        fail = ending.fail

        def symbol(value, next_state):
            """The next symbol: out now, or staged (valid low) for the end check if final.
            ``value``: its lanes, "dict" (the entry being read) or "repeat" (the symbol shown)."""
            m.d.sync += [sym_left.eq(sym_left - 1), first.eq(0)]
            if isinstance(value, str):        # "dict" or "table": from a memory's read port
                data_of = ([] if value == "repeat" else
                           [from_dict.eq(value == "dict"), from_table.eq(value == "table")])
            else:
                data_of = [from_dict.eq(0), from_table.eq(0), out.payload.data.eq(value)]
            ending.item(sym_left == 1, lambda: out.emit(*data_of, count=g, last=0, error=0),
                        [*data_of, out.payload.count.eq(last_count)], next_state)

        def after_prefix(n):
            """The 8 bits after an n-bit prefix."""
            return bits[win - n - 8:win - n]

        lit_lanes = self._lanes(m, Mux(r == 0, bits << 1, bits << 2)[:win], k, "literal")
        m.d.comb += wr.data.eq(self._lanes(m, bits, k, "entry"))
        b_shift, r_shift = Signal(4), Signal(4)     # 8 - B, 8 - R
        # the code at the top of ``bits``: v0 by its prefix (1 hit, 01 run, 0(0) literal)
        is_hit, is_run, hit_idx, run_len = Signal(), Signal(), Signal(8), Signal(9)
        m.d.comb += [b_shift.eq(8 - b), r_shift.eq(8 - r), rd.addr.eq(hit_idx),
                     wr.addr.eq(index)]
        need = Signal(range(win + 1))
        m.d.comb += [is_hit.eq(bits[win - 1]), is_run.eq((r != 0) & (bits[win - 2:] == 0b01)),
                     hit_idx.eq(after_prefix(1) >> b_shift),
                     run_len.eq((after_prefix(2) >> r_shift) + 1),
                     need.eq(Mux(is_hit, 1 + b, Mux(is_run, 2 + r, literal_bits)))]
        lit_tok, run_tok, t_longest = Signal(TOKEN_BITS), Signal(TOKEN_BITS), Signal(4)
        if self._v:               # v1 by its token (a hit, the literal or the run)
            token = t_dec.index[0]
            is_lit = token == lit_tok
            with m.If(v1):
                m.d.comb += [
                    t_dec.longest.eq(t_longest),
                    is_hit.eq(~is_lit & (token != run_tok)), is_run.eq(token == run_tok),
                    hit_idx.eq(token - (token > lit_tok) - (token > run_tok)),
                    run_len.eq(((bits << t_dec.need)[win - 8:win] >> r_shift) + 1),
                    need.eq(Mux(t_dec.bad, t_dec.need,
                                Mux(is_lit, lanes.need, Mux(is_run, t_dec.need + r,
                                                            t_dec.need))))]

        def after_table(entries):
            """To the dictionary, or straight to the codes when it is empty."""
            with m.If(entries == 0):
                m.next = "CODE"
            with m.Else():
                m.next = "DICT"

        if self._v:
            # the literal code table: L, then L counts, then the values (one a cycle)
            longest, at = Signal(4), Signal(VALUE_BITS)
            count, value = Signal(VALUE_BITS + 1), Signal(VALUE_BITS)
            count_bits, value_bits = Signal(4), Signal(4)       # F + 1, F
            m.d.comb += [count_bits.eq(9 - k), value_bits.eq(8 - k)]
            m.d.comb += [lanes.longest.eq(longest),
                         table.count.eq(count), table.value.eq(value),
                         sym_wr.addr.eq(at), sym_wr.data.eq(self._lanes(m, bits, k, "value",
                                                                        lanes=1))]
            with m.Switch(k):
                for kk in LIMITS["k"]:
                    with m.Case(kk):
                        m.d.comb += [count.eq(bits[win - (9 - kk):]),
                                     value.eq(bits[win - (8 - kk):])]

        h1 = bits[win - 32:]
        h_k, h_g, h_b, h_r = h1[0:3], h1[3:8], h1[8:12], h1[12:16]
        h_nd, h_ver = h1[16:25], h1[25:32]
        f = Signal(4)
        m.d.comb += f.eq(8 - h_k)
        with m.FSM():
            with m.State("H0"):
                with m.If(avail >= WORD_BITS):
                    n = bits[win - 32:]
                    m.d.comb += unp.o.take.eq(WORD_BITS)
                    m.d.sync += [bad.eq(0), first.eq(1), sym_left.eq((n + (g - 1)) >> log_g),
                                 last_count.eq((n - 1)[:log_g] + 1 if g > 1 else 1)]
                    with m.If(n == 0):
                        fail()
                    with m.Else():
                        m.next = "H1"
                with m.Elif(end):
                    fail()
            with m.State("H1"):
                with m.If(avail >= WORD_BITS):
                    m.d.comb += unp.o.take.eq(WORD_BITS)
                    m.d.sync += [k.eq(h_k), b.eq(h_b), r.eq(h_r), n_dict.eq(h_nd),
                                 index.eq(0), entry_bits.eq(g * f),
                                 literal_bits.eq(g * f + Mux(h_r == 0, 1, 2))]
                    m.d.sync += v1.eq(h_ver == 1)
                    with m.If((h_ver > self._v) | (h_k > LIMITS["k"][-1]) | (h_g != g)
                              | (h_b == 0) | (h_b > self._b_max) | (h_r > self._r_max)
                              | (h_nd > (1 << h_b))):
                        fail()
                    if self._v:
                        with m.Elif(h_ver == 1):
                            m.d.comb += t_table.clear.eq(1)
                            m.next = "TOKEN_LENGTH"
                    with m.Else():
                        after_table(h_nd)
                with m.Elif(end):
                    fail()
            if self._v:               # the token code table: Lt, Lt counts, lit and run
                def code_lengths(prefix, longest, code_table, width, on_empty, on_counted):
                    """A table's L (4 bits), then its L counts of ``width`` bits."""
                    with m.State(f"{prefix}LENGTH"):
                        with m.If(avail >= 4):
                            m.d.comb += unp.o.take.eq(4)
                            m.d.sync += longest.eq(bits[win - 4:])
                            with m.If(bits[win - 4:] > L_MAX):
                                fail()
                            with m.Elif(bits[win - 4:] == 0):
                                on_empty()
                            with m.Else():
                                m.next = f"{prefix}COUNT"
                        with m.Elif(end):
                            fail()
                    with m.State(f"{prefix}COUNT"):
                        with m.If(avail >= width):
                            m.d.comb += [unp.o.take.eq(width), code_table.count_en.eq(1)]
                            m.d.sync += at.eq(0)
                            with m.If(code_table.over):
                                fail()
                            with m.Elif(code_table.length == longest):
                                on_counted()
                        with m.Elif(end):
                            fail()

                def to_names():
                    m.next = "TOKEN_NAMES"

                def to_values():
                    with m.If(table.total + count == 0):
                        after_table(n_dict)
                    with m.Else():
                        m.next = "VALUE"

                code_lengths("TOKEN_", t_longest, t_table, 9, to_names, to_names)
                with m.State("TOKEN_NAMES"):
                    lit, run = bits[win - 9:], bits[win - 18:win - 9]
                    has_lit, has_run = lit != NO_TOKEN, run != NO_TOKEN
                    total = t_table.total
                    with m.If(avail >= 18):
                        m.d.comb += unp.o.take.eq(18)
                        m.d.sync += [lit_tok.eq(lit), run_tok.eq(run)]
                        with m.If((has_lit & (lit >= total)) | (has_run & (run >= total))
                                  | (has_lit & has_run & (lit == run)) | (has_run & (r == 0))
                                  | (total != n_dict + has_lit + has_run)):
                            fail()
                        with m.Else():
                            m.d.comb += table.clear.eq(1)
                            m.next = "LENGTH"
                    with m.Elif(end):
                        fail()
                # the literal code table: L, L counts, the values
                code_lengths("", longest, table, count_bits, lambda: after_table(n_dict),
                             to_values)
                with m.State("VALUE"):
                    with m.If(avail >= value_bits):
                        m.d.comb += [unp.o.take.eq(value_bits), table.value_en.eq(1),
                                     sym_wr.en.eq(1)]
                        m.d.sync += at.eq(at + 1)
                        with m.If(table.twice):
                            fail()
                        with m.Elif(at == table.total - 1):
                            after_table(n_dict)
                    with m.Elif(end):
                        fail()
            with m.State("DICT"):
                with m.If(avail >= entry_bits):
                    m.d.comb += [unp.o.take.eq(entry_bits), wr.en.eq(1)]
                    m.d.sync += index.eq(index + 1)
                    with m.If(index == n_dict - 1):
                        m.next = "CODE"
                with m.Elif(end):
                    fail()
            with m.State("CODE"):
                with m.If(out.free):
                    with m.If(avail >= need):
                        m.d.comb += unp.o.take.eq(need)
                        if self._v:
                            with m.If(v1 & t_dec.bad):
                                fail()
                        with (m.Elif if self._v else m.If)(is_hit):
                            with m.If(hit_idx >= n_dict):
                                fail()
                            with m.Else():
                                m.d.comb += rd.en.eq(1)
                                symbol("dict", "CODE")
                        with m.Elif(is_run):
                            with m.If(first | (run_len > sym_left)):
                                fail()
                            with m.Else():
                                m.d.sync += rem.eq(run_len - 1)
                                symbol("repeat", "CODE")
                                with m.If((run_len > 1) & (sym_left != 1)):
                                    m.next = "RUN"
                        if self._v:
                            with m.Elif(v1 & lanes.bad):
                                fail()
                            with m.Elif(v1):
                                m.d.comb += [port.en.eq(1) for port in sym_rd]
                                symbol("table", "CODE")
                        with m.Else():
                            symbol(lit_lanes, "CODE")
                    with m.Elif(end):
                        fail()
            with m.State("RUN"):
                with m.If(out.free):
                    m.d.sync += rem.eq(rem - 1)
                    symbol("repeat", "CODE")
                    with m.If((rem > 1) & (sym_left != 1)):
                        m.next = "RUN"
            ending.states()
        return m
