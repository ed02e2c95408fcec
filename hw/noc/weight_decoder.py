"""Weight decoder for a PE's network interface: trend-run encoded streams in, weights out."""

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.noc_stream import COUNT_BITS, F_BITS, HEADER_BITS, S_BITS, WORD_BITS, StreamParams

from ..bitpack import word_layout
from ..bitunpack import BitUnpacker
from ..params import Param, parametrised
from ..stream import OutputRegister, StreamEnd

__all__ = ["NoCWeightDecoder"]

SLOPE_MAX = (1 << S_BITS) - 1


@parametrised
class NoCWeightDecoder(wiring.Component):
    """Decoder of the stream of :mod:`golden.noc_stream`, bit-exact with its ``decode``.

    Members
    -------
    i_words : In(stream.Signature(StructLayout({"data": 32, "last": 1})))
        The packed stream of one layer (MSB first), ``last`` on its final word.
    o_weights : Out(stream.Signature(StructLayout({"data": W, "frac": 5, "last": 1,
                                                    "error": 1})))
        The weights as ``W``-bit two's complement values of ``data / 2**frac``; ``last`` on the
        N-th.

    One weight per cycle through raw records and runs alike (a run costs no cycle beyond its
    weights); a 32-bit input word per cycle feeds raw records (1 + W bits each) with room to
    spare. Latency: 2 cycles from the word that completes a record to its first weight; the
    N-th weight waits until the rest of the stream (at most 31 zero padding bits) has been
    read and checked. A malformed stream (header or record cut off, a slope width of 0, a run
    of length 0 or past N, bits after the last record beyond the padding) is drained up to its
    ``last``, and its output transfer ends early with one word carrying ``error`` and
    ``last`` (data 0); the next stream decodes normally. Backpressure on ``o_weights`` stalls
    the decoder and then the input; ``valid`` never waits on ``ready``.

    Raises
    ------
    ValueError
        For a parameter out of range.
    """

    PARAMS = (Param("weight_bits", tuple(range(8, 17)), "width W of the fixed-point weights"),
              Param("len_bits", tuple(range(3, 9)), "width of the run-length field"))

    def __init__(self, weight_bits=16, len_bits=6):
        self._p = StreamParams(weight_bits, len_bits)
        self._window = 1 + len_bits + weight_bits + SLOPE_MAX
        self._unpacker = BitUnpacker(WORD_BITS, self._window, self._window)
        super().__init__({
            "i_words": In(stream.Signature(word_layout(WORD_BITS, WORD_BITS))),
            "o_weights": Out(stream.Signature(data.StructLayout({
                "data": weight_bits, "frac": F_BITS, "last": 1, "error": 1}))),
        })

    @property
    def params(self):
        return self._p

    def elaborate(self, platform):
        m = Module()
        p, win = self._p, self._window
        w, lb, e = p.weight_bits, p.len_bits, p.extra_bits
        m.submodules.unpacker = unp = self._unpacker
        wiring.connect(m, wiring.flipped(self.i_words), unp.i)
        bits, avail, end = unp.o.bits, unp.o.avail, unp.o.end

        def field(offset, width):          # ``width`` bits starting ``offset`` bits in
            return bits[win - offset - width:win - offset]

        n_left = Signal(COUNT_BITS + 1)
        frac = Signal(F_BITS)
        s_bits = Signal(range(SLOPE_MAX + 1))
        acc = Signal(w + e)                  # (start << E) + 2**(E-1) + k * slope, wrapped
        slope = Signal(w + e)
        rem = Signal(lb)
        held = Signal(w)
        bad = Signal()                        # the stream is malformed

        out = OutputRegister(m, self.o_weights)

        def emit(value, last=0, error=0):
            out.emit(data=value, frac=frac, last=last, error=error)

        ending = StreamEnd(m, unp.o, out, bad, final_beat=lambda: emit(held, last=1),
                           error_beat=lambda: emit(0, last=1, error=1), restart="HEADER")
        fail = ending.fail

        def weight(value, next_state):
            """The next weight: out now, or held for the end check when it is the N-th."""
            m.d.sync += n_left.eq(n_left - 1)
            ending.item(n_left == 1, lambda: emit(value), held.eq(value), next_state)

        tag = field(0, 1)
        run_len = field(1, lb)
        raw = field(1, w)
        start = field(1 + lb, w)
        slope_top = Signal(SLOPE_MAX)          # the slope field and what follows, MSB first
        m.d.comb += slope_top.eq(field(1 + lb + w, SLOPE_MAX))
        slope_val = Signal(w + e)              # sign-extended S-bit slope, wrapped to W + E
        slope_shift = Signal(range(SLOPE_MAX + 1))
        m.d.comb += [slope_shift.eq(SLOPE_MAX - s_bits),
                     slope_val.eq((slope_top.as_signed() >> slope_shift)[:w + e])]
        need = Signal(range(win + 1))
        m.d.comb += need.eq(Const(1 + w, range(win + 1)))
        with m.If(tag):
            m.d.comb += need.eq(1 + lb + w + s_bits)

        with m.FSM():
            with m.State("HEADER"):
                with m.If(avail >= HEADER_BITS):
                    m.d.comb += unp.o.take.eq(HEADER_BITS)
                    hdr_s = field(COUNT_BITS + F_BITS, S_BITS)
                    m.d.sync += [n_left.eq(field(0, COUNT_BITS) + 1),
                                 frac.eq(field(COUNT_BITS, F_BITS)), s_bits.eq(hdr_s),
                                 bad.eq(0)]
                    with m.If(hdr_s == 0):
                        fail()
                    with m.Else():
                        m.next = "RECORD"
                with m.Elif(end):
                    fail()
            with m.State("RECORD"):
                with m.If(out.free):
                    with m.If(avail >= need):
                        with m.If(~tag):
                            m.d.comb += unp.o.take.eq(1 + w)
                            weight(raw, "RECORD")
                        with m.Elif((run_len == 0) | (run_len > n_left)):
                            fail()
                        with m.Else():
                            m.d.comb += unp.o.take.eq(need)
                            m.d.sync += [
                                acc.eq(Cat(Const(1 << (e - 1), e), start) + slope_val),
                                slope.eq(slope_val), rem.eq(run_len - 1)]
                            weight(start, "RECORD")
                            with m.If((run_len > 1) & (n_left != 1)):
                                m.next = "RUN"
                    with m.Elif(end):
                        fail()
            with m.State("RUN"):
                with m.If(out.free):
                    m.d.sync += [acc.eq(acc + slope), rem.eq(rem - 1)]
                    weight(acc[e:], "RECORD")
                    with m.If((rem > 1) & (n_left != 1)):
                        m.next = "RUN"
            ending.states()
        return m
