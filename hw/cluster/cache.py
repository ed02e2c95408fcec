"""Cluster-index cache: a read-only set-associative cache of entry lines, tagged by group."""

import enum

from amaranth.hdl import Array, Cat, Module, Mux, Signal
from amaranth.lib import data, fifo, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from golden.cluster_cache import POLICIES

from ..params import Param, parametrised
from ..stream import OutputRegister
from . import GROUP_BITS, LINE_BYTES

__all__ = ["ClusterIndexCache", "Policy", "way_fields", "storage_bits"]

COUNTER_BITS = 32


def way_fields(ways, sets, addr_width, group_bits):
    """Widths of what the tag side stores per way besides its valid bit: tag, group, LRU age."""
    return {"tag": addr_width - (sets - 1).bit_length(), "group": group_bits,
            "age": max(1, (ways - 1).bit_length())}


def storage_bits(line_bytes, ways, sets, addr_width, group_bits):
    """``(data bits, tag-side bits)`` of a cache of these parameters (tag side: every way's
    valid bit, tag, group and LRU age)."""
    per_way = 1 + sum(way_fields(ways, sets, addr_width, group_bits).values())
    return sets * ways * 8 * line_bytes, sets * ways * per_way


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
    """The cache of :class:`golden.cluster_cache.CacheModel`, hit for hit, one hit per cycle.

    Members
    -------
    i_req : In(stream.Signature(StructLayout({"addr": addr_width, "group": group_bits,
                                              "last": 1})))
        A line address and the importance group of its weights; ``last`` is passed through.
    o_resp : Out(stream.Signature(StructLayout({"data": 8 * line_bytes, "hit": 1, "last": 1})))
        One response per request, in request order; ``data`` byte 0 in the top bits; ``last``
        copied.
    o_mem_req : Out(stream.Signature(StructLayout({"addr": addr_width})))
        The line address of a miss or a bypass, to the backing memory, in request order.
    i_mem_resp : In(stream.Signature(StructLayout({"data": 8 * line_bytes})))
        The backing memory: one response per request, in order, any latency.
    flush : In(1)
        Invalidates every line: a flush seen in a cycle applies after every request taken
        before that cycle and before any taken from it on (``i_req`` waits meanwhile).
    hits, misses, bypasses, memory_bytes : Out(32)
        Counters since reset, counted at the lookup.

    Storage: the tag side (per way: tag, group, LRU age) in a memory of ``sets`` rows with a
    synchronous read port (a register row when ``sets`` is 1); the valid bits in
    ``sets x ways`` flip-flops (cleared by reset and flush in one cycle); the line data in a
    memory of ``sets x ways`` lines with a synchronous read port. Both memories are what an
    SRAM macro offers (one read and one write port, read data one cycle after the address).

    Pipeline: the request is taken and its set's tag row read (cycle 0); the lookup compares,
    picks the victim, writes the row back (a request right behind reads that row through the
    memory's write-to-read bypass) and queues the outcome; a miss or bypass also puts its line
    address on ``o_mem_req`` (cycle 1). The queue holds up to ``outstanding`` looked-up
    requests, hits under misses included; its head is answered in order: a hit reads its line
    (cycle 2) and answers in cycle 3; a miss or bypass waits for its memory response, takes
    it (a miss also writes the line into the data memory) and answers the cycle after. Hits
    with ``o_resp`` ready go one per cycle, 3 cycles from request to response. Backpressure:
    ``o_resp`` and ``o_mem_req`` hold until taken; the lookup waits while the queue is full or,
    for a miss, while ``o_mem_req`` holds an untaken request; ``i_req`` waits while the lookup
    does. ``i_mem_resp`` is taken only while a miss or bypass is at the queue's head and its
    request has been taken.
    """

    PARAMS = (Param("line_bytes", LINE_BYTES, "bytes (entries) per line"),
              Param("ways", (1, 2, 4, 8), "associativity"),
              Param("sets", tuple(1 << i for i in range(9)), "sets (a power of two)"),
              Param("addr_width", tuple(range(8, 33)), "width of line addresses"),
              Param("policy", tuple(range(len(POLICIES))),
                    ", ".join(f"{i} {name}" for i, name in enumerate(POLICIES))
                    + " (pinned: importance-pinned with bypass)"),
              GROUP_BITS,
              Param("outstanding", (2, 4, 8, 16), "looked-up requests waiting for their "
                                                  "response (hits under misses; at most this "
                                                  "many misses outstanding)"))

    def __init__(self, line_bytes=16, ways=4, sets=16, addr_width=16, policy=0, group_bits=2,
                 outstanding=4):
        self.line_bytes, self.ways, self.sets = line_bytes, ways, sets
        self.addr_width, self.policy, self.group_bits = addr_width, policy, group_bits
        self.outstanding = outstanding
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
    def _set_bits(self):
        return (self.sets - 1).bit_length()

    def _way_layout(self):
        """Tag, group and LRU age of one way (the valid bit is a flip-flop of its own)."""
        return data.StructLayout(way_fields(self.ways, self.sets, self.addr_width,
                                            self.group_bits))

    @property
    def storage_bits(self):
        """Data bits and tag-side bits (valid, tag, group, LRU age) of the cache."""
        return storage_bits(self.line_bytes, self.ways, self.sets, self.addr_width,
                            self.group_bits)

    def elaborate(self, platform):
        m = Module()
        n_ways, n_sets, set_bits = self.ways, self.sets, self._set_bits
        row_layout = data.ArrayLayout(self._way_layout(), n_ways)
        slot_bits = max(1, (n_sets * n_ways - 1).bit_length())

        def set_of(addr):
            return addr[:set_bits] if set_bits else 0

        # the tag side: a row per set (tag, group, age of every way) and the valid bits
        tag_row = Signal(row_layout, name="tag_row")         # what the lookup reads
        tag_write = Signal(name="tag_write")
        valid = Array(Signal(n_ways, name=f"valid{i}") for i in range(n_sets))
        m.submodules.lines = lines = memory.Memory(shape=8 * self.line_bytes,
                                                   depth=n_sets * n_ways, init=[])
        line_wr, line_rd = lines.write_port(), lines.read_port()

        # flush: pending until no request is in the lookup
        flushing = Signal(name="flushing")
        m.d.sync += flushing.eq(flushing | self.flush)

        # stage 1: the lookup of the request taken in the cycle before
        look = Signal(name="look_valid")
        req = Signal(self.i_req.payload.shape(), reset_less=True, name="look_req")
        set_idx = Signal(max(1, set_bits), name="set_idx")
        m.d.comb += set_idx.eq(set_of(req.addr))
        row = _SetRow(m, tag_row, valid[set_idx], row_layout)
        hit_any, hit_way = row.match(req.addr[set_bits:])
        victim, allocate = row.victim(Policy.of(self.policy), req.group)
        way = Mux(hit_any, hit_way, victim)

        queue_layout = data.StructLayout({"hit": 1, "keep": 1, "slot": slot_bits, "last": 1})
        m.submodules.queue = queue = fifo.SyncFIFO(width=queue_layout.size,
                                                   depth=self.outstanding)
        mem_req = OutputRegister(m, self.o_mem_req, reset_less=True, name="mem_req_addr")
        advance = Signal(name="look_advance")
        m.d.comb += advance.eq(look & queue.w_rdy & (hit_any | mem_req.free))
        count = self._counters(m)

        entry = data.View(queue_layout, queue.w_data)
        m.d.comb += [entry.hit.eq(hit_any), entry.keep.eq(allocate), entry.last.eq(req.last),
                     entry.slot.eq(Cat(way, set_idx) if n_ways > 1 else set_idx),
                     queue.w_en.eq(advance)]
        with m.If(advance):
            with m.If(hit_any):
                m.d.sync += count("hits")
                row.touch(hit_way)
            with m.Else():
                mem_req.emit(count("memory_bytes", self.line_bytes), addr=req.addr)
                with m.If(allocate):
                    m.d.sync += count("misses")
                    row.fill(victim, req.addr[set_bits:], req.group)
                    row.touch(victim)
                with m.Else():
                    m.d.sync += count("bypasses")
            m.d.comb += tag_write.eq(row.write)
            with m.If(row.write):
                m.d.sync += valid[set_idx].eq(row.nxt_valid)

        # stage 0: take a request and read its set's tag row
        m.d.comb += self.i_req.ready.eq(~flushing & ~self.flush & (~look | advance))
        if n_sets > 1:
            m.submodules.tags = tags = memory.Memory(shape=row_layout, depth=n_sets, init=[])
            tag_wr = tags.write_port()
            tag_rd = tags.read_port(transparent_for=(tag_wr,))
            m.d.comb += [tag_rd.addr.eq(set_of(self.i_req.payload.addr)),
                         tag_rd.en.eq(self.i_req.ready), tag_row.eq(tag_rd.data),
                         tag_wr.addr.eq(set_idx), tag_wr.data.eq(row.nxt),
                         tag_wr.en.eq(tag_write)]
        else:                # one set: its row is a register, read as the memory would be
            with m.If(tag_write):
                m.d.sync += tag_row.eq(row.nxt)
        with m.If(self.i_req.valid & self.i_req.ready):
            m.d.sync += [look.eq(1), req.eq(self.i_req.payload)]
        with m.Elif(advance):
            m.d.sync += look.eq(0)
        with m.If(flushing & ~look):
            m.d.sync += [*(v.eq(0) for v in valid), flushing.eq(self.flush)]

        # stage 2: answer the queue's head in order; stage 3: the response register
        head = data.View(queue_layout, queue.r_data)
        mem_resp = self.i_mem_resp
        resp = OutputRegister(m, self.o_resp, reset_less=True, name="resp")
        # a hit's line comes from the memory's read port (held while the beat waits), a
        # fetched line from the register
        m.d.comb += self.o_resp.payload.data.eq(Mux(resp.payload.hit, line_rd.data,
                                                    resp.payload.data))
        # memory requests taken and not yet answered: a response is taken only for one of them
        asked = Signal(range(self.outstanding + 1), name="asked")
        m.d.sync += asked.eq(asked + (self.o_mem_req.valid & self.o_mem_req.ready)
                             - (mem_resp.valid & mem_resp.ready))
        hit_out = queue.r_rdy & head.hit & resp.free
        pop = Signal(name="answer")
        m.d.comb += [mem_resp.ready.eq(queue.r_rdy & ~head.hit & resp.free & (asked != 0)),
                     pop.eq(hit_out | (mem_resp.valid & mem_resp.ready)),
                     queue.r_en.eq(pop),
                     line_rd.addr.eq(head.slot), line_rd.en.eq(hit_out),
                     line_wr.addr.eq(head.slot), line_wr.data.eq(mem_resp.payload.data),
                     line_wr.en.eq(pop & ~head.hit & head.keep)]
        with m.If(pop):
            resp.emit(data=mem_resp.payload.data, hit=head.hit, last=head.last)
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
    """The set being looked up: its row ``cur`` (every way's tag, group and LRU age, from the
    tag memory's read port) and valid bits ``cur_valid``, and the update ``nxt`` /
    ``nxt_valid``, written back in a cycle where :meth:`touch` is called.

    LRU ages are kept for the valid ways only: they are always the recency ranks
    ``0..n_valid - 1`` (a fill counts as a use older than every valid way), which is what the
    golden model's ages are for its valid ways; an invalid way's age is never read, so the
    tag memory needs no reset and a flush clears only the valid bits."""

    def __init__(self, m, cur, cur_valid, layout):
        self._m = m
        self.n_ways = layout.length
        self.way_shape = max(1, (self.n_ways - 1).bit_length())
        self.cur = cur
        self.cur_valid = Signal(self.n_ways, name="cur_valid")
        self.nxt = nxt = Signal(layout, name="nxt")
        self.nxt_valid = nxt_valid = Signal(self.n_ways, name="nxt_valid")
        m.d.comb += [self.cur_valid.eq(cur_valid), nxt.eq(cur), nxt_valid.eq(cur_valid)]
        self.write = Signal(name="write_row")

    def match(self, tag):
        """``(hit_any, hit_way)``: a valid way holds ``tag``, and the lowest such way."""
        m, cur = self._m, self.cur
        hit_any = Signal()
        hit_way = Signal(self.way_shape)
        for w in reversed(range(self.n_ways)):       # the lowest matching way wins
            with m.If(self.cur_valid[w] & (cur[w].tag == tag)):
                m.d.comb += [hit_any.eq(1), hit_way.eq(w)]
        return hit_any, hit_way

    def victim(self, policy, group):
        """``(victim, allocate)``: the way a miss of importance ``group`` replaces (the lowest
        invalid way, else by ``policy``), and whether it does (low: bypass)."""
        m, cur, n_ways = self._m, self.cur, self.n_ways
        victim = Signal(self.way_shape)
        allocate = Signal()
        for w in reversed(range(n_ways)):
            with m.If(~self.cur_valid[w]):
                m.d.comb += victim.eq(w)
        with m.If(~self.cur_valid.all()):
            m.d.comb += allocate.eq(1)
        with m.Else():
            if policy is Policy.LRU:
                for w in range(n_ways):
                    with m.If(cur[w].age == n_ways - 1):
                        m.d.comb += victim.eq(w)
                m.d.comb += allocate.eq(1)
            else:
                running = cur[0].group                 # the least important group in the set
                for w in range(1, n_ways):
                    running = Mux(cur[w].group > running, cur[w].group, running)
                worst = Signal(len(cur[0].group))
                m.d.comb += worst.eq(running)
                for w in reversed(range(n_ways)):
                    with m.If(cur[w].group == worst):
                        m.d.comb += victim.eq(w)
                m.d.comb += allocate.eq(1 if policy is Policy.LEAST_IMPORTANT
                                        else worst > group)
        return victim, allocate

    def touch(self, way):
        """Make ``way`` (a signal) the most recently used of the set and write the row back:
        every valid way more recent than it (every valid way, if it was invalid) ages by one."""
        m, cur, nxt, valid = self._m, self.cur, self.nxt, self.cur_valid
        for u in range(self.n_ways):
            with m.If(way == u):
                for v in range(self.n_ways):
                    if v != u:
                        with m.If(valid[v] & (~valid[u] | (cur[v].age < cur[u].age))):
                            m.d.comb += nxt[v].age.eq(cur[v].age + 1)
                m.d.comb += nxt[u].age.eq(0)
        m.d.comb += self.write.eq(1)

    def fill(self, way, tag, group):
        """Make ``way`` (a signal) hold ``tag`` of importance ``group``, valid."""
        m, nxt = self._m, self.nxt
        for u in range(self.n_ways):
            with m.If(way == u):
                m.d.comb += [self.nxt_valid[u].eq(1), nxt[u].tag.eq(tag),
                             nxt[u].group.eq(group)]
