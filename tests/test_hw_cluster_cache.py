"""Cluster-index cache in the Amaranth simulator against ``golden.cluster_cache.CacheModel``:
every response's hit flag and line, and the counters, with a backing memory of random latency
and backpressure on every port; and the validation of every parameter."""

import random
import re

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden import cluster, cluster_blocks, cluster_trace
from golden.cluster_cache import HIT, POLICIES, CacheModel
from hw.cluster.cache import ClusterIndexCache, Policy
from tests.simstreams import pauses, receive, send, unpack

COUNTERS = ("hits", "misses", "bypasses", "memory_bytes")


def run(dut, accesses, image, pause="none", latency=0, flush_at=(), seed=0):
    """Send ``accesses`` (line, group) to ``dut`` (flushing before those in ``flush_at``) with a
    backing memory holding ``image`` (line -> data) that answers after 0..``latency`` cycles.
    Returns the responses (dicts) and the counters after the last one."""
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    got, counters = [], {}
    rng = random.Random(seed)

    async def requests(ctx):
        todo = list(enumerate(accesses))
        for start, stop in zip((0, *flush_at), (*flush_at, len(accesses))):
            if start:                     # a flush, between requests: every response is in
                while len(got) < start:
                    await ctx.tick()
                ctx.set(dut.flush, 1)
                await ctx.tick()
                ctx.set(dut.flush, 0)
            await send(ctx, dut.i_req, [{"addr": line, "group": group,
                                         "last": int(i == len(accesses) - 1)}
                                        for i, (line, group) in todo[start:stop]],
                       pauses(pause, seed + start))

    async def memory(ctx):
        asked = []
        while True:
            await receive(ctx, dut.o_mem_req, pauses(pause, rng.randrange(1 << 30)), asked, 1,
                          None)
            for _ in range(rng.randint(0, latency)):
                await ctx.tick()
            await send(ctx, dut.i_mem_resp, [{"data": image[asked[-1]]}], pauses("none"))

    async def responses(ctx):
        await receive(ctx, dut.o_resp, pauses(pause, seed + 1), got, 1)
        await ctx.tick()
        counters.update({name: ctx.get(getattr(dut, name)) for name in COUNTERS})

    sim.add_testbench(requests, background=True)
    sim.add_testbench(memory, background=True)
    sim.add_testbench(responses)
    sim.run_until(1e-8 * (60 + 3 * latency) * (len(accesses) + 10))
    assert counters, f"{len(got)} of {len(accesses)} responses"
    lay = dut.o_resp.payload.shape()
    return [unpack(lay, v) for v in got], counters


def golden(dut, accesses, image, flush_at=()):
    """The responses and counters of the model of ``dut``'s parameters."""
    model = CacheModel(dut.sets, dut.ways, dut.line_bytes, POLICIES[dut.policy])
    want = []
    for i, (line, group) in enumerate(accesses):
        if i in flush_at:
            model.flush()
        want.append({"data": image[line], "hit": int(model.access(line, group) == HIT),
                     "last": int(i == len(accesses) - 1)})
    return want, {name: getattr(model.counters, name) for name in COUNTERS}


def random_trace(dut, rng, count):
    """``count`` accesses to a few more lines than the cache holds (each line with a fixed
    group), and random line data for every line address."""
    pool = rng.choice(1 << dut.addr_width, min(1 << dut.addr_width,
                                                2 * dut.sets * dut.ways + 3), replace=False)
    groups = rng.integers(0, 1 << dut.group_bits, pool.size)
    picks = rng.integers(0, pool.size, count)
    image = {int(a): int.from_bytes(rng.bytes(dut.line_bytes), "big") for a in pool}
    return [(int(pool[k]), int(groups[k])) for k in picks], image


PARAM_SETS = [{}, {"sets": 4, "ways": 2, "policy": 1}, {"sets": 1, "ways": 8, "policy": 2,
                                                         "line_bytes": 4},
              {"sets": 2, "ways": 1, "line_bytes": 8, "addr_width": 8, "group_bits": 1},
              {"sets": 4, "ways": 4, "policy": 0, "group_bits": 3, "line_bytes": 32}]


