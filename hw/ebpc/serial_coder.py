"""Serial symbol coder: BPC blocks in, one code (the base or one symbol's) per cycle out."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..bitpack import code_layout
from ..stream import OutputRegister
from .layouts import block_layout, item_bits
from .symbol_coder import block_plane, nonzero_code, run_code

__all__ = ["SerialSymbolCoder"]


class SerialSymbolCoder(wiring.Component):
    """Code one block, one element per cycle (golden: ``bit_planes``, ``dbx``,
    ``symbol_codes``): the area-optimised counterpart of :class:`SymbolCoder`.

    Cycle 0 sends the base; then symbol j = plane j XOR plane j - 1 is classified, one per
    cycle, with one code table. A zero symbol sends nothing and lengthens the current run; the
    run's code leaves in the cycle it ends (the next non-zero symbol waits one cycle), or after
    the last symbol.

    Parameters
    ----------
    params : EBPCParams

    Members
    -------
    i : In(stream.Signature(block_layout))
    o : Out(stream.Signature(code_layout(item_bits(params, serial=True))))

    Latency: 1 cycle from a block to its base. Throughput: one code per cycle; a block takes
    ``word_bits + 2`` cycles plus one per zero run that a non-zero symbol ends. Backpressure: the
    block stays on ``i`` (``i.ready`` low) until its final code is taken by ``o``.
    """

    def __init__(self, params):
        self._p = params
        super().__init__({
            "i": In(stream.Signature(block_layout(params))),
            "o": Out(stream.Signature(code_layout(item_bits(params, serial=True)))),
        })

    def elaborate(self, platform):
        m = Module()
        p = self._p
        blk = self.i.payload
        phase = Signal(range(p.planes + 2))        # 0 base, 1 + j symbol j, planes + 1 tail run
        run = Signal(range(p.planes + 1))          # zero symbols waiting for their code
        prev = Signal(p.plane_bits)                # plane j - 1 (0 before plane 0)

        plane = Signal(p.plane_bits)
        with m.Switch(phase):
            for b in range(p.planes):
                with m.Case(b + 1):
                    m.d.comb += plane.eq(block_plane(p, blk, b))
        x = plane ^ prev
        zero = x == 0
        code, length = nonzero_code(m, p, x, plane, "sym")
        r_code, r_len = run_code(p, run)

        at_base = phase == 0
        tail = phase == p.planes + 1
        symbol = ~at_base & ~tail
        flush = (run != 0) & (tail | (symbol & ~zero))   # the run ends here: its code first
        sends = at_base | flush | (symbol & ~zero)
        final = tail | ((phase == p.planes) & ~zero & (run == 0))

        out = OutputRegister(m, self.o)
        m.d.comb += self.i.ready.eq(out.free & final)
        with m.If(out.free & self.i.valid):
            with m.If(sends):                   # the payload is written in every cycle
                out.emit()
            m.d.sync += [
                self.o.payload.bits.eq(Mux(at_base, blk.base, Mux(flush, r_code, code))),
                self.o.payload.len.eq(Mux(at_base, p.word_bits, Mux(flush, r_len, length))),
                self.o.payload.last.eq(blk.last & final),
            ]
            with m.If(final):
                m.d.sync += [phase.eq(0), run.eq(0), prev.eq(0)]
            with m.Elif(flush):
                m.d.sync += run.eq(0)
            with m.Else():
                m.d.sync += phase.eq(phase + 1)
                with m.If(symbol):
                    m.d.sync += [prev.eq(plane), run.eq(Mux(zero, run + 1, 0))]
        return m
