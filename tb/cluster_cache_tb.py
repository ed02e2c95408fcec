"""cocotb tests of ``cluster_cache`` (emitted Verilog, Icarus): the golden line-access trace of
iterative inference replayed access by access against :class:`golden.cluster_cache.CacheModel`,
with a backing memory of random latency. The core parameters: :mod:`tb.preamble`."""

import os
import random

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

from golden import cluster, cluster_blocks, cluster_trace
from golden.cluster_cache import HIT, POLICIES, CacheModel
from tb import axis
from tb.harness import Harness, throughput_bench
from tb.preamble import Context
from tb.streamdata import PAUSE_KINDS, port_words
from tb.suite import Bench, Run

CORE = "cluster-cache"
#: ``make test``: every test below on each
PARAM_SETS = ({"sets": 4, "policy": 0}, {"sets": 4, "policy": 1, "outstanding": 2},
              {"sets": 4, "policy": 2, "outstanding": 16}, {"sets": 2, "ways": 1, "line_bytes": 8},
              {"sets": 1, "ways": 8, "policy": 1, "outstanding": 8})
#: ``make bench``: requests per cycle at the defaults (1 KB) and at 4 KB
BENCH = Bench(({}, {"sets": 64}, {"outstanding": 16}), {"all-hit": 1.0},
              "goal: one hit per cycle (issue 22); requests/cycle with every port ready and a "
              "memory answering in the cycle after each request (-L20: a pipelined memory "
              "answering 20 cycles after each request)")
RUNS = {"axis_top": Run(({}, {"sets": 4, "ways": 2, "line_bytes": 8, "policy": 1}), axis=True)}

CTX = Context.of(CORE)
COMPONENT, seed_of = CTX.component, CTX.seed_of
C = COMPONENT
POLICY = POLICIES[C.policy]


def network(rng, sizes=(150, 1200, 1600)):
    """Clustered layers of random weights and their memory layout."""
    layers = [cluster.cluster_layer(rng.normal(0, 1, n)) for n in sizes]
    return layers, cluster_blocks.layout(layers, C.line_bytes)


def lines_of(mem):
    return [d["data"] for d in port_words(mem, 8 * C.line_bytes)]


async def memory(tb, image, rng, latency):
    """The backing memory: answers every request in order after 0..``latency`` cycles."""
    served = 0
    while True:
        await RisingEdge(tb.dut.clk)
        reqs = tb.monitors["o_mem_req"].items
        while served < len(reqs):
            addr = reqs[served][1]["addr"]
            for _ in range(rng.randint(0, latency)):
                await RisingEdge(tb.dut.clk)
            tb.sources["i_mem_resp"].send([{"data": image[addr]}])
            served += 1


async def pipelined_memory(tb, image, latency):
    """A pipelined backing memory: answers each request ``latency`` cycles after it was taken,
    however many are in flight."""
    served = 0
    while True:
        await RisingEdge(tb.dut.clk)
        reqs = tb.monitors["o_mem_req"].items
        while served < len(reqs) and tb.cycle >= reqs[served][0] + latency:
            tb.sources["i_mem_resp"].send([{"data": image[reqs[served][1]["addr"]]}])
            served += 1


