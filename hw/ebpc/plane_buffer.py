"""Plane buffer: decoded symbols in, whole blocks (base + deltas) out; fast and serial."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..stream import OutputRegister
from .layouts import decoded_block_layout, symbol_lanes, symbols_layout

__all__ = ["PlaneBuffer", "SerialPlaneBuffer", "next_planes", "plane_deltas"]


def next_planes(m, p, item, planes, prev, take):
    """The planes after symbols item ``item`` when ``take`` (lane by lane, each writing k planes
    from its first symbol: P = X XOR previous plane, or 0 for ``direct``), else ``planes``; and
    the last plane written. ``take`` gates the lanes, so the planes need no enable of their
    own: they are written with the result every cycle."""
    new = list(planes)
    carry = Mux(item.has_base, 0, prev)
    first = item.start
    for n, lane in enumerate(item.lanes):
        value = Signal(p.plane_bits, name=f"lane{n}_plane")
        m.d.comb += value.eq(Mux(lane.direct, 0, lane.x ^ carry))
        writes = take & lane.valid
        new = [Mux(writes & (first <= b) & (b < first + lane.k), value, new[b])
               for b in range(p.planes)]
        carry = Mux(lane.valid, value, carry)
        first = Mux(lane.valid, first + lane.k, first)
    return new, carry


def plane_deltas(p, planes):
    """The deltas d1 .. d(n-1) of a block read across its planes (bit b from plane b, d1 at the
    MSB of each plane)."""
    return [Cat(*(planes[b][p.plane_bits - 1 - i] for b in range(p.planes)))
            for i in range(p.plane_bits)]


class PlaneBuffer(wiring.Component):
    """Undo DBX and collect a block's bit-planes (golden: ``planes_from_symbols``).

    For every decoded code, P = X XOR (previous plane), or 0 for ``direct``; a zero run of k
    symbols repeats the previous plane k times. When the block's last symbol is known, its
    deltas (the planes read across) and base leave as one block. ``end`` items pass through.

    Parameters
    ----------
    params : EBPCParams
    lanes : int
        Symbol codes per item (default ``symbol_lanes(params)``, :class:`SymbolDecoder`'s; 1
        behind :class:`SerialSymbolDecoder`).
    hold_end : bool
        An ``end`` that finds the previous block still on ``o`` waits in a register of its own,
        so the next transfer's first block is collected meanwhile (it leaves after the ``end``).
        Without it the ``end`` waits on ``i``, which keeps ``i.ready`` shorter (Fmax).

    Members
    -------
    i : In(stream.Signature(symbols_layout(params, lanes)))
        From :class:`SymbolDecoder` (or :class:`SerialSymbolDecoder`).
    o : Out(stream.Signature(decoded_block_layout))

    Latency 1 cycle from the item that completes a block. Throughput one item per cycle.
    Backpressure: an item that completes a block (or ends the transfer) waits while the previous
    block is still on ``o``; ``i.ready`` depends on ``i.payload``.
    """

    def __init__(self, params, lanes=None, hold_end=False):
        self._p = params
        self._hold_end = bool(hold_end)
        lanes = symbol_lanes(params) if lanes is None else lanes
        super().__init__({
            "i": In(stream.Signature(symbols_layout(params, lanes))),
            "o": Out(stream.Signature(decoded_block_layout(params))),
        })

    def elaborate(self, platform):
        m = Module()
        p = self._p
        item = self.i.payload
        # data registers without reset: a block writes every plane before it leaves, and the
        # payload is read only while valid
        planes = [Signal(p.plane_bits, name=f"plane{b}", reset_less=True)
                  for b in range(p.planes)]
        prev = Signal(p.plane_bits, reset_less=True)   # the last plane written
        base = Signal(p.word_bits, reset_less=True)

        out = OutputRegister(m, self.o, reset_less=True, name="blk")
        if self._hold_end:
            # the held ``end`` leaves before the next block
            pending, pending_error = Signal(), Signal()
            free = out.free & ~pending
            m.d.comb += self.i.ready.eq(Mux(item.end, ~pending, free | ~item.done))
        else:
            pending = Const(0)
            m.d.comb += self.i.ready.eq(out.free | ~(item.done | item.end))
        take = self.i.valid & self.i.ready
        new, carry = next_planes(m, p, item, planes, prev, take)

        m.d.sync += [planes[b].eq(new[b]) for b in range(p.planes)]
        with m.If(take):
            m.d.sync += prev.eq(carry)
            with m.If(item.has_base):
                m.d.sync += base.eq(item.base)
        if self._hold_end:
            with m.If(out.free & pending):
                out.emit(end=1, error=pending_error)
                m.d.sync += pending.eq(0)
            with m.If(take & item.end & ~out.free):
                m.d.sync += [pending.eq(1), pending_error.eq(item.error)]
        with m.If(take & (item.done | item.end) & out.free):
            out.emit(*(out.payload.deltas[i].eq(d) for i, d in enumerate(plane_deltas(p, new))),
                     end=item.end, error=item.error, base=Mux(item.has_base, item.base, base))
        return m


class SerialPlaneBuffer(wiring.Component):
    """The area-optimised counterpart of :class:`PlaneBuffer` (golden:
    ``planes_from_symbols``): the planes are collected in the register that ``o`` shows, so
    there is one block of storage instead of two.

    Parameters
    ----------
    params : EBPCParams

    Members
    -------
    i : In(stream.Signature(symbols_layout(params, 1)))
        One lane per item, from :class:`SerialSymbolDecoder`.
    o : Out(stream.Signature(decoded_block_layout))

    Latency 1 cycle from the item that completes a block. Throughput one item per cycle while a
    block fills; no item is accepted while a complete block waits on ``o`` (``i.ready`` is
    ``~o.valid | o.ready``). The planes, the base and the previous plane have no reset; only
    ``o.valid`` does.
    """

    def __init__(self, params):
        self._p = params
        super().__init__({
            "i": In(stream.Signature(symbols_layout(params, 1))),
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

        emits = item.done | item.end
        out = OutputRegister(m, self.o)           # its payload is driven from the planes
        m.d.comb += self.i.ready.eq(out.free)
        take = self.i.valid & self.i.ready
        new, carry = next_planes(m, p, item, planes, prev, take)
        with m.If(take & emits):
            out.emit(end.eq(item.end), error.eq(item.error))
        m.d.sync += [planes[b].eq(new[b]) for b in range(p.planes)]
        with m.If(take):
            m.d.sync += [prev.eq(carry), base.eq(Mux(item.has_base, item.base, base))]
        return m
