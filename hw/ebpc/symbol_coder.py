"""Symbol coder: BPC blocks in, the block's bit string out as a few variable-length items (fast),
or one code per cycle (serial)."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..bitpack import code_layout
from ..stream import OutputRegister
from .layouts import block_layout, item_bits, symbol_code_bits, symbol_lanes

__all__ = ["SymbolCoder", "SerialSymbolCoder", "block_plane", "run_code", "nonzero_code"]


def block_plane(p, blk, b):
    """Bit-plane ``b`` of block ``blk`` (bit b of every delta, d1 at the MSB)."""
    return Cat(*(blk.deltas[i][b] for i in reversed(range(p.plane_bits))))


def run_code(p, run):
    """(code, length) of a run of ``run`` >= 1 zero symbols: ``01``, or ``001`` + (run - 2)."""
    return (Mux(run == 1, 0b01, Cat((run - 2)[:p.run_bits], Const(0b001, 3))),
            Mux(run == 1, 2, 3 + p.run_bits))


def nonzero_code(m, p, x, plane, name):
    """(code, length) of the non-zero DBX symbol ``x`` of bit-plane ``plane``: the code table
    of the format (all ones, plane zero, two adjacent ones, a single one, else raw)."""
    pb, full = p.plane_bits, (1 << p.plane_bits) - 1
    cbits = symbol_code_bits(p)
    code, length = Signal(cbits, name=f"{name}_code"), Signal(range(cbits + 1), name=f"{name}_len")
    single = [x == (1 << (pb - 1 - k)) for k in range(pb)]
    double = [x == (0b11 << (pb - 2 - k)) for k in range(pb - 1)]
    with m.If(x == full):
        m.d.comb += [code.eq(0b00000), length.eq(5)]
    with m.Elif(plane == 0):
        m.d.comb += [code.eq(0b00001), length.eq(5)]
    for k in range(pb - 1):
        with m.Elif(double[k]):
            m.d.comb += [code.eq(Cat(Const(k, p.pos_bits), Const(0b00010, 5))),
                         length.eq(5 + p.pos_bits)]
    for k in range(pb):
        with m.Elif(single[k]):
            m.d.comb += [code.eq(Cat(Const(k, p.pos_bits), Const(0b00011, 5))),
                         length.eq(5 + p.pos_bits)]
    with m.Else():
        m.d.comb += [code.eq(Cat(x, Const(1, 1))), length.eq(1 + pb)]
    return code, length


class SymbolCoder(wiring.Component):
    """Code one block: base, then the codes of its DBX symbols (golden: ``bit_planes``, ``dbx``,
    ``symbol_codes``).

    All ``word_bits + 1`` symbols are classified in parallel from the block's bit-planes (XOR of
    neighbouring planes, the code table of the format, zero runs merged inside the block). The
    sequence base, code 0, code 1, ... leaves as items of ``symbol_lanes`` elements each,
    concatenated MSB first: 5 items per block at the default parameters, so a block of 8 words
    needs at most 5 of its 8 cycles. Items after the last non-empty one are skipped, so the
    item that ends a transfer always carries bits.

    Parameters
    ----------
    params : EBPCParams

    Members
    -------
    i : In(stream.Signature(block_layout))
    o : Out(stream.Signature(code_layout(item_bits(params, symbol_lanes(params)))))

    Latency: 1 cycle from a block to its first item. Throughput: one item per cycle, one block
    per ceil((word_bits + 2) / symbol_lanes) cycles at most. Backpressure: the block stays on
    ``i`` (``i.ready`` low) until its final item is taken by ``o``.
    """

    def __init__(self, params):
        self._p = params
        super().__init__({
            "i": In(stream.Signature(block_layout(params))),
            "o": Out(stream.Signature(code_layout(item_bits(params, self.lanes)))),
        })

    @property
    def lanes(self):
        """Elements (the base or symbol codes) per item."""
        return symbol_lanes(self._p)

    def _symbol_codes(self, m, blk):
        """(code, length) of every symbol of ``blk``, zero runs merged."""
        p = self._p
        planes = [block_plane(p, blk, b) for b in range(p.planes)]
        xs = [planes[0]] + [planes[j] ^ planes[j - 1] for j in range(1, p.planes)]
        zero = [x == 0 for x in xs]

        run = [None] * p.planes               # zero symbols from j to the end of the run
        following = Const(0, range(p.planes + 1))
        for j in reversed(range(p.planes)):
            run[j] = Signal(range(p.planes + 1), name=f"run{j}")
            m.d.comb += run[j].eq(Mux(zero[j], following + 1, 0))
            following = run[j]

        codes = []
        cbits = symbol_code_bits(p)
        for j, (x, plane) in enumerate(zip(xs, planes)):
            nz_code, nz_len = nonzero_code(m, p, x, plane, f"sym{j}")
            code, length = Signal(cbits, name=f"code{j}"), Signal(range(cbits + 1),
                                                                  name=f"len{j}")
            opens = zero[j] if j == 0 else zero[j] & ~zero[j - 1]
            r_code, r_len = run_code(p, run[j])
            with m.If(opens):                 # the first zero symbol carries its run's code
                m.d.comb += [code.eq(r_code), length.eq(r_len)]
            with m.Elif(~zero[j]):
                m.d.comb += [code.eq(nz_code), length.eq(nz_len)]
            codes.append((code, length))
        return codes

    def elaborate(self, platform):
        m = Module()
        p = self._p
        lanes = self.lanes
        blk = self.i.payload
        elements = [(blk.base, Const(p.word_bits))] + self._symbol_codes(m, blk)
        items = [elements[t:t + lanes] for t in range(0, len(elements), lanes)]
        items[-1] += [(Const(0, 1), Const(0))] * (lanes - len(items[-1]))

        # the last item with any bits ends the block (item 0 always has the base)
        last_item = Signal(range(len(items)))
        for t, item in enumerate(items):
            with m.If(Cat(*(length != 0 for _, length in item)).any()):
                m.d.comb += last_item.eq(t)

        phase = Signal(range(len(items)))
        lane_code = [Signal(max(len(c) for c, _ in elements), name=f"lane{k}_code")
                     for k in range(lanes)]
        lane_len = [Signal(range(max(p.word_bits, symbol_code_bits(p)) + 1), name=f"lane{k}_len")
                    for k in range(lanes)]
        with m.Switch(phase):
            for t, item in enumerate(items):
                with m.Case(t):
                    for k, (code, length) in enumerate(item):
                        m.d.comb += [lane_code[k].eq(code), lane_len[k].eq(length)]

        # concatenate the lanes, MSB first
        width = item_bits(p, lanes)
        bits, total = Const(0, width), Const(0, range(width + 1))
        for k in range(lanes):
            nb, nt = Signal(width, name=f"cat{k}"), Signal(range(width + 1), name=f"catlen{k}")
            mask = (Const(1, width + 1) << lane_len[k]) - 1
            m.d.comb += [nb.eq((bits << lane_len[k]) | (lane_code[k] & mask)),
                         nt.eq(total + lane_len[k])]
            bits, total = nb, nt

        out = OutputRegister(m, self.o, reset_less=True, name="item")
        final = phase == last_item
        m.d.comb += self.i.ready.eq(out.free & final)
        with m.If(out.free & self.i.valid):
            out.emit(phase.eq(Mux(final, 0, phase + 1)),
                     bits=bits, len=total, last=blk.last & final)
        return m


class SerialSymbolCoder(wiring.Component):
    """Code one block, one element per cycle (golden: ``bit_planes``, ``dbx``,
    ``symbol_codes``): the area-optimised counterpart of :class:`SymbolCoder`.

    Cycle 0 sends the base; then symbol j = plane j XOR plane j - 1 is classified, one per
    cycle, with one code table. A zero symbol sends nothing and lengthens the current run (by
    two when symbol j + 1 is zero too: both take one cycle); the run's code leaves in the cycle
    a non-zero symbol ends it (that symbol waits one cycle), or with the block's last symbol
    when that one is zero.

    Parameters
    ----------
    params : EBPCParams

    Members
    -------
    i : In(stream.Signature(block_layout))
    o : Out(stream.Signature(code_layout(item_bits(params, 1))))

    Latency: 1 cycle from a block to its base. Throughput: one code per cycle; a block takes
    ``word_bits + 2`` cycles plus one per zero run that a non-zero symbol ends, less one per
    pair of zero symbols taken together. Backpressure: the
    block stays on ``i`` (``i.ready`` low) until its final code is taken by ``o``.
    """

    #: elements (the base or one symbol code) per item
    lanes = 1

    def __init__(self, params):
        self._p = params
        super().__init__({
            "i": In(stream.Signature(block_layout(params))),
            "o": Out(stream.Signature(code_layout(item_bits(params, self.lanes)))),
        })

    def elaborate(self, platform):
        m = Module()
        p = self._p
        blk = self.i.payload
        phase = Signal(range(p.planes + 1))        # 0 base, 1 + j symbol j
        run = Signal(range(p.planes + 1))          # zero symbols waiting for their code
        prev = Signal(p.plane_bits)                # plane j - 1 (0 before plane 0)

        plane = Signal(p.plane_bits)               # plane j (phase 1 + j)
        after = Signal(p.plane_bits)               # plane j + 1
        with m.Switch(phase):
            for b in range(p.planes):
                with m.Case(b + 1):
                    m.d.comb += plane.eq(block_plane(p, blk, b))
                    if b + 1 < p.planes:
                        m.d.comb += after.eq(block_plane(p, blk, b + 1))
        x = plane ^ prev
        zero = x == 0
        # symbols j and j + 1 both zero: the run grows by two in one cycle
        code, length = nonzero_code(m, p, x, plane, "sym")
        at_base = phase == 0
        symbol = ~at_base
        two = symbol & zero & (phase < p.planes) & (after == plane)
        last = Mux(two, phase + 1, phase) == p.planes
        ends = last & zero                       # the block's last run ends with this symbol
        flush = (run != 0) & symbol & ~zero      # a non-zero symbol ends the run: its code first
        r_code, r_len = run_code(p, Mux(ends, run + Mux(two, 2, 1), run))
        sends = at_base | flush | (symbol & ~zero) | ends
        final = last & (zero | (run == 0))

        out = OutputRegister(m, self.o, reset_less=True, name="item")
        m.d.comb += self.i.ready.eq(out.free & final)
        with m.If(out.free & self.i.valid):
            with m.If(sends):                   # the payload is written in every cycle
                out.emit()
            m.d.sync += [
                out.payload.bits.eq(Mux(at_base, blk.base, Mux(flush | ends, r_code, code))),
                out.payload.len.eq(Mux(at_base, p.word_bits, Mux(flush | ends, r_len, length))),
                out.payload.last.eq(blk.last & final),
            ]
            with m.If(final):
                m.d.sync += [phase.eq(0), run.eq(0), prev.eq(0)]
            with m.Elif(flush):
                m.d.sync += run.eq(0)
            with m.Else():
                m.d.sync += phase.eq(phase + Mux(two, 2, 1))
                with m.If(symbol):
                    m.d.sync += [prev.eq(plane), run.eq(Mux(zero, run + Mux(two, 2, 1), 0))]
        return m