async def replay(tb, trace, image, model, flush_at=()):
    """Send ``trace`` (flushing before the accesses in ``flush_at``); check every response's hit
    flag and data against ``model`` and the image, then the counters."""
    want, base = [], len(tb.monitors["o_resp"].items)
    chunks = np.split(np.arange(len(trace)), sorted(flush_at))
    for n, chunk in enumerate(chunks):
        if n:
            await tb.wait_for(lambda: len(tb.monitors["o_resp"].items) == base + len(want),
                              100 * len(want) + 5000, "responses before the flush")
            tb.dut.flush.value = 1
            await RisingEdge(tb.dut.clk)
            tb.dut.flush.value = 0
            model.flush()
        reqs = []
        for i in chunk:
            line, group, _ = trace[i]
            want.append((model.access(line, group) == HIT, image[line]))
            reqs.append({"addr": line, "group": group, "last": int(i == len(trace) - 1)})
        tb.sources["i_req"].send(reqs)
    await tb.wait_for(lambda: len(tb.monitors["o_resp"].items) >= base + len(want),
                      60 * len(want) + 5000, f"{len(want)} responses")
    tb.check_protocol()
    got = [d for _, d in tb.monitors["o_resp"].items[base:]]
    for i, (d, (hit, data)) in enumerate(zip(got, want)):
        assert d["hit"] == hit, f"access {i} (line {trace[i][0]}, group {trace[i][1]}): " \
                                f"hit {d['hit']}, golden {hit}"
        assert d["data"] == data, f"access {i}: wrong line data"
    c = model.counters
    dut = tb.dut
    assert (int(dut.hits.value), int(dut.misses.value), int(dut.bypasses.value),
            int(dut.memory_bytes.value)) == (c.hits, c.misses, c.bypasses, c.memory_bytes)
    return c


def start(dut, pause, seed, latency):
    tb = Harness(dut, COMPONENT, pause, seed)
    dut.flush.value = 0
    return tb


async def run_trace(dut, pause, seed, latency, inputs=4, flush_at=()):
    rng = np.random.default_rng(seed)
    tb = start(dut, pause, seed, latency)
    await tb.reset()
    layers, lay = network(rng)
    image = lines_of(lay.memory)
    cocotb.start_soon(memory(tb, image, random.Random(seed), latency))
    trace = cluster_trace.accesses(lay, len(layers), rng.integers(1, 5, inputs))
    model = CacheModel(C.sets, C.ways, C.line_bytes, POLICY)
    c = await replay(tb, trace, image, model, flush_at)
    dut._log.info("%s: %d accesses, %d hits, %d misses, %d bypasses", POLICY, len(trace),
                  c.hits, c.misses, c.bypasses)
    return c


def axis_case(rng):
    """The golden trace of two inputs: the requests in, and the memory's lines in the order
    golden fetches them (the cache takes a memory response only while it waits for one); the
    responses and the memory requests out."""
    layers, lay = network(rng, (150, 600))
    image = lines_of(lay.memory)
    trace = cluster_trace.accesses(lay, len(layers), rng.integers(1, 5, 2))
    model = CacheModel(C.sets, C.ways, C.line_bytes, POLICY)
    reqs, resps, fetched = [], [], []
    for i, (line, group, _) in enumerate(trace):
        hit = model.access(line, group) == HIT
        last = int(i == len(trace) - 1)
        reqs.append({"addr": line, "group": group, "last": last})
        resps.append({"data": image[line], "hit": int(hit), "last": last})
        fetched += [] if hit else [line]
    return axis.Case([axis.Step(
        {"i_req": reqs, "i_mem_resp": [{"data": image[a]} for a in fetched]},
        {"o_resp": resps, "o_mem_req": [{"addr": a} for a in fetched]}, {"flush": 0})])


@cocotb.test()
async def axis_top(dut):
    """The AXI4-Stream top (:func:`tb.axis.check`): random pauses, a reset, exact beats."""
    await axis.check(dut, CTX, axis_case)


@cocotb.test()
@cocotb.parametrize(i_req=PAUSE_KINDS, o_resp=PAUSE_KINDS)
async def trace_backpressure(dut, i_req, o_resp):
    """The golden trace of 4 inputs, random memory latency 0..12 and random memory ports, with
    request gaps and response backpressure crossed."""
    seed = seed_of("trace", i_req, o_resp)
    await run_trace(dut, {"i_req": i_req, "o_resp": o_resp, "o_mem_req": "random",
                          "i_mem_resp": "random"}, seed, 12)


