"""Cluster-index cache: a read-only set-associative cache of entry lines, tagged by group."""

import enum

from amaranth.hdl import Array, Module, Mux, Signal
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.cluster_cache import POLICIES

from ..params import Param, parametrised
from ..stream import OutputRegister
from . import GROUP_BITS, LINE_BYTES

__all__ = ["ClusterIndexCache", "Policy"]

COUNTER_BITS = 32


class Policy(enum.Enum):
    """Which way a miss replaces when every way of its set is valid; the ``policy`` parameter
    is the index in ``golden.cluster_cache.POLICIES`` (0 pinned, 1 lru, 2 least-important)."""

    #: the way of the least important group, only if less important than the request (else
    #: the request bypasses the cache)
    PINNED = "pinned"
    #: the least recently used way
    LRU = "lru"
    #: the way of the least important group, always
    LEAST_IMPORTANT = "least-important"

    @classmethod
    def of(cls, index):
        """The policy of parameter value ``index``."""
        return cls(POLICIES[index])


@parametrised
class ClusterIndexCache(wiring.Component):
    """The cache of :class:`golden.cluster_cache.CacheModel`, hit for hit.

    Members
    -------
    i_req : In(stream.Signature(StructLayout({"addr": addr_width, "group": group_bits,
                                              "last": 1})))
        A line address and the importance group of its weights; ``last`` is passed through.
    o_resp : Out(stream.Signature(StructLayout({"data": 8 * line_bytes, "hit": 1, "last": 1})))
        One response per request, in order; ``data`` byte 0 in the top bits; ``last`` copied.
    o_mem_req : Out(stream.Signature(StructLayout({"addr": addr_width})))
        The line address of a miss or a bypass, to the backing memory.
    i_mem_resp : In(stream.Signature(StructLayout({"data": 8 * line_bytes})))
        The backing memory: one response per request, any latency.
    flush : In(1)
        Invalidates every line (taken between requests).
    hits, misses, bypasses, memory_bytes : Out(32)
        Counters since reset.

    Per set one register row of every way's valid bit, tag, group and LRU age; line data in a
    memory of ``sets x ways`` lines. One request at a time. A hit answers 3 cycles after the
    request is taken (tag compare, data memory read, output register); with ``o_resp`` ready,
    hits are taken one per 5 cycles (the response leaves one cycle after it appears, the next
    request is taken one cycle later). A miss or a bypass asks the memory in the cycle after
    the compare and answers the cycle after the memory's response. Backpressure: ``i_req`` is taken
    only when the previous response has gone; ``o_resp`` and ``o_mem_req`` hold until taken.
    """

    PARAMS = (Param("line_bytes", LINE_BYTES, "bytes (entries) per line"),
              Param("ways", (1, 2, 4, 8), "associativity"),
              Param("sets", tuple(1 << i for i in range(9)), "sets (a power of two)"),
              Param("addr_width", tuple(range(8, 33)), "width of line addresses"),
              Param("policy", tuple(range(len(POLICIES))),
                    ", ".join(f"{i} {name}" for i, name in enumerate(POLICIES))
                    + " (pinned: importance-pinned with bypass)"),
              GROUP_BITS)

    def __init__(self, line_bytes=16, ways=4, sets=16, addr_width=16, policy=0, group_bits=2):
        self.line_bytes, self.ways, self.sets = line_bytes, ways, sets
        self.addr_width, self.policy, self.group_bits = addr_width, policy, group_bits
        line = 8 * line_bytes
        super().__init__({
            "i_req": In(stream.Signature(data.StructLayout({
                "addr": addr_width, "group": group_bits, "last": 1}))),
            "o_resp": Out(stream.Signature(data.StructLayout({
                "data": line, "hit": 1, "last": 1}))),
            "o_mem_req": Out(stream.Signature(data.StructLayout({"addr": addr_width}))),
            "i_mem_resp": In(stream.Signature(data.StructLayout({"data": line}))),
            "flush": In(1),
            "hits": Out(COUNTER_BITS), "misses": Out(COUNTER_BITS),
            "bypasses": Out(COUNTER_BITS), "memory_bytes": Out(COUNTER_BITS),
        })

    @property
    def storage_bits(self):
        """Data bits and tag-side bits (valid, tag, group, LRU age) of the cache."""
        set_bits = (self.sets - 1).bit_length()
        age_bits = (self.ways - 1).bit_length()
        per_way = 1 + (self.addr_width - set_bits) + self.group_bits + age_bits
        return self.sets * self.ways * 8 * self.line_bytes, self.sets * self.ways * per_way

    def elaborate(self, platform):
        m = Module()
        n_ways, n_sets = self.ways, self.sets
        set_bits = (n_sets - 1).bit_length()
        tag_bits = self.addr_width - set_bits
        age_bits = max(1, (n_ways - 1).bit_length())
        entries = n_sets * n_ways

        m.submodules.lines = mem = memory.Memory(shape=8 * self.line_bytes, depth=entries,
                                                 init=[])
        rd, wr = mem.read_port(), mem.write_port()

        way_layout = data.StructLayout({"valid": 1, "tag": tag_bits, "group": self.group_bits,
                                        "age": age_bits})
        row_layout = data.ArrayLayout(way_layout, n_ways)
        fresh = [{"valid": 0, "tag": 0, "group": 0, "age": w} for w in range(n_ways)]
        # one register row per set: every way's valid, tag, group and LRU age
        rows = Array(Signal(row_layout, init=fresh, name=f"set{i}") for i in range(n_sets))

        addr = Signal(self.addr_width)
        req_group = Signal(self.group_bits)
        req_last = Signal()
        set_idx = Signal(max(1, set_bits))
        m.d.comb += set_idx.eq(addr[:set_bits] if set_bits else 0)
        req_tag = addr[set_bits:]
        row = _SetRow(m, rows, set_idx, row_layout)

        def slot(w):
            return set_idx * n_ways + w if n_ways > 1 else set_idx

        hit_any, hit_way = row.match(req_tag)
        victim, allocate = row.victim(Policy.of(self.policy), req_group)
        count = self._counters(m)

        way = Signal(row.way_shape)
        keep = Signal()
        resp = OutputRegister(m, self.o_resp)
        m.d.comb += [rd.addr.eq(slot(way)), wr.addr.eq(slot(way)),
                     wr.data.eq(self.i_mem_resp.payload.data),
                     self.o_mem_req.payload.addr.eq(addr)]

        with m.FSM():
            with m.State("IDLE"):
                with m.If(self.flush):
                    for i in range(n_sets):
                        m.d.sync += rows[i].eq(row_layout.const(fresh))
                with m.Else():
                    m.d.comb += self.i_req.ready.eq(1)
                    with m.If(self.i_req.valid):
                        p = self.i_req.payload
                        m.d.sync += [addr.eq(p.addr), req_group.eq(p.group), req_last.eq(p.last)]
                        m.next = "LOOKUP"
            with m.State("LOOKUP"):
                with m.If(hit_any):
                    m.d.sync += [way.eq(hit_way), count("hits")]
                    row.touch(hit_way)
                    m.next = "READ"
                with m.Else():
                    m.d.sync += [way.eq(victim), keep.eq(allocate)]
                    m.next = "MEM_REQ"
            with m.State("READ"):                  # the data memory answers next cycle
                m.next = "HIT"
            with m.State("HIT"):
                resp.emit(data=rd.data, hit=1, last=req_last)
                m.next = "RESPOND"
            with m.State("MEM_REQ"):
                m.d.comb += self.o_mem_req.valid.eq(1)
                with m.If(self.o_mem_req.ready):
                    m.next = "MEM_WAIT"
            with m.State("MEM_WAIT"):
                m.d.comb += self.i_mem_resp.ready.eq(1)
                with m.If(self.i_mem_resp.valid):
                    resp.emit(count("memory_bytes", self.line_bytes),
                              data=self.i_mem_resp.payload.data, hit=0, last=req_last)
                    with m.If(keep):
                        m.d.comb += wr.en.eq(1)
                        row.fill(way, req_tag, req_group)
                        m.d.sync += count("misses")
                        row.touch(way)
                    with m.Else():
                        m.d.sync += count("bypasses")
                    m.next = "RESPOND"
            with m.State("RESPOND"):
                with m.If(self.o_resp.ready):
                    m.next = "IDLE"
        return m

    def _counters(self, m):
        """Drive the counter ports from registers; ``count(name, amount=1)`` is the statement
        that adds ``amount`` to counter ``name``."""
        regs = {}
        for name in ("hits", "misses", "bypasses", "memory_bytes"):
            regs[name] = Signal(COUNTER_BITS, name=f"{name}_count")
            m.d.comb += getattr(self, name).eq(regs[name])

        def count(name, amount=1):
            return regs[name].eq(regs[name] + amount)
        return count


