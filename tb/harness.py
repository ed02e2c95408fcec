"""A cocotb test harness for any stream component: clock, reset, a source or a sink plus a
monitor on every stream port, timeouts instead of hangs."""

import json
import os

import numpy as np
from amaranth.lib.wiring import Flow
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from .streamdata import pauses, stream_words
from .streams import StreamMonitor, StreamSink, StreamSource

__all__ = ["Harness", "StreamDecoderTests", "BENCH_KINDS", "check_transfers", "throughput_bench"]

#: the data kinds of ``make bench``
BENCH_KINDS = ("dense", "adversarial", "sparse50", "relu", "sparse80", "zeros")


class Harness:
    """Drives every stream member of ``component`` (the Amaranth object the Verilog was emitted
    from) on ``dut``: a :class:`StreamSource` on each input stream, a :class:`StreamSink` on each
    output stream, a :class:`StreamMonitor` on all. ``pause`` maps port names to pause kinds
    (``none`` for ports not named); ``seed`` seeds the random ones, one seed per port."""

    def __init__(self, dut, component, pause=None, seed=0, period_ns=10):
        self.dut = dut
        self.seed = seed
        self._clock = Clock(dut.clk, period_ns, unit="ns").start()
        dut.rst.value = 1
        self.sources, self.sinks, self.monitors = {}, {}, {}
        pause = pause or {}
        for k, (name, member) in enumerate(component.signature.members.items()):
            if not (member.is_signature and
                    {"payload", "valid", "ready"} <= set(member.signature.members.keys())):
                continue
            layout = getattr(component, name).payload.shape()
            gaps = pauses(pause.get(name, "none"), seed * 100 + k)
            if member.flow == Flow.In:
                self.sources[name] = StreamSource(dut, name, dut.clk, layout, gaps)
            else:
                self.sinks[name] = StreamSink(dut, name, dut.clk, gaps)
            self.monitors[name] = StreamMonitor(dut, name, dut.clk, layout)

    @property
    def cycle(self):
        return next(iter(self.monitors.values())).cycle

    async def reset(self, cycles=2):
        """Synchronous reset: ``rst`` high for ``cycles`` edges; sources and monitors cleared."""
        for m in self.monitors.values():
            m.checking = False
        for s in self.sources.values():
            s.clear()
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, cycles)
        self.dut.rst.value = 0
        for m in self.monitors.values():
            m.clear()
            m.checking = True

    async def wait_for(self, done, limit, what, stall_limit=2000):
        """Clock until ``done()``. Fail, saying what was awaited and what was seen, after
        ``limit`` cycles, or after ``stall_limit`` cycles in which no port moved a word (a
        hang)."""
        moved, still = self._moved(), 0
        for _ in range(limit):
            if done():
                return
            await RisingEdge(self.dut.clk)
            now = self._moved()
            still = 0 if now != moved else still + 1
            moved = now
            if still >= stall_limit:
                raise AssertionError(f"hang: no word moved on any port for {stall_limit} cycles "
                                     f"while waiting for {what}; seen: {self.progress()}")
        raise AssertionError(f"timeout after {limit} cycles waiting for {what}; "
                             f"seen: {self.progress()}")

    def _moved(self):
        return sum(len(m.items) for m in self.monitors.values())

    def stop(self):
        """End the drivers and monitors (before the next harness takes the ports over)."""
        for part in [*self.sources.values(), *self.sinks.values(), *self.monitors.values()]:
            part._task.cancel()
        self._clock.cancel()

    def progress(self):
        return {name: f"{len(m.items)} words, {m.lasts} last" for name, m in
                self.monitors.items()}

    def check_protocol(self):
        """Fail with every protocol violation any monitor saw."""
        errors = [e for m in self.monitors.values() for e in m.errors]
        assert not errors, "protocol violations:\n" + "\n".join(errors)

    async def stream_transfers(self, streams, source="i_words", sink="o_weights"):
        """Send byte ``streams`` (32-bit words, one transfer each) on ``source``; wait for as
        many transfers on ``sink``; check the protocol; return those transfers."""
        base = self.monitors[sink].lasts
        self.sources[source].send([d for s in streams for d in stream_words(s)])
        total = sum(len(s) for s in streams) * 8 + 100 * len(streams)
        await self.wait_for(lambda: self.monitors[sink].lasts >= base + len(streams),
                            4 * total + 1000, f"{len(streams)} streams")
        self.check_protocol()
        got, rest = self.words(sink)
        assert not rest
        return got[base:]

    async def checked_transfers(self, streams, golden, error_beat=None):
        """:meth:`stream_transfers`, then :func:`check_transfers` of them against ``golden``.
        Returns the transfers."""
        got = await self.stream_transfers(streams)
        check_transfers(got, streams, golden, error_beat)
        return got

    def words(self, name, last="last"):
        """The payload dicts seen on ``name``, split into transfers at ``last``."""
        out, cur = [], []
        for _, d in self.monitors[name].items:
            cur.append(d)
            if d[last]:
                out.append(cur)
                cur = []
        return out, cur


