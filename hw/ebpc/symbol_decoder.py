"""Symbol decoder: BPC bits in, each block's base and decoded symbol codes out; fast and serial."""

from amaranth.hdl import Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..bitunpack import window_signature
from ..stream import OutputRegister
from .layouts import symbol_code_bits, symbol_lanes, symbols_layout

__all__ = ["SymbolDecoder", "SerialSymbolDecoder", "symbol_window"]


def symbol_window(p, lanes):
    """Bits a decoder of ``lanes`` lanes looks at per cycle: the base and lanes - 1 codes, or
    lanes codes."""
    code = symbol_code_bits(p)
    return max(p.word_bits + (lanes - 1) * code, lanes * code)


class SymbolDecoder(wiring.Component):
    """Parse BPC blocks: base, then codes until ``word_bits + 1`` symbols are known (golden:
    ``parse_bpc``, ``decode_symbols``).

    Each cycle decodes up to :attr:`lanes` elements (the base counts as one) whose bits are
    all present: lane k starts where lane k - 1 ended. A block of 8 words takes at most 5 cycles
    at the default parameters. The transfer's BPC stream ends when, at a block boundary, its
    final word is in and fewer than ``word_bits`` bits are left (padding): then an ``end`` item
    leaves and the window is flushed. Faults set ``error`` on that ``end`` item: a zero run past
    the end of its block (cut there), a position outside the plane (read as X = 0), or a stream
    that ends inside a block (the partial block is dropped).

    Parameters
    ----------
    params : EBPCParams

    Members
    -------
    window : In(window_signature(word_bits, symbol_window(params, lanes)))
        The BPC bits, from an unpacker of ``word_bits``-bit words.
    o : Out(stream.Signature(symbols_layout(params, lanes)))
        Registered (the payload register has no reset; ``o.valid`` does).

    Latency 1 cycle. Throughput: :attr:`lanes` (``symbol_lanes(params)``) elements per cycle
    while bits are available. Backpressure on ``o`` stops decoding.
    """

    def __init__(self, params):
        self._p = params
        width = symbol_window(params, self.lanes)
        super().__init__({
            "window": In(window_signature(params.word_bits, width)),
            "o": Out(stream.Signature(symbols_layout(params, self.lanes))),
        })

    @property
    def lanes(self):
        """Elements (the base or symbol codes) decoded per cycle."""
        return symbol_lanes(self._p)

    def _output(self, m):
        """``(item, gate, go, put)``: the payload an item is written to, when one may be written
        this cycle, when it is handed over (its bits taken), and ``put(*statements)`` that
        writes it and raises ``o.valid``."""
        reg = OutputRegister(m, self.o, reset_less=True, name="item")
        return reg.payload, reg.free, Const(1), reg.emit

    def _decode(self, m, seg, name):
        """(length, symbols, x, direct, bad) of the code at the top of ``seg``."""
        p = self._p
        c, pb = len(seg), p.plane_bits
        length = Signal(range(c + 1), name=f"{name}_len")
        k = Signal(range(p.planes + 2), name=f"{name}_k")
        x = Signal(pb, name=f"{name}_x")
        direct = Signal(name=f"{name}_direct")
        bad = Signal(name=f"{name}_bad")
        top5 = seg[c - 5:]
        pos = seg[c - 5 - p.pos_bits:c - 5]
        m.d.comb += k.eq(1)
        with m.If(seg[c - 1]):
            m.d.comb += [length.eq(1 + pb), x.eq(seg[c - 1 - pb:c - 1])]
        with m.Elif(seg[c - 2:] == 0b01):
            m.d.comb += length.eq(2)
        with m.Elif(seg[c - 3:] == 0b001):
            m.d.comb += [length.eq(3 + p.run_bits), k.eq(seg[c - 3 - p.run_bits:c - 3] + 2)]
        with m.Elif(top5 == 0b00000):
            m.d.comb += [length.eq(5), x.eq((1 << pb) - 1)]
        with m.Elif(top5 == 0b00001):
            m.d.comb += [length.eq(5), direct.eq(1)]
        with m.Elif(top5 == 0b00010):
            m.d.comb += [length.eq(5 + p.pos_bits), x.eq(Const(0b11 << (pb - 2), pb) >> pos),
                         bad.eq(pos > pb - 2)]
        with m.Else():
            m.d.comb += [length.eq(5 + p.pos_bits), x.eq(Const(1 << (pb - 1), pb) >> pos),
                         bad.eq(pos > pb - 1)]
        return length, k, x, direct, bad

    def elaborate(self, platform):
        m = Module()
        p = self._p
        win = self.window
        width = len(win.bits)
        code_bits = symbol_code_bits(p)
        lanes = self.lanes

        at_base = Signal(init=1)
        start = Signal(range(p.planes + 1))       # symbols of the block decoded so far
        error = Signal()
        item, gate, go, put = self._output(m)

        # lane l decodes the code that starts where lane l - 1 ended
        offset = Mux(at_base, p.word_bits, 0)
        symbol = start
        alive = Const(1)                          # no earlier lane stopped
        results, take = [], Signal(range(width + 1))
        for lane in range(lanes):
            seg = Signal(code_bits, name=f"seg{lane}")
            shifted = Signal(width, name=f"shifted{lane}")
            m.d.comb += [shifted.eq(win.bits << offset), seg.eq(shifted[width - code_bits:])]
            length, k, x, direct, bad = self._decode(m, seg, f"lane{lane}")
            end_at = Signal(range(width + code_bits + 1), name=f"end{lane}")
            m.d.comb += end_at.eq(offset + length)
            room = Signal(range(p.planes + 1), name=f"room{lane}")
            m.d.comb += room.eq(p.planes - symbol)
            ok = Signal(name=f"ok{lane}")
            fits = end_at <= win.avail
            if lane == lanes - 1:
                fits = fits & ~at_base            # the base used up one lane's bits
            m.d.comb += ok.eq(alive & fits & (room != 0))
            kk = Signal(range(p.planes + 1), name=f"kk{lane}")
            m.d.comb += kk.eq(Mux(k > room, room, k))
            results.append((ok, kk, x, direct, bad | (k > room), symbol))
            nxt = Signal(range(p.planes + 1), name=f"sym{lane}")
            m.d.comb += nxt.eq(Mux(ok, symbol + kk, symbol))
            with m.If(ok):
                m.d.comb += take.eq(end_at)
            alive, offset, symbol = ok, end_at, nxt
        done = symbol == p.planes                 # symbol count after the last lane taken
        any_code = results[0][0]
        base_ok = at_base & (win.avail >= p.word_bits)

        def close(err):
            """An ``end`` item; on its hand-over the window is flushed and a new block begins."""
            put(item.end.eq(1), item.error.eq(err), item.done.eq(0), item.has_base.eq(0),
                *(item.lanes[lane].valid.eq(0) for lane in range(lanes)))
            with m.If(go):
                m.d.comb += win.flush.eq(1)
                m.d.sync += [error.eq(0), at_base.eq(1), start.eq(0)]

        with m.If(gate):
            with m.If(at_base & win.end & (win.avail < p.word_bits)):
                close(error)              # padding only: the transfer's BPC stream is over
            with m.Elif(any_code | base_ok):
                put(item.end.eq(0), item.error.eq(0), item.has_base.eq(at_base),
                    item.base.eq(win.bits[width - p.word_bits:]), item.start.eq(start),
                    item.done.eq(done),
                    *(s for lane, (ok, kk, x, direct, bad, _) in enumerate(results)
                      for s in (item.lanes[lane].valid.eq(ok), item.lanes[lane].k.eq(kk),
                                item.lanes[lane].x.eq(Mux(bad, 0, x)),
                                item.lanes[lane].direct.eq(direct))))
                with m.If(go):
                    m.d.comb += win.take.eq(Mux(any_code, take, p.word_bits))
                    for ok, _, _, _, bad, _ in results:
                        with m.If(ok & bad):
                            m.d.sync += error.eq(1)
                    with m.If(done):
                        m.d.sync += [at_base.eq(1), start.eq(0)]
                    with m.Else():
                        m.d.sync += [at_base.eq(0), start.eq(symbol)]
            with m.Elif(win.end):
                close(1)                  # the stream ends inside a block: drop it, start over
        return m


class SerialSymbolDecoder(SymbolDecoder):
    """The area-optimised counterpart of :class:`SymbolDecoder`: one element (the base or one
    code) per cycle through a narrower window, and ``o`` not registered.

    Parameters
    ----------
    params : EBPCParams

    Members
    -------
    window : In(window_signature(word_bits, symbol_window(params, 1)))
    o : Out(stream.Signature(symbols_layout(params, 1)))
        Combinational from the window and this stage's state (:class:`SerialPlaneBuffer`
        registers what it takes); the bits are taken when ``o.ready``.

    Latency 0 cycles. Throughput: one element per cycle while bits are available.
    Backpressure on ``o`` stops decoding.
    """

    #: elements (the base or one code) decoded per cycle
    lanes = 1

    def _output(self, m):
        def put(*statements):
            m.d.comb += [self.o.valid.eq(1), *statements]
        return self.o.payload, Const(1), self.o.ready, put
