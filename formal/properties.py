"""The properties, written once over a component's ``wiring`` signature, and per core.

A :class:`Harness` wraps the component under proof (its ports become free inputs of the model:
the solver chooses every input in every cycle) and adds the asserts, assumes and covers of one
:class:`Property`. Reset: high in the first cycle, free afterwards; a property exempts the cycle
after a reset edge, where registers take their reset values.

Generic properties (every core, plain or AXI4-Stream top, without code of its own):

``hold``
    Every output stream: once ``valid`` is high and ``ready`` low, in the next cycle ``valid``
    is still high and the payload unchanged. Cover: such a stall, held.
``quiet``
    After reset, no output stream is valid before some input stream has transferred. Cover:
    an output valid.
``progress``
    With every output always ready and every input always valid (payloads arbitrary, so
    malformed streams included), the count of consecutive cycles with no transfer on any port
    stays at or below the core's bound ``K``. Cover: ``K`` such cycles in a row (the bound is
    tight).

The per-core properties (:data:`SPECIFIC`) are functions of the same shape.
"""

from dataclasses import dataclass
from functools import partial

from amaranth.hdl import (
    Assert,
    Assume,
    Cat,
    ClockSignal,
    Cover,
    Elaboratable,
    Module,
    Mux,
    ResetSignal,
    Signal,
    Value,
)
from amaranth.hdl._ast import Initial
from amaranth.lib.wiring import Out

from hw.axis import AXIStreamTop, is_stream

__all__ = ["Harness", "Property", "Stream", "streams", "ports", "GENERIC", "SPECIFIC"]


@dataclass(frozen=True)
class Stream:
    """One stream port of a component under proof."""

    name: str
    out: bool
    valid: object
    ready: object
    payload: object


def streams(dut):
    """The :class:`Stream` of every stream member of ``dut`` or, for an AXI4-Stream top, of
    every AXI4-Stream interface (its payload: every signal but ``tvalid`` and ``tready``)."""
    if isinstance(dut, AXIStreamTop):
        out = []
        for p in dut.ports:
            sig = {k: getattr(dut, f"{p.name}_{k}") for k in p.signals()}
            payload = Cat(*(v for k, v in sig.items() if k not in ("tvalid", "tready")))
            out.append(Stream(p.name, not p.slave, sig["tvalid"], sig["tready"], payload))
        return out
    return [Stream(name, member.flow == Out, getattr(dut, name).valid,
                   getattr(dut, name).ready, getattr(dut, name).payload)
            for name, member in dut.signature.members.items() if is_stream(member)]


def ports(dut):
    """Every port signal of ``dut`` (flattened) but an AXI4-Stream top's clock and reset,
    which the harness drives, for ``rtlil.convert``."""
    return [Value.cast(v) for path, _, v in dut.signature.flatten(dut)
            if path[0] not in ("aclk", "aresetn")]


class Harness(Elaboratable):
    """``dut`` with the checks of ``prop`` (a :class:`Property`) around it; ``bound``: the
    progress bound; ``low``: plain inputs the progress property holds low (a ``flush`` held
    high stalls a cache by design)."""

    def __init__(self, dut, prop, bound=0, low=()):
        self.dut, self.prop, self.bound, self.low = dut, prop, bound, low

    def elaborate(self, platform):
        m = Module()
        m.submodules.dut = dut = self.dut
        rst = ResetSignal()
        if isinstance(dut, AXIStreamTop):           # the harness's clock and reset drive it
            m.d.comb += [dut.aclk.eq(ClockSignal()), dut.aresetn.eq(~rst)]
        with m.If(Initial()):
            m.d.comb += Assume(rst)
        self.after_reset = Signal(reset_less=True)       # the previous edge was a reset edge
        m.d.sync += self.after_reset.eq(rst)
        self.steady = ~Initial() & ~self.after_reset      # past-value registers are valid
        self.prop.check(self, m)
        return m

    def past(self, m, value, name):
        """A register holding ``value`` of the previous cycle."""
        reg = Signal(Value.cast(value).shape(), name=f"past_{name}", reset_less=True)
        m.d.sync += reg.eq(value)
        return reg

    def transfers(self, outputs=None):
        """Whether some stream (of ``outputs``: only outputs, only inputs) transfers now."""
        return Cat(s.valid & s.ready for s in streams(self.dut)
                   if outputs is None or s.out == outputs).any()


@dataclass(frozen=True)
class Property:
    """A property: its ``name``, what it says (``doc``) and ``check(harness, module)``."""

    name: str
    doc: str
    check: object


def _hold(h, m):
    for s in streams(h.dut):
        if not s.out:
            continue
        name = s.name
        valid, ready = h.past(m, s.valid, f"{name}_valid"), h.past(m, s.ready, f"{name}_ready")
        payload = h.past(m, s.payload, f"{name}_payload")
        waited = h.steady & valid & ~ready
        with m.If(waited):
            m.d.comb += Assert(s.valid, f"{name}: valid dropped before ready")
            m.d.comb += Assert(Value.cast(s.payload) == payload,
                               f"{name}: payload changed while waiting")
        m.d.comb += Cover(waited & s.valid, f"{name}: a stall held")


