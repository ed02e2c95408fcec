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
    skip : Out(1)
        To :class:`DeltaReverse`: the word taken is padding (or starts a surplus block), drop
        the rest of its block. High too when the N-th flag takes its word.

    Latency 1 cycle. Throughput one word per cycle; per transfer, the N-th word leaves once the
    ``end`` is taken: the padding words of the final block cost one cycle in all (the drain
    begins with the N-th flag). Backpressure on ``o`` stops both inputs.
    """

    def __init__(self, params):
        self._p = params
        super().__init__({
            "i_flags": In(stream.Signature(flag_layout())),
            "i_words": In(stream.Signature(decoded_word_layout(params))),
            "o": Out(stream.Signature(output_word_layout(params))),
            "skip": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        p = self._p
        flag, word = self.i_flags.payload, self.i_words.payload
        # Without an error, every non-zero flag took one word, so the BPC stream held more
        # blocks than the flags need exactly when a block's first word follows the N-th flag
        # (fewer than block_size padding words end the N-th flag's block).
        any_nonzero = Signal()                    # a non-zero flag in this transfer
        surplus = Signal()                        # a block began after the N-th flag
        ended = Signal()                          # the transfer's BPC ``end`` was taken
        error = Signal()

        out = OutputRegister(m, self.o, reset_less=True, name="word")

        def drain(on_end):
            """Take the next item of ``i_words`` after the N-th flag: ``on_end()`` for the
            ``end``; a word is padding, and the rest of its block is dropped with it (a block's
            first word means a surplus block)."""
            m.d.comb += self.i_words.ready.eq(1)
            with m.If(self.i_words.valid):
                with m.If(word.end):
                    on_end()
                with m.Else():
                    m.d.comb += self.skip.eq(1)
                    with m.If(word.first):
                        m.d.sync += surplus.eq(1)

        def take_end():
            m.d.sync += [ended.eq(1), error.eq(error | word.error)]

        with m.FSM():
            with m.State("WORDS"):
                value = Signal(p.word_bits)
                go = Signal()
                with m.If(out.free & self.i_flags.valid):
                    with m.If(~flag.nonzero):
                        m.d.comb += go.eq(1)
                        with m.If(flag.last & any_nonzero & ~ended):   # the drain starts here
                            drain(take_end)
                    with m.Elif(ended):                      # BPC ran out: 0 and an error
                        m.d.comb += go.eq(1)
                        m.d.sync += error.eq(1)
                    with m.Elif(self.i_words.valid & word.end):
                        m.d.comb += self.i_words.ready.eq(1)
                        take_end()
                    with m.Elif(self.i_words.valid):
                        m.d.comb += [go.eq(1), value.eq(word.data), self.i_words.ready.eq(1),
                                     self.skip.eq(flag.last)]   # the rest of the block: padding
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
                finish = Signal()                 # the N-th word leaves
                with m.If(any_nonzero & ~ended):
                    def leave():
                        m.d.comb += finish.eq(1)
                        out.emit(last=1, error=error | surplus | word.error)
                    drain(leave)
                with m.Else():
                    m.d.comb += finish.eq(1)
                    out.emit(last=1, error=error | surplus)
                with m.If(finish):
                    m.d.sync += [any_nonzero.eq(0), surplus.eq(0), ended.eq(0), error.eq(0)]
                    m.next = "WORDS"
        return m