@pytest.mark.parametrize("params", PARAM_SETS, ids=lambda d: ",".join(
    f"{k}={v}" for k, v in d.items()) or "defaults")
@pytest.mark.parametrize("pause", ["none", "random"])
def test_responses_and_counters_like_golden(params, pause):
    dut = ClusterIndexCache(**params)
    rng = np.random.default_rng(len(params) * 10 + (pause == "random"))
    accesses, image = random_trace(dut, rng, 150)
    flush_at = (60, 61) if pause == "random" else ()
    got, counters = run(dut, accesses, image, pause, latency=4 if pause == "random" else 0,
                        flush_at=flush_at, seed=len(params))
    want, want_counters = golden(dut, accesses, image, flush_at)
    assert got == want
    assert counters == want_counters
    assert counters["hits"] and counters["misses"]
    assert bool(counters["bypasses"]) == (Policy.of(dut.policy) is Policy.PINNED)


def test_inference_trace_like_golden():
    """The line accesses of iterative inference over clustered layers (golden.cluster_trace),
    policy by policy."""
    rng = np.random.default_rng(7)
    layers = [cluster.cluster_layer(rng.normal(0, 1, n)) for n in (150, 600)]
    lay = cluster_blocks.layout(layers, 16)
    image = {k // 16: int.from_bytes(lay.memory[k:k + 16], "big")
             for k in range(0, len(lay.memory), 16)}
    trace = [(int(a), int(g)) for a, g, _ in cluster_trace.accesses(lay, len(layers), [2, 3])]
    for policy in range(len(POLICIES)):
        dut = ClusterIndexCache(sets=4, ways=2, policy=policy)
        got, counters = run(dut, trace, image, "random", latency=3, seed=policy)
        want, want_counters = golden(dut, trace, image)
        assert got == want, POLICIES[policy]
        assert counters == want_counters, POLICIES[policy]


def _timed(dut, requests, latency):
    """Offer ``requests`` (line addresses, group 0; None: a cycle without a request) back to
    back with every sink ready and a
    memory answering ``latency`` cycles after each request; ``(taken, answered, asked)``: the
    cycles of the ``i_req`` transfers, of the ``o_resp`` transfers (with their hit flag) and of
    the ``o_mem_req`` transfers."""
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    taken, answered, asked = [], [], []

    async def bench(ctx):
        ctx.set(dut.o_resp.ready, 1)
        ctx.set(dut.o_mem_req.ready, 1)
        todo = list(requests)
        due = []
        for cycle in range(40 + len(requests) * (latency + 3)):
            idle = bool(todo) and todo[0] is None
            if idle:
                todo.pop(0)
            ctx.set(dut.i_req.valid, bool(todo) and not idle)
            if todo and not idle:
                ctx.set(dut.i_req.payload, {"addr": todo[0], "group": 0, "last": 0})
            ctx.set(dut.i_mem_resp.valid, bool(due) and due[0] <= cycle)
            *_, ready, valid, hit, mreq, mresp = await ctx.tick().sample(
                dut.i_req.ready, dut.o_resp.valid, dut.o_resp.payload.hit,
                dut.o_mem_req.valid, dut.i_mem_resp.ready)
            if ready and todo and not idle:
                taken.append(cycle)
                todo.pop(0)
            if valid:
                answered.append((cycle, hit))
            if mreq:
                asked.append(cycle)
                due.append(cycle + 1 + latency)
            if mresp and due and due[0] <= cycle:
                due.pop(0)

    sim.add_testbench(bench)
    sim.run()
    return taken, answered, asked


def test_one_hit_per_cycle():
    """The docstring's timing: back-to-back hits are taken one per cycle and answered 3 cycles
    after their request is taken, one per cycle."""
    taken, answered, _ = _timed(ClusterIndexCache(sets=1, ways=2), [5] + [None] * 10
                                + [5] * 40, 0)
    assert len(taken) == 41 and answered[0][1] == 0
    hits = taken[-30:]                                   # past the first miss
    assert (np.diff(hits) == 1).all(), taken
    assert [c for c, _ in answered[-30:]] == [t + 3 for t in hits]
    assert all(h for _, h in answered[1:])