def _quiet(h, m):
    seen = Signal()                                       # reset by the core's reset
    m.d.sync += seen.eq(seen | h.transfers(outputs=False))
    for s in streams(h.dut):
        if s.out:
            m.d.comb += Assert(~s.valid | seen | h.transfers(outputs=False),
                               f"{s.name}: valid before any input transferred")
            m.d.comb += Cover(s.valid & ~h.after_reset, f"{s.name}: valid")


def _progress(h, m):
    for s in streams(h.dut):
        m.d.comb += Assume(s.ready if s.out else s.valid)
    for name in h.low:
        m.d.comb += Assume(~getattr(h.dut, name))
    k = h.bound
    idle = Signal(range(k + 2))
    m.d.sync += idle.eq(Mux(h.transfers(), 0, Mux(idle == k + 1, idle, idle + 1)))
    m.d.comb += Assert(idle <= k, f"more than {k} cycles without a transfer")
    m.d.comb += Cover(idle == k, f"{k} cycles without a transfer")


#: the properties every core gets
GENERIC = (
    Property("hold", "output valid and payload hold until ready", _hold),
    Property("quiet", "no output valid after reset before an input transfer", _quiet),
    Property("progress", "always ready / always valid: at most K cycles without a transfer",
             _progress),
)



def _balance(h, m, name, up, down, most):
    """A counter of ``up`` events less ``down`` events; assert it stays in ``0..most``."""
    n = Signal(range(-1, most + 2), name=name)
    m.d.sync += n.eq(n + up - down)
    m.d.comb += Assert((n >= 0) & (n <= most), f"{name} outside 0..{most}")
    return n


def _lasts(h, m, source, sink, most):
    """A decoder's output transfers: every ``last`` on ``sink`` follows a transfer taken on
    ``source`` (its beat with ``last``, or its one beat: the EBPC count), at most ``most`` of
    them pending; ``error`` only on a beat with ``last``. Cover: an error beat."""
    i, o = getattr(h.dut, source), getattr(h.dut, sink)
    took = i.valid & i.ready & (i.payload.last if hasattr(i.payload, "last") else 1)
    ended = o.valid & o.ready & o.payload.last
    _balance(h, m, "pending", took, ended, most)
    m.d.comb += Assert(~o.valid | ~o.payload.error | o.payload.last,
                       f"{sink}: error on a beat without last")
    m.d.comb += Cover(ended & o.payload.error, f"{sink}: a malformed transfer flagged")


def _cache(h, m):
    """The cluster cache: one response per request, in order (``last`` copied, up to
    ``outstanding`` + 2 requests in flight: the lookup, the queue, the response register), one
    memory response per memory request (at most ``outstanding`` fetches in flight); the
    counters only grow (by one per access, by ``line_bytes`` per fetch)."""
    c = h.dut
    req, resp = c.i_req, c.o_resp
    took, answered = req.valid & req.ready, resp.valid & resp.ready
    most = c.outstanding + 2
    pending = _balance(h, m, "pending", took, answered, most)
    _balance(h, m, "fetching", c.o_mem_req.valid & c.o_mem_req.ready,
             c.i_mem_resp.valid & c.i_mem_resp.ready, c.outstanding)
    # the ``last`` bits of the requests in flight, oldest in bit 0
    lasts = Signal(most + 1, name="lasts")
    kept = Signal(most + 1, name="lasts_kept")
    at = Signal(range(most + 2), name="lasts_at")
    m.d.comb += [kept.eq(Mux(answered, lasts >> 1, lasts)), at.eq(pending - answered)]
    m.d.sync += lasts.eq(kept)
    with m.If(took):
        m.d.sync += lasts.eq((kept & ~(1 << at)) | (req.payload.last << at))
    m.d.comb += Assert(~resp.valid | (resp.payload.last == lasts[0]), "o_resp: last not copied "
                       "in order")
    for name, step in (("hits", 1), ("misses", 1), ("bypasses", 1),
                       ("memory_bytes", c.line_bytes)):
        now = getattr(c, name)
        was = h.past(m, now, name)
        with m.If(h.steady):
            m.d.comb += Assert((now == was) | (now == (was + step)[:32]),
                               f"{name} decreased or jumped")
    m.d.comb += Cover(resp.valid & resp.ready & resp.payload.hit & (c.hits == 2),
                      "two hits answered")


#: core name -> its specific properties
SPECIFIC = {
    "ebpc-decoder": (Property("lasts", "one output last per count taken, in order; error "
                                       "only with last",
                              partial(_lasts, source="i_count", sink="o_words", most=3)),),
    "noc-weight-decoder": (Property("lasts", "one output last per input transfer, in order; "
                                             "error only with last",
                                    partial(_lasts, source="i_words", sink="o_weights", most=2)),),
    "dict-decoder": (Property("lasts", "one output last per input transfer, in order; error "
                                       "only with last",
                              partial(_lasts, source="i_words", sink="o_weights", most=2)),),
    "cluster-cache": (Property("answers", "one response per request in order, one memory "
                                          "response per fetch, counters only grow", _cache),),
}
