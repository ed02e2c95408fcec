"""Zero-run coder: the ZNZ codes of a word stream, and its non-zero words for the BPC path."""

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from golden.ebpc import ZNZ_MAX_RUN

from ..bitpack import code_layout
from ..stream import OutputRegister
from .layouts import ZNZ_CODE_BITS, word_layout

__all__ = ["ZeroRunCoder"]


class ZeroRunCoder(wiring.Component):
    """Split words into ZNZ codes and the non-zero words (golden: ``zero_run_codes``).

    A non-zero word emits ``1`` (after the code of the zero run it ends, if any: up to 6 bits);
    the 16th zero of a run, or the last word of a transfer inside a run, emits ``0`` + (k - 1).
    The code emitted for the last word of a transfer carries ``last``: every transfer ends with
    a code. Non-zero words leave on ``o_nz`` one word late, so that ``last`` can mark the last
    *non-zero* word of the transfer; a transfer with no non-zero word sends nothing there.

    Parameters
    ----------
    params : EBPCParams

    Members
    -------
    i : In(stream.Signature(word_layout))
    o_znz : Out(stream.Signature(code_layout(6)))
    o_nz : Out(stream.Signature(word_layout))

    Latency: 1 cycle to ``o_znz``; a non-zero word reaches ``o_nz`` 1 cycle after the next non-zero
    word or the end of its transfer is accepted. Throughput: one word per cycle. Backpressure:
    ``i.ready`` is low while either output holds an unaccepted item.
    """

    def __init__(self, params):
        self._p = params
        super().__init__({
            "i": In(stream.Signature(word_layout(params))),
            "o_znz": Out(stream.Signature(code_layout(ZNZ_CODE_BITS))),
            "o_nz": Out(stream.Signature(word_layout(params))),
        })

    def elaborate(self, platform):
        m = Module()
        w = self.i.payload
        run = Signal(range(ZNZ_MAX_RUN))            # zeros pending in the current run
        held = Signal.like(w.data, reset_less=True)  # the latest non-zero word, not yet sent
        held_valid = Signal()
        held_end = Signal()                         # ... and it ends its transfer

        # the payloads have no reset: they are read only while valid
        znz = OutputRegister(m, self.o_znz, reset_less=True, name="znz")
        nz = OutputRegister(m, self.o_nz, reset_less=True, name="nz")
        znz_free, nz_free = znz.free, nz.free
        m.d.comb += self.i.ready.eq(znz_free & nz_free)
        take = self.i.valid & self.i.ready
        zero = w.data == 0

        # ---- ZNZ code of this word
        code, length = Signal(ZNZ_CODE_BITS), Signal(range(ZNZ_CODE_BITS + 1))
        full_run = run == ZNZ_MAX_RUN - 1
        with m.If(zero):
            with m.If(full_run | w.last):
                m.d.comb += [code.eq(run), length.eq(5)]          # 0 + (k - 1), k = run + 1
        with m.Elif(run != 0):
            m.d.comb += [code.eq(Cat(Const(1, 1), run - 1)), length.eq(6)]
        with m.Else():
            m.d.comb += [code.eq(1), length.eq(1)]

        with m.If(take & (length != 0)):
            znz.emit()
        with m.If(take):
            m.d.sync += [
                znz.payload.bits.eq(code),
                znz.payload.len.eq(length),
                znz.payload.last.eq(w.last),
            ]
            with m.If(zero & ~full_run & ~w.last):
                m.d.sync += run.eq(run + 1)
            with m.Else():
                m.d.sync += run.eq(0)

        # ---- non-zero words, one late: release the held word when its successor or the end of
        # its transfer is known
        release = held_valid & (held_end | (take & (~zero | w.last)))
        with m.If(release & nz_free):
            nz.emit(held_valid.eq(0), data=held, last=held_end | (take & zero & w.last))
        with m.If(take & ~zero):
            m.d.sync += [held.eq(w.data), held_valid.eq(1), held_end.eq(w.last)]
        with m.Elif(release & nz_free):
            m.d.sync += held_end.eq(0)
        return m