def check_transfers(got, inputs, golden, error_beat=None, error_length=None, what=None):
    """Each output transfer ``got[t]`` (payload dicts) against ``golden(inputs[t])``: the list
    of beats expected (dicts of the fields to compare), or ``ValueError`` for a malformed input.
    A good input's transfer has exactly those beats and no ``error``; a malformed input's ends
    in a beat with ``error`` = 1 and the fields of ``error_beat``, after ``error_length(input)``
    beats in all where that is given. Only the final beat of a transfer may carry ``error``.
    ``what(t, input)`` names a transfer in the failure messages (default ``stream t``)."""
    assert len(got) == len(inputs), f"{len(got)} transfers for {len(inputs)} inputs"
    for t, (out, x) in enumerate(zip(got, inputs)):
        where = what(t, x) if what else f"stream {t}"
        assert not any(d["error"] for d in out[:-1]), f"{where}: error before the final beat"
        try:
            want = golden(x)
        except ValueError as exc:
            assert out[-1]["error"] == 1, f"{where}: golden says {exc}, no error flag"
            if error_length is not None:
                n = error_length(x)
                assert len(out) == n, f"{where}: {len(out)} beats, want {n}"
            for k, v in (error_beat or {}).items():
                assert out[-1][k] == v, f"{where}: {k}={out[-1][k]} on the error beat, not {v}"
            continue
        assert len(out) == len(want), f"{where}: {len(out)} beats, want {len(want)}"
        assert out[-1]["error"] == 0, f"{where}: error on a good stream"
        assert [{k: d[k] for k in w} for d, w in zip(out, want)] == want, \
            f"{where}: beats differ from golden"


class StreamDecoderTests:
    """What the tests of every byte-stream decoder share (32-bit words in on ``i_words``, beats
    out on ``o_weights``, an error beat for a stream golden rejects): ``golden(stream)`` gives
    the beats expected (:func:`check_transfers`), ``error_beat`` the fields of an error beat;
    ``ctx`` is the module's :class:`tb.preamble.Context`."""

    def __init__(self, ctx, golden, error_beat=None):
        self.ctx, self.golden, self.error_beat = ctx, golden, error_beat

    async def run(self, tb, streams):
        """Send the streams; check every output transfer against golden; return them."""
        return await tb.checked_transfers(streams, self.golden, self.error_beat)

    def axis_case(self, streams):
        """The :class:`tb.axis.Case` of good ``streams``: their words in, golden's beats out."""
        from .axis import Case, Step

        beats = []
        for s in streams:
            want = [dict(b, last=0, error=0) for b in self.golden(s)]
            want[-1]["last"] = 1
            beats += want
        return Case([Step({"i_words": [w for s in streams for w in stream_words(s)]},
                          {"o_weights": beats})])

    async def random_backpressure(self, dut, i_words, o_weights, streams):
        """The streams ``streams(rng)`` (seeded by the pauses) with the pause kinds
        ``i_words`` on the input and ``o_weights`` on the output."""
        seed = self.ctx.seed_of("random", i_words, o_weights)
        tb = Harness(dut, self.ctx.component, {"i_words": i_words, "o_weights": o_weights}, seed)
        await tb.reset()
        await self.run(tb, streams(np.random.default_rng(seed)))

    async def reset_mid_stream(self, dut, first, then):
        """A reset 20 output beats into the stream ``first(rng)``; then the streams
        ``then(rng)`` decode right."""
        seed = self.ctx.seed_of("reset")
        tb = Harness(dut, self.ctx.component, {"o_weights": "random"}, seed)
        await tb.reset()
        rng = np.random.default_rng(seed)
        tb.sources["i_words"].send(stream_words(first(rng)))
        await tb.wait_for(lambda: len(tb.monitors["o_weights"].items) >= 20, 2000, "output")
        await tb.reset(3)
        await self.run(tb, then(rng))


async def throughput_bench(dut, ctx, transfer, kinds=BENCH_KINDS):
    """``make bench``: per data kind (default :data:`BENCH_KINDS`), a fresh harness with every
    port at full rate on ``ctx.component`` (a :class:`tb.preamble.Context`) runs
    ``await transfer(tb, kind, rng)`` (which sends and checks the data and returns the words
    moved); the row gets words/cycle from the first input word to the final output word, the
    first-output latency and the stalls of every port. Writes the file ``DNNPRESS_BENCH``
    names (JSON)."""
    component, seed_of = ctx.component, ctx.seed_of
    rows = []
    for kind in kinds:
        tb = Harness(dut, component, seed=seed_of("bench", kind))
        await tb.reset()
        words = await transfer(tb, kind, np.random.default_rng(seed_of("bench", kind)))
        ins = [m.items for name, m in tb.monitors.items() if name.startswith("i_") and m.items]
        outs = [m.items for name, m in tb.monitors.items() if name.startswith("o_") and m.items]
        first = min(items[0][0] for items in ins)
        cycles = max(items[-1][0] for items in outs) - first + 1
        rows.append({"kind": kind, "words": words, "cycles": cycles,
                     "words_per_cycle": round(words / cycles, 4),
                     "first_output_latency": min(items[0][0] for items in outs) - first,
                     **{f"{name}_stalls": m.stalls for name, m in tb.monitors.items()}})
        tb.stop()
    with open(os.environ["DNNPRESS_BENCH"], "w") as f:
        json.dump({"params": ctx.params, "rows": rows}, f, indent=2)