@cocotb.test()
async def batch_tile_schedule(dut):
    """The batch schedule of the evaluation (8 inputs layer by layer, tiles of the cache's
    capacity, partial sums on half of it), replayed under random pauses on every port: the
    trace where nearly every access hits, back to back."""
    seed = seed_of("batch")
    rng = np.random.default_rng(seed)
    tb = start(dut, {"i_req": "random", "o_resp": "random", "o_mem_req": "random",
                     "i_mem_resp": "random"}, seed, 6)
    await tb.reset()
    layers, lay = network(rng)
    image = lines_of(lay.memory)
    cocotb.start_soon(memory(tb, image, random.Random(seed), 6))
    stops = rng.integers(1, 5, 8)
    trace = [*cluster_trace.accesses(lay, len(layers), stops, batch=8,
                                     tile_lines=C.sets * C.ways),
             *cluster_trace.accesses(lay, len(layers), stops[:4], batch=4,
                                     tile_lines=C.sets * C.ways, partial_sums=True)]
    c = await replay(tb, trace, image, CacheModel(C.sets, C.ways, C.line_bytes, POLICY))
    dut._log.info("%s batch: %d accesses, %d hits", POLICY, len(trace), c.hits)


@cocotb.test()
async def long_latency_and_flush(dut):
    """A backing memory of up to 60 cycles and two flushes in the middle of the trace."""
    seed = seed_of("flush")
    c = await run_trace(dut, {"o_resp": "random"}, seed, 60, inputs=3, flush_at=(400, 900))
    assert c.misses > 0


@cocotb.test()
async def reset_between_traces(dut):
    """A reset mid-trace clears the cache; a new trace replays exactly from a cold cache."""
    seed = seed_of("reset")
    rng = np.random.default_rng(seed)
    tb = start(dut, {}, seed, 5)
    await tb.reset()
    layers, lay = network(rng, (300, 600))
    image = lines_of(lay.memory)
    mem = cocotb.start_soon(memory(tb, image, random.Random(seed), 5))
    trace = cluster_trace.accesses(lay, len(layers), [4, 4])
    tb.sources["i_req"].send([{"addr": a, "group": g, "last": 0} for a, g, _ in trace[:200]])
    await tb.wait_for(lambda: len(tb.monitors["o_resp"].items) >= 50, 20000, "responses")
    mem.cancel()                   # the memory forgets what was asked before the reset
    await tb.reset(3)
    cocotb.start_soon(memory(tb, image, random.Random(seed + 1), 5))
    await replay(tb, trace, image, CacheModel(C.sets, C.ways, C.line_bytes, POLICY))


#: ``make bench`` request streams: 16 lines x 256 passes (16 misses, then hits); 4,096 lines
#: once each (every access a miss or a bypass); the iterative-inference trace of 4 inputs;
#: ``-L20``: the same behind a pipelined memory of 20 cycles
BENCH_KINDS = ("all-hit", "all-miss", "trace", "all-miss-L20", "trace-L20")


def bench_trace(kind, rng):
    """``(trace, image)`` of a :data:`BENCH_KINDS` stream."""
    if kind.startswith("trace"):
        layers, lay = network(rng)
        return cluster_trace.accesses(lay, len(layers), [4, 3, 2, 4]), lines_of(lay.memory)
    lines = np.tile(np.arange(16), 256) if kind == "all-hit" else np.arange(4096)
    image = [int.from_bytes(rng.bytes(C.line_bytes), "big") for _ in range(4096)]
    return [(int(a), 0, 0) for a in lines], image


@cocotb.test(skip="DNNPRESS_BENCH" not in os.environ)
async def throughput(dut):
    """Benchmark: requests/cycle on all-hit, all-miss and the real trace, every response and
    counter checked against the golden model."""
    async def transfer(tb, kind, rng):
        trace, image = bench_trace(kind, rng)
        mem = cocotb.start_soon(pipelined_memory(tb, image,
                                                 20 if kind.endswith("-L20") else 0))
        c = await replay(tb, trace, image, CacheModel(C.sets, C.ways, C.line_bytes, POLICY))
        mem.cancel()
        dut._log.info("%s: %d requests, %d hits", kind, len(trace), c.hits)
        return len(trace)

    dut.flush.value = 0
    await throughput_bench(dut, CTX, transfer, kinds=BENCH_KINDS)
