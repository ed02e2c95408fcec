"""Single-buffered plane buffer: decoded symbols in, whole blocks out, one block register."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..stream import OutputRegister
from .layouts import decoded_block_layout, symbols_layout
from .plane_buffer import next_planes, plane_deltas

__all__ = ["PlaneBlock"]


class PlaneBlock(wiring.Component):
    """The area-optimised counterpart of :class:`PlaneBuffer` (golden:
    ``planes_from_symbols``): the planes are collected in the register that ``o`` shows, so
    there is one block of storage instead of two.

    Parameters
    ----------
    params : EBPCParams

    Members
    -------
    i : In(stream.Signature(symbols_layout(serial=True)))
        One lane per item, from ``SymbolDecoder(serial=True)``.
    o : Out(stream.Signature(decoded_block_layout))

    Latency 1 cycle from the item that completes a block. Throughput one item per cycle while a
    block fills; no item is accepted while a complete block waits on ``o`` (``i.ready`` is
    ``~o.valid | o.ready``). The planes, the base and the previous plane have no reset; only
    ``o.valid`` does.
    """

    def __init__(self, params):
        self._p = params
        super().__init__({
            "i": In(stream.Signature(symbols_layout(params, serial=True))),
            "o": Out(stream.Signature(decoded_block_layout(params))),
        })

    def elaborate(self, platform):
        m = Module()
        p = self._p
        item = self.i.payload
        planes = [Signal(p.plane_bits, name=f"plane{b}", reset_less=True)
                  for b in range(p.planes)]
        prev = Signal(p.plane_bits, reset_less=True)
        base = Signal(p.word_bits, reset_less=True)
        end, error = Signal(), Signal()
        m.d.comb += [self.o.payload.base.eq(base), self.o.payload.end.eq(end),
                     self.o.payload.error.eq(error)]
        m.d.comb += [self.o.payload.deltas[i].eq(d) for i, d in enumerate(plane_deltas(p, planes))]

        new, carry = next_planes(m, p, item, planes, prev)
        emits = item.done | item.end
        out = OutputRegister(m, self.o)           # its payload is driven from the planes
        m.d.comb += self.i.ready.eq(out.free)
        take = self.i.valid & self.i.ready
        with m.If(take & emits):
            out.emit(end.eq(item.end), error.eq(item.error))
        with m.If(take):
            m.d.sync += [planes[b].eq(new[b]) for b in range(p.planes)]
            m.d.sync += [prev.eq(carry), base.eq(Mux(item.has_base, item.base, base))]
        return m
