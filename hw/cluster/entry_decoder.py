"""Entry decoder + centroid lookup: lines of cluster-index entries in, weights out."""

from amaranth.hdl import Array, Module, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.cluster_blocks import PAD

from ..params import Param, parametrised
from ..stream import OutputRegister
from . import GROUP_BITS, LINE_BYTES

__all__ = ["ClusterEntryDecoder"]

CLUSTERS = 16        # cidx 0..14, 15 = PAD
VALUE_BITS = 16


@parametrised
class ClusterEntryDecoder(wiring.Component):
    """Decode a block's entries (:mod:`golden.cluster_blocks`) into ``{position, value}``
    beats, bit-exact with :func:`golden.cluster_trace.decoded_stream`.

    Members
    -------
    i_lines : In(stream.Signature(StructLayout({"data": 8 * line_bytes, "last": 1})))
        One block per transfer, entry 0 in the top byte of each line, ``last`` on its final
        line.
    i_config : In(stream.Signature(StructLayout({"cidx": 4, "value": 16, "group": group_bits})))
        Writes centroid ``cidx``'s 16-bit value and group (the layer's table; load it before
        the layer's blocks).
    active : In(group_bits + 1)
        Groups ``0..active-1`` are active; entries of other groups are masked. Sampled at every
        entry.
    o_weights : Out(stream.Signature(StructLayout({"position": position_bits, "value": 16,
                                                    "weight": 1, "last": 1})))
        One beat per active weight (``weight`` = 1), then one beat with ``weight`` = 0 and
        ``last`` = 1 closing the block.

    One entry per cycle, lines back to back: PAD and masked entries take their cycle and emit
    nothing, so active weights leave at up to one per cycle. Latency: 1 cycle from a line to
    its first weight.
    Backpressure on ``o_weights`` stalls the entry walk and then ``i_lines``.
    """

    PARAMS = (Param("line_bytes", LINE_BYTES, "entries per input line"),
              Param("position_bits", tuple(range(8, 25)),
                    "width of the weight position (layers up to 2**position_bits weights)"),
              GROUP_BITS)

    def __init__(self, line_bytes=16, position_bits=16, group_bits=2):
        self.line_bytes, self.position_bits = line_bytes, position_bits
        self.group_bits = group_bits
        super().__init__({
            "i_lines": In(stream.Signature(data.StructLayout({
                "data": 8 * line_bytes, "last": 1}))),
            "i_config": In(stream.Signature(data.StructLayout({
                "cidx": 4, "value": VALUE_BITS, "group": group_bits}))),
            "active": In(group_bits + 1),
            "o_weights": Out(stream.Signature(data.StructLayout({
                "position": position_bits, "value": VALUE_BITS, "weight": 1, "last": 1}))),
        })

    def elaborate(self, platform):
        m = Module()
        n = self.line_bytes
        values = Array(Signal(VALUE_BITS, name=f"centroid{i}") for i in range(CLUSTERS))
        groups = Array(Signal(self.group_bits, name=f"group{i}") for i in range(CLUSTERS))
        cfg = self.i_config
        m.d.comb += cfg.ready.eq(1)
        with m.If(cfg.valid):
            m.d.sync += [values[cfg.payload.cidx].eq(cfg.payload.value),
                         groups[cfg.payload.cidx].eq(cfg.payload.group)]

        line = Signal(8 * n)
        last_line = Signal()
        have = Signal()                       # a line is being walked
        index = Signal(range(n))
        cursor = Signal(self.position_bits + 1, init=(1 << (self.position_bits + 1)) - 1)
        closing = Signal()                    # the block's closing beat is due

        out = OutputRegister(m, self.o_weights)
        o_free = out.free

        entry = Signal(8)
        m.d.comb += entry.eq(line[-8:])          # the line shifts up one entry per cycle
        run, cidx = entry[4:], entry[:4]
        pos = Signal(self.position_bits + 1)
        m.d.comb += pos.eq(cursor + run + 1)

        finishing = have & o_free & (index == n - 1)
        m.d.comb += self.i_lines.ready.eq(~closing & (~have | (finishing & ~last_line)))

        with m.If(have & o_free):
            m.d.sync += [cursor.eq(pos), index.eq(index + 1), line.eq(line << 8)]
            with m.If((entry != PAD) & (groups[cidx] < self.active)):
                out.emit(position=pos, value=values[cidx], weight=1, last=0)
            with m.If(index == n - 1):
                m.d.sync += [have.eq(0), closing.eq(last_line)]
        with m.Elif(closing & o_free):
            out.emit(closing.eq(0), cursor.eq(cursor.init),
                     weight=0, last=1, position=0, value=0)
        with m.If(self.i_lines.valid & self.i_lines.ready):   # after the walk: wins over it
            m.d.sync += [line.eq(self.i_lines.payload.data), have.eq(1), index.eq(0),
                         last_line.eq(self.i_lines.payload.last)]
        return m
