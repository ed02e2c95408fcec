"""Cluster entry decoder in the Amaranth simulator against ``golden.cluster_blocks`` /
``golden.cluster_trace.decoded_stream``: every block of clustered layers, with every number of
active groups, under gaps and backpressure; and the validation of every parameter."""

import re

import numpy as np
import pytest
from amaranth.sim import Simulator

from golden import cluster, cluster_blocks, cluster_trace
from hw.cluster.entry_decoder import ClusterEntryDecoder
from tb.streamdata import port_words
from tests.simstreams import pauses, receive, send, unpack


def table(layer):
    """The ``i_config`` writes of ``layer``'s centroid table."""
    return [{"cidx": i, "value": int(v) & 0xFFFF, "group": int(layer.group_of[i])}
            for i, v in enumerate(cluster_trace.centroid_table(layer))]


def run(dut, plan, pause="none", seed=0):
    """Decode ``plan``: per step ``(layer, active, groups)``, load the layer's table, set
    ``active`` and send the blocks of ``groups`` back to back (the next step waits for the
    previous blocks to close). Returns the ``o_weights`` beats (dicts) and the cycle count."""
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    lay = dut.o_weights.payload.shape()
    last_bit = 1 << lay["last"].offset
    got, cycles, finished = [], [0], []
    blocks = sum(len(groups) for _, _, groups in plan)

    async def driver(ctx):
        sent = 0
        for step, (layer, active, groups) in enumerate(plan):
            while sum(1 for v in got if v & last_bit) < sent:
                await ctx.tick()
            await send(ctx, dut.i_config, table(layer), pauses("none"))
            ctx.set(dut.active, active)
            lines = [w for g in groups for w in port_words(
                cluster_blocks.encode_block(layer.cidx, layer.group_of, g, dut.line_bytes),
                8 * dut.line_bytes)]
            await send(ctx, dut.i_lines, lines, pauses(pause, seed + step))
            sent += len(groups)

    async def sink(ctx):
        await receive(ctx, dut.o_weights, pauses(pause, seed + 1000), got, blocks)
        finished.append(True)

    async def clock(ctx):
        while not finished:
            await ctx.tick()
            cycles[0] += 1
            assert cycles[0] < 200_000, f"{sum(1 for v in got if v & last_bit)} of {blocks}"

    sim.add_testbench(driver, background=True)
    sim.add_testbench(sink)
    sim.add_testbench(clock)
    sim.run()
    return [unpack(lay, v) for v in got], cycles[0]


def golden(plan, line_bytes):
    want = []
    for layer, active, groups in plan:
        for g in groups:
            block = cluster_blocks.encode_block(layer.cidx, layer.group_of, g, line_bytes)
            pos, val = cluster_trace.decoded_stream(block, layer, active)
            want += [{"position": int(p), "value": int(v) & 0xFFFF, "weight": 1, "last": 0}
                     for p, v in zip(pos, val)]
            want.append({"position": 0, "value": 0, "weight": 0, "last": 1})
    return want


def layers(rng, groups, longest):
    """A dense, a sparse (runs past 15: PAD entries) and a mostly-zero layer."""
    return [cluster.cluster_layer(rng.normal(0, 1, n) * (rng.random(n) > s), groups=groups)
            for n, s in ((min(150, longest), 0), (longest, 0.5), (longest, 0.95))]


PARAM_SETS = [{}, {"line_bytes": 4, "position_bits": 8, "group_bits": 1},
              {"line_bytes": 32, "position_bits": 24, "group_bits": 3}, {"line_bytes": 8}]


@pytest.mark.parametrize("params", PARAM_SETS, ids=lambda d: ",".join(
    f"{k}={v}" for k, v in d.items()) or "defaults")
@pytest.mark.parametrize("pause", ["none", "random"])
def test_blocks_like_golden(params, pause):
    dut = ClusterEntryDecoder(**params)
    rng = np.random.default_rng(len(params) + 10 * (pause == "random"))
    groups = min(4, 1 << dut.group_bits)
    plan = [(layer, active, range(layer.groups))
            for layer in layers(rng, groups, min(700, 1 << dut.position_bits))
            for active in range(layer.groups + 1)]
    got, _ = run(dut, plan, pause, seed=len(params))
    assert got == golden(plan, dut.line_bytes)


def test_eight_groups_and_inactive_tables():
    """group_bits 3: eight groups, ``active`` up to 8, tables reloaded between layers."""
    dut = ClusterEntryDecoder(line_bytes=16, position_bits=12, group_bits=3)
    rng = np.random.default_rng(3)
    layer = cluster.cluster_layer(rng.normal(0, 1, 900), groups=8)
    plan = [(layer, active, range(8)) for active in (0, 3, 8)]
    got, _ = run(dut, plan, "random", seed=3)
    assert got == golden(plan, 16)


def test_one_weight_per_cycle():
    """Dense layer, every group active, no backpressure: one beat per entry, lines back to
    back (the docstring's throughput)."""
    dut = ClusterEntryDecoder()
    layer = cluster.cluster_layer(np.random.default_rng(5).normal(0, 1, 2000))
    plan = [(layer, layer.groups, range(layer.groups))]
    got, cycles = run(dut, plan)
    entries = sum(len(cluster_blocks.encode_block(layer.cidx, layer.group_of, g))
                  for g in range(layer.groups))
    assert got == golden(plan, 16)
    assert cycles <= entries + len(table(layer)) + 4 * layer.groups + 10, (cycles, entries)


GOOD = {"line_bytes": 16, "position_bits": 16, "group_bits": 2}


@pytest.mark.parametrize("name,value,message", [
    ("line_bytes", 2, "line_bytes must be one of 4, 8, 16, 32, not 2"),
    ("line_bytes", 24, "line_bytes must be one of 4, 8, 16, 32, not 24"),
    ("line_bytes", 64, "line_bytes must be one of 4, 8, 16, 32, not 64"),
    ("position_bits", 7, "position_bits must be in 8..24, not 7"),
    ("position_bits", 25, "position_bits must be in 8..24, not 25"),
    ("group_bits", 0, "group_bits must be one of 1, 2, 3, not 0"),
    ("group_bits", 4, "group_bits must be one of 1, 2, 3, not 4"),
    ("position_bits", 16.0, "position_bits must be in 8..24, not 16.0"),
    ("line_bytes", "16", "line_bytes must be one of 4, 8, 16, 32, not '16'"),
    ("group_bits", False, "group_bits must be one of 1, 2, 3, not False"),
])
def test_every_bad_parameter_is_refused(name, value, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        ClusterEntryDecoder(**{**GOOD, name: value})
