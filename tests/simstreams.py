"""Amaranth-simulator helpers for stream components: feed sources, drain sinks, with pauses."""

from amaranth.sim import Simulator

from tb.streamdata import Payload, pauses, stream_words, transfers

__all__ = ["pauses", "send", "receive", "simulate", "unpack", "transfers"]


def _value(payload):
    return payload.as_value().value if hasattr(payload, "as_value") else int(payload)


async def send(ctx, stream, payloads, pause):
    """Drive ``payloads`` (dicts or ints) onto ``stream``, idling while ``next(pause)``; returns
    after the last one is taken, with ``valid`` low."""
    for payload in payloads:
        while next(pause):
            ctx.set(stream.valid, 0)
            await ctx.tick()
        ctx.set(stream.valid, 1)
        ctx.set(stream.payload, payload)
        while True:       # not tick().until(): its generator may outlive the sim
            *_, ready = await ctx.tick().sample(stream.ready)
            if ready:
                break
    ctx.set(stream.valid, 0)


async def receive(ctx, stream, pause, out, transfers, field="last"):
    """Take beats of ``stream`` (ready low while ``next(pause)``) into list ``out`` (payload
    ints) until ``transfers`` beats with ``field`` set (any beats: None) have arrived. Asserts
    the stream rule on
    the way: a beat not taken holds its payload and ``valid``."""
    seen, held = 0, None                  # held: the beat offered but not taken last cycle
    while seen < transfers:
        ready = not next(pause)
        ctx.set(stream.ready, ready)
        _, _, valid, payload = await ctx.tick().sample(stream.valid, stream.payload)
        value = _value(payload)
        assert held is None or (valid and value == held), \
            f"{stream.valid.name}: a beat not taken changed or vanished"
        held = value if valid and not ready else None
        if ready and valid:
            out.append(value)
            seen += 1 if field is None else getattr(payload, field)
    ctx.set(stream.ready, 0)


def simulate(dut, sources, sinks, *, timeout=200_000, vcd=None):
    """Run ``dut`` until every sink has seen its expected number of ``last`` flags.

    ``sources``: list of ``(stream, payloads, pause_iterator)``; payloads are dicts or ints.
    ``sinks``: list of ``(stream, transfers, pause_iterator[, field])``; collects payloads until
    ``transfers`` payloads with ``field`` (default ``last``) set have arrived.
    Returns ``(outputs, cycles)``: one list of payload ints per sink, and the cycle count.
    """
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    outputs = [[] for _ in sinks]
    done = [False] * len(sinks)
    cycles = [0]

    def make_source(stream, payloads, pause):
        async def source(ctx):
            await send(ctx, stream, payloads, pause)
        return source

    def make_sink(k, stream, transfers, pause, field="last"):
        async def sink(ctx):
            await receive(ctx, stream, pause, outputs[k], transfers, field)
            done[k] = True
        return sink

    async def watchdog(ctx):
        while not all(done):
            await ctx.tick()
            cycles[0] += 1
            if cycles[0] > timeout:
                raise TimeoutError(f"no end after {timeout} cycles: sinks done {done}")

    for stream, payloads, pause in sources:
        sim.add_testbench(make_source(stream, payloads, pause), background=True)
    for k, sink in enumerate(sinks):
        sim.add_testbench(make_sink(k, *sink))
    sim.add_testbench(watchdog)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()
    return outputs, cycles[0]


def unpack(layout, value):
    """The fields of a struct ``layout`` from its integer bit pattern (first field at the LSB)."""
    return Payload(layout).unpack(value)


def run_streams(dut, streams, pause="none"):
    """Byte ``streams`` into ``dut.i_words`` (one transfer each), the transfers of
    ``dut.o_weights`` out, split at ``last``: ``(transfers, cycles)``."""
    (out,), cycles = simulate(dut, [(dut.i_words, [d for s in streams for d in stream_words(s)],
                                     pauses(pause, 1))],
                              [(dut.o_weights, len(streams), pauses(pause, 2))])
    lay = dut.o_weights.payload.shape()
    return transfers([unpack(lay, v) for v in out], lambda d: d["last"]), cycles
