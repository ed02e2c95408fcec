"""Merge: ZNZ flags and decoded non-zero words in, the transfer's N words out."""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..stream import OutputRegister
from .layouts import decoded_word_layout, flag_layout, output_word_layout

__all__ = ["Merge"]


class Merge(wiring.Component):
    """Output 0 for a zero flag and the next decoded word for a non-zero one (golden: ``merge``).

    The N-th word is held back until the transfer's BPC words are drained up to their ``end``
    (the padding words of the final block), so that ``error`` on it covers both streams: the
    ZNZ decoder's verdict, a BPC stream that ended early (the missing words are 0) or was
    malformed, and a BPC stream with more blocks than the non-zero flags need. A transfer with
    no non-zero flag takes nothing from ``i_words``.

    Parameters
    ----------
    params : EBPCParams

    Members
    -------
    i_flags : In(stream.Signature(flag_layout))
    i_words : In(stream.Signature(decoded_word_layout))
    o : Out(stream.Signature(output_word_layout))

    Latency 1 cycle. Throughput one word per cycle; per transfer, one cycle per padding word of
    the final block and one for its ``end``. Backpressure on ``o`` stops both inputs.
    """

    def __init__(self, params):
        self._p = params
        super().__init__({
            "i_flags": In(stream.Signature(flag_layout())),
            "i_words": In(stream.Signature(decoded_word_layout(params))),
            "o": Out(stream.Signature(output_word_layout(params))),
        })

    def elaborate(self, platform):
        m = Module()
        p = self._p
        flag, word = self.i_flags.payload, self.i_words.payload
        # Without an error, every non-zero flag took one word, so the BPC stream held more
        # blocks than the flags need exactly when block_size or more words follow the N-th flag.
        any_nonzero = Signal()                    # a non-zero flag in this transfer
        extra = Signal(range(p.block_size + 1))   # words after the N-th flag (saturating)
        ended = Signal()                          # the transfer's BPC ``end`` was taken
        error = Signal()

        out = OutputRegister(m, self.o, reset_less=True, name="word")

        with m.FSM():
            with m.State("WORDS"):
                value = Signal(p.word_bits)
                go = Signal()
                with m.If(out.free & self.i_flags.valid):
                    with m.If(~flag.nonzero):
                        m.d.comb += go.eq(1)
                    with m.Elif(ended):                      # BPC ran out: 0 and an error
                        m.d.comb += go.eq(1)
                        m.d.sync += error.eq(1)
                    with m.Elif(self.i_words.valid & word.end):
                        m.d.comb += self.i_words.ready.eq(1)
                        m.d.sync += [ended.eq(1), error.eq(error | word.error)]
                    with m.Elif(self.i_words.valid):
                        m.d.comb += [go.eq(1), value.eq(word.data), self.i_words.ready.eq(1)]
                with m.If(go):
                    m.d.comb += self.i_flags.ready.eq(1)
                    # the output register is free: the N-th word waits in it, not valid yet
                    m.d.sync += [out.payload.data.eq(value), out.payload.last.eq(0),
                                 out.payload.error.eq(0)]
                    with m.If(flag.nonzero):
                        m.d.sync += any_nonzero.eq(1)
                    with m.If(flag.error):
                        m.d.sync += error.eq(1)
                    with m.If(flag.last):
                        m.next = "DRAIN"
                    with m.Else():
                        out.emit()

            with m.State("DRAIN"):
                with m.If(any_nonzero & ~ended):
                    m.d.comb += self.i_words.ready.eq(1)
                    with m.If(self.i_words.valid):
                        with m.If(word.end):
                            m.d.sync += [ended.eq(1), error.eq(error | word.error)]
                        with m.Elif(extra != p.block_size):
                            m.d.sync += extra.eq(extra + 1)
                with m.Else():
                    out.emit(last=1, error=error | (extra == p.block_size))
                    m.d.sync += [any_nonzero.eq(0), extra.eq(0), ended.eq(0), error.eq(0)]
                    m.next = "WORDS"
        return m
