"""Zero-run decoder: N and the ZNZ bits in, one zero / non-zero flag per word out."""

from amaranth.hdl import Module, Signal, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from golden.ebpc import ZNZ_RUN_BITS

from ..bitunpack import window_signature
from ..stream import OutputRegister, StreamEnd
from .layouts import COUNT_BITS, flag_layout

__all__ = ["ZnzDecoder", "ZNZ_WINDOW"]

#: longest ZNZ code: 0 + 4 bits
ZNZ_WINDOW = 1 + ZNZ_RUN_BITS


class ZnzDecoder(wiring.Component):
    """Decode exactly N flags from the ZNZ stream (golden: ``znz_flags``).

    ``1`` gives a non-zero flag; ``0`` + v gives v + 1 zero flags, one per cycle. After the N-th
    flag the rest of the transfer's ZNZ stream is drained up to its ``last`` word and dropped.
    Malformed streams still give exactly N flags, with ``error`` on the last: the stream ends
    first (the missing flags are zero), a zero run goes past N (it is cut), or whole words follow
    the one holding the final code.

    Parameters
    ----------
    params : EBPCParams
    early_end : bool
        When the stream's final word is already in and only padding is left, the N-th flag
        leaves with ``last`` at once, without the cycle that checks the end.

    Members
    -------
    i_count : In(stream.Signature(unsigned(24)))
        N - 1, one per transfer.
    window : In(window_signature(word_bits, 5))
        The ZNZ bits, from an unpacker of ``word_bits``-bit words.
    o : Out(stream.Signature(flag_layout()))

    Throughput: one flag per cycle while ZNZ bits are available; one idle cycle per transfer
    for the count, one to check the end of the stream (none with ``early_end`` when the final
    word is already in). Latency 1 cycle. Backpressure on ``o``
    stops decoding.
    """

    def __init__(self, params, early_end=False):
        self._p = params
        self._early_end = bool(early_end)
        super().__init__({
            "i_count": In(stream.Signature(unsigned(COUNT_BITS))),
            "window": In(window_signature(params.word_bits, ZNZ_WINDOW)),
            "o": Out(stream.Signature(flag_layout())),
        })

    def elaborate(self, platform):
        m = Module()
        win = self.window
        # flags still to emit after this one (loaded from the count before it is read)
        remaining = Signal(COUNT_BITS, reset_less=True)
        run_left = Signal(range(1 << ZNZ_RUN_BITS))   # zero flags still owed by the last code
        starved = Signal()                            # the stream ended early: zeros from here
        error = Signal()
        held = Signal()                               # the N-th flag, kept until the drain ends

        out = OutputRegister(m, self.o, reset_less=True, name="flag")

        def emit(nonzero, last=0, err=0):
            out.emit(nonzero=nonzero, last=last, error=err)

        # padding bits of the final word are fine; whole words more are not
        ending = StreamEnd(m, win, out, error, final_beat=lambda: emit(held, last=1),
                           error_beat=lambda: emit(held, last=1, err=1), restart="COUNT",
                           pad_bits=self._p.word_bits, zero_padding=False)

        with m.FSM():
            with m.State("COUNT"):
                m.d.comb += self.i_count.ready.eq(1)
                with m.If(self.i_count.valid):
                    m.d.sync += [remaining.eq(self.i_count.payload), run_left.eq(0),
                                 starved.eq(0), error.eq(0)]
                    m.next = "DECODE"

            with m.State("DECODE"):
                nonzero = Signal()
                got = Signal()                       # a flag is decided this cycle
                fault = Signal()                     # ... and the stream is malformed
                first = win.bits[ZNZ_WINDOW - 1]
                value = win.bits[:ZNZ_RUN_BITS]
                with m.If(out.free):
                    with m.If(run_left != 0):
                        m.d.comb += got.eq(1)
                        m.d.sync += run_left.eq(run_left - 1)
                    with m.Elif(starved):
                        m.d.comb += got.eq(1)
                    with m.Elif((win.avail >= 1) & first):
                        m.d.comb += [got.eq(1), nonzero.eq(1), win.take.eq(1)]
                    with m.Elif(win.avail >= ZNZ_WINDOW):
                        m.d.comb += [got.eq(1), win.take.eq(ZNZ_WINDOW)]
                        with m.If(value > remaining):         # run longer than the words left
                            m.d.comb += fault.eq(1)
                            m.d.sync += [run_left.eq(remaining), error.eq(1)]
                        with m.Else():
                            m.d.sync += run_left.eq(value)
                    with m.Elif(win.end):
                        m.d.comb += [got.eq(1), fault.eq(1)]
                        m.d.sync += [starved.eq(1), error.eq(1)]
                with m.If(got):
                    m.d.sync += remaining.eq(remaining - 1)
                    if self._early_end:
                        # the stream's last word is in and only padding stays: no CHECK cycle
                        kept = Signal.like(win.avail, name="kept")   # bits left after the take
                        m.d.comb += kept.eq(win.avail - win.take)
                        with m.If((remaining == 0) & win.end & (kept < self._p.word_bits)):
                            emit(nonzero, last=1, err=error | fault)
                            m.d.comb += win.flush.eq(1)
                            m.next = "COUNT"
                        with m.Else():
                            ending.item(remaining == 0, lambda: emit(nonzero), held.eq(nonzero))
                    else:
                        ending.item(remaining == 0, lambda: emit(nonzero), held.eq(nonzero))

            ending.states()
        return m