@pytest.mark.parametrize("outstanding", [2, 4, 8])
def test_hits_under_a_miss(outstanding):
    """While two misses wait 30 cycles for the memory, the hits behind them are looked up (up
    to ``outstanding`` requests queued) and answered right after them, in order."""
    dut = ClusterIndexCache(sets=1, ways=2, outstanding=outstanding)
    taken, answered, asked = _timed(dut, [5, 9] + [5] * 12, 30)
    assert len(asked) == 2 and asked == [taken[0] + 2, taken[1] + 2]
    # before the first memory response: the queue holds the two misses and outstanding - 2
    # hits; the lookup stage one more
    under = [t for t in taken if t < answered[0][0]]
    assert len(under) == outstanding + 1, (taken, answered)
    assert (np.diff(under) == 1).all(), taken
    hits = [h for _, h in answered]
    assert hits == [0, 0] + [1] * 12
    assert (np.diff([c for c, _ in answered[1:]]) == 1).all(), answered


def test_policy_enum_maps_the_parameter():
    assert [Policy.of(i).value for i in range(len(POLICIES))] == list(POLICIES)
    assert [p.value for p in Policy] == list(POLICIES)


GOOD = {"line_bytes": 16, "ways": 4, "sets": 16, "addr_width": 16, "policy": 0, "group_bits": 2,
        "outstanding": 4}


@pytest.mark.parametrize("name,value,message", [
    ("line_bytes", 12, "line_bytes must be one of 4, 8, 16, 32, not 12"),
    ("line_bytes", 64, "line_bytes must be one of 4, 8, 16, 32, not 64"),
    ("line_bytes", 0, "line_bytes must be one of 4, 8, 16, 32, not 0"),
    ("ways", 3, "ways must be one of 1, 2, 4, 8, not 3"),
    ("ways", 16, "ways must be one of 1, 2, 4, 8, not 16"),
    ("ways", 0, "ways must be one of 1, 2, 4, 8, not 0"),
    ("sets", 3, "sets must be one of 1, 2, 4, 8, 16, 32, 64, 128, 256, not 3"),
    ("sets", 512, "sets must be one of 1, 2, 4, 8, 16, 32, 64, 128, 256, not 512"),
    ("sets", 0, "sets must be one of 1, 2, 4, 8, 16, 32, 64, 128, 256, not 0"),
    ("addr_width", 7, "addr_width must be in 8..32, not 7"),
    ("addr_width", 33, "addr_width must be in 8..32, not 33"),
    ("policy", 3, "policy must be one of 0, 1, 2, not 3"),
    ("policy", -1, "policy must be one of 0, 1, 2, not -1"),
    ("group_bits", 0, "group_bits must be one of 1, 2, 3, not 0"),
    ("group_bits", 4, "group_bits must be one of 1, 2, 3, not 4"),
    ("ways", 4.0, "ways must be one of 1, 2, 4, 8, not 4.0"),
    ("sets", "16", "sets must be one of 1, 2, 4, 8, 16, 32, 64, 128, 256, not '16'"),
    ("policy", True, "policy must be one of 0, 1, 2, not True"),
    ("line_bytes", None, "line_bytes must be one of 4, 8, 16, 32, not None"),
    ("outstanding", 1, "outstanding must be one of 2, 4, 8, 16, not 1"),
    ("outstanding", 32, "outstanding must be one of 2, 4, 8, 16, not 32"),
])
def test_every_bad_parameter_is_refused(name, value, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        ClusterIndexCache(**{**GOOD, name: value})


def test_parameter_extremes_elaborate():
    """The corners of the parameter space are accepted (and elaborate)."""
    from amaranth.back import rtlil
    for params in ({"sets": 256, "addr_width": 8, "ways": 1, "line_bytes": 4},
                   {"sets": 1, "ways": 8, "addr_width": 32, "group_bits": 3, "policy": 2}):
        rtlil.convert(ClusterIndexCache(**params))