class _SetRow:
    """The tag side of the set being looked up: its row ``cur`` (every way's valid, tag, group
    and LRU age, from ``rows[set_idx]``) and the update ``nxt``, written back in a cycle where
    :meth:`touch` is called."""

    def __init__(self, m, rows, set_idx, layout):
        self._m = m
        self.n_ways = n_ways = layout.length
        self.way_shape = max(1, (n_ways - 1).bit_length())
        self.cur = cur = Signal(layout, name="cur")
        self.nxt = nxt = Signal(layout, name="nxt")
        m.d.comb += [cur.eq(rows[set_idx]), nxt.eq(cur)]
        self.write = Signal(name="write_row")
        with m.If(self.write):
            m.d.sync += rows[set_idx].eq(nxt)

    def match(self, tag):
        """``(hit_any, hit_way)``: a valid way holds ``tag``, and the lowest such way."""
        m, cur = self._m, self.cur
        hit_any = Signal()
        hit_way = Signal(self.way_shape)
        for w in reversed(range(self.n_ways)):       # the lowest matching way wins
            with m.If(cur[w].valid & (cur[w].tag == tag)):
                m.d.comb += [hit_any.eq(1), hit_way.eq(w)]
        return hit_any, hit_way

    def victim(self, policy, group):
        """``(victim, allocate)``: the way a miss of importance ``group`` replaces (the lowest
        invalid way, else by ``policy``), and whether it does (low: bypass)."""
        m, cur, n_ways = self._m, self.cur, self.n_ways
        victim = Signal(self.way_shape)
        allocate = Signal()
        invalid_any = Signal()
        for w in reversed(range(n_ways)):
            with m.If(~cur[w].valid):
                m.d.comb += [invalid_any.eq(1), victim.eq(w)]
        with m.If(invalid_any):
            m.d.comb += allocate.eq(1)
        with m.Else():
            if policy is Policy.LRU:
                for w in range(n_ways):
                    with m.If(cur[w].age == n_ways - 1):
                        m.d.comb += victim.eq(w)
                m.d.comb += allocate.eq(1)
            else:
                worst = Signal(len(cur[0].group))     # the least important group in the set
                running = cur[0].group
                for w in range(1, n_ways):
                    running = Mux(cur[w].group > running, cur[w].group, running)
                m.d.comb += worst.eq(running)
                for w in reversed(range(n_ways)):
                    with m.If(cur[w].group == worst):
                        m.d.comb += victim.eq(w)
                m.d.comb += allocate.eq(1 if policy is Policy.LEAST_IMPORTANT
                                        else worst > group)
        return victim, allocate

    def touch(self, way):
        """Make ``way`` (a signal) the most recently used of the set, and write the row back."""
        m, cur, nxt = self._m, self.cur, self.nxt
        for u in range(self.n_ways):
            with m.If(way == u):
                for v in range(self.n_ways):
                    if v != u:
                        with m.If(cur[v].age < cur[u].age):
                            m.d.comb += nxt[v].age.eq(cur[v].age + 1)
                m.d.comb += nxt[u].age.eq(0)
        m.d.comb += self.write.eq(1)

    def fill(self, way, tag, group):
        """Make ``way`` (a signal) hold ``tag`` of importance ``group``, valid."""
        m, nxt = self._m, self.nxt
        for u in range(self.n_ways):
            with m.If(way == u):
                m.d.comb += [nxt[u].valid.eq(1), nxt[u].tag.eq(tag), nxt[u].group.eq(group)]
