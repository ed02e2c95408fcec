"""cocotb tests of ``cluster_entry_decoder`` (emitted Verilog, Icarus): every block of clustered
layers decoded into ``{position, value}`` beats equal to
:func:`golden.cluster_trace.decoded_stream` (the dense masked weights). The core parameters:
:mod:`tb.preamble`."""

import os

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

from golden import cluster, cluster_blocks, cluster_trace
from tb import axis
from tb.harness import Harness, throughput_bench
from tb.preamble import Context
from tb.streamdata import PAUSE_KINDS, port_words
from tb.suite import Bench, Run

CORE = "cluster-entry-decoder"
#: ``make test``: every test below on each
PARAM_SETS = ({}, {"line_bytes": 4})
RUNS = {"axis_top": Run(({}, {"line_bytes": 4, "position_bits": 12, "group_bits": 3}),
                        axis=True)}
BENCH = Bench(({}, {"line_bytes": 4}), {"dense": 1.0}, "goal: one weight per cycle")

CTX = Context.of(CORE)
COMPONENT, seed_of = CTX.component, CTX.seed_of
LB = COMPONENT.line_bytes


def lines(block):
    return port_words(block, 8 * LB)


def config(layer):
    """The payloads that load the layer's centroid values and groups into the table."""
    return [{"cidx": i, "value": int(v) & 0xFFFF, "group": int(layer.group_of[i])}
            for i, v in enumerate(cluster_trace.centroid_table(layer))]


async def load_table(tb, layer):
    """The layer's centroid values and groups into the decoder's table."""
    tb.sources["i_config"].send(config(layer))
    await tb.wait_for(lambda: tb.sources["i_config"].idle, 1000, "the centroid table")
    for _ in range(2):
        await RisingEdge(tb.dut.clk)


async def decode_layer(tb, layer, active, block_groups):
    """Every block of ``layer`` in ``block_groups`` with ``active`` groups; checked."""
    await load_table(tb, layer)
    tb.dut.active.value = active
    for g in block_groups:
        block = cluster_blocks.encode_block(layer.cidx, layer.group_of, g, LB)
        base = tb.monitors["o_weights"].lasts
        start = len(tb.monitors["o_weights"].items)
        tb.sources["i_lines"].send(lines(block))
        await tb.wait_for(lambda base=base: tb.monitors["o_weights"].lasts > base,
                          4 * len(block) + 1000, f"block of group {g}")
        beats = [d for _, d in tb.monitors["o_weights"].items[start:]]
        assert beats[-1]["last"] == 1 and beats[-1]["weight"] == 0
        pos, val = cluster_trace.decoded_stream(block, layer, active)
        got = beats[:-1]
        assert all(d["weight"] for d in got)
        assert [d["position"] for d in got] == pos.tolist(), f"group {g}: positions"
        assert [d["value"] for d in got] == (val & 0xFFFF).tolist(), f"group {g}: values"
    tb.check_protocol()


def layers(rng):
    return [cluster.cluster_layer(rng.normal(0, 1, n) * (rng.random(n) > s))
            for n, s in ((150, 0), (2400, 0.3), (700, 0.9))]


def axis_case(rng):
    """Per layer: its table in (``active`` set), then every block in; golden's beats out."""
    steps = []
    for layer in layers(rng)[:2]:
        active = int(rng.integers(1, layer.groups + 1))
        steps.append(axis.Step({"i_config": config(layer)}, levels={"active": active}))
        for g in range(layer.groups):
            block = cluster_blocks.encode_block(layer.cidx, layer.group_of, g, LB)
            pos, val = cluster_trace.decoded_stream(block, layer, active)
            beats = [{"position": int(p), "value": int(v) & 0xFFFF, "weight": 1, "last": 0}
                     for p, v in zip(pos, val)]
            steps.append(axis.Step({"i_lines": lines(block)},
                                   {"o_weights": [*beats, {"weight": 0, "last": 1}]}))
    return axis.Case(steps)


@cocotb.test()
async def axis_top(dut):
    """The AXI4-Stream top (:func:`tb.axis.check`): random pauses, a reset, exact beats."""
    await axis.check(dut, CTX, axis_case)


@cocotb.test()
@cocotb.parametrize(i_lines=PAUSE_KINDS, o_weights=PAUSE_KINDS)
async def blocks_backpressure(dut, i_lines, o_weights):
    """Every block of three clustered layers, with every number of active groups; gaps and
    backpressure crossed."""
    seed = seed_of("blocks", i_lines, o_weights)
    tb = Harness(dut, COMPONENT, {"i_lines": i_lines, "o_weights": o_weights}, seed)
    dut.active.value = 0
    await tb.reset()
    rng = np.random.default_rng(seed)
    for layer in layers(rng):
        for active in range(layer.groups + 1):
            await decode_layer(tb, layer, active, range(layer.groups))


@cocotb.test()
async def dense_masked_weights(dut):
    """Decoding the blocks of the active groups rebuilds the dense masked layer exactly."""
    seed = seed_of("dense")
    tb = Harness(dut, COMPONENT, {"o_weights": "random"}, seed)
    dut.active.value = 0
    await tb.reset()
    layer = cluster.cluster_layer(np.random.default_rng(seed).normal(0, 1, (5, 5, 6, 16)))
    table = cluster_trace.centroid_table(layer)
    for active in range(1, layer.groups + 1):
        start = len(tb.monitors["o_weights"].items)
        await decode_layer(tb, layer, active, range(active))
        dense = np.zeros(layer.cidx.size, np.int64)
        for _, d in tb.monitors["o_weights"].items[start:]:
            if d["weight"]:
                dense[d["position"]] = (d["value"] ^ 0x8000) - 0x8000
        want = np.where(layer.group().reshape(-1) < active, table[layer.cidx.reshape(-1)], 0)
        assert (dense == want).all(), f"{active} active groups"


@cocotb.test(skip="DNNPRESS_BENCH" not in os.environ)
async def throughput(dut):
    """Benchmark: weights/cycle on blocks of dense, sparse (PAD-heavy) and masked layers."""
    kinds = {"dense": (0.0, 4), "sparse80": (0.8, 4), "masked": (0.0, 1)}

    async def transfer(tb, kind, rng):
        sparsity, active = kinds[kind]
        n = 4096
        layer = cluster.cluster_layer(rng.normal(0, 1, n) * (rng.random(n) >= sparsity))
        dut.active.value = active
        await decode_layer(tb, layer, active, [0, 1, 2, 3])
        return sum(1 for _, d in tb.monitors["o_weights"].items if d["weight"])

    dut.active.value = 0
    await throughput_bench(dut, CTX, transfer, kinds=tuple(kinds))
