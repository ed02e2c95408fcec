"""cocotb tests of ``ebpc_encoder`` (emitted Verilog, Icarus) against ``golden.ebpc.encode``.

Run through :func:`tb.runner.run` (the core parameters: :mod:`tb.preamble`). Every test
checks the stream protocol on all three ports and both output byte streams bit-exactly, transfer
by transfer.
"""

import os

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles

from golden import datagen, ebpc
from tb import axis, ebpc_cases
from tb.harness import Harness, throughput_bench
from tb.preamble import Context
from tb.streamdata import PAUSE_KINDS, port_words, stream_bytes, transfer_words
from tb.suite import Run, other_sets

CORE = "ebpc-encoder"
#: ``make test``: every test below on each
PARAM_SETS = ({}, {"word_bits": 16, "block_size": 16}, {"bpc_words": 2},
              {"word_bits": 16, "block_size": 8, "bpc_words": 2}, {"block_size": 16},
              {"serial": 1}, {"serial": 1, "word_bits": 16, "block_size": 16})
RUNS = {"edge_cases": ebpc_cases.WITH_VECTORS,
        "axis_top": Run(({}, {"word_bits": 16, "block_size": 16, "bpc_words": 2}), axis=True)}
#: ``make regress``: every other configuration the encoder offers, under crossed backpressure
REGRESS = {"random_backpressure": Run(other_sets(CORE, PARAM_SETS), label="offered")}
BENCH = ebpc_cases.bench(CORE, ({}, {"bpc_words": 2}, {"word_bits": 16, "block_size": 16},
                                 {"serial": 1}))

CTX = Context.of(CORE)
COMPONENT, seed_of = CTX.component, CTX.seed_of
P = COMPONENT.params
BPC_WORDS = CTX.params.get("bpc_words", 1)


def golden_streams(xs):
    """Per transfer the ZNZ bytes; the BPC bytes of the transfers that have any."""
    pairs = [ebpc.encode(x, P.word_bits, P.block_size) for x in xs]
    return [z for z, _ in pairs], [b for _, b in pairs if b]


async def encode(tb, xs, limit=None):
    """Send ``xs`` (a list of arrays); return the ``(znz, bpc)`` byte streams per transfer of
    everything seen since the reset."""
    tb.sources["i_words"].send([d for x in xs for d in transfer_words(x, P.word_bits)])
    znz_want, bpc_want = golden_streams(xs)
    znz_end = tb.monitors["o_znz"].lasts + len(znz_want)
    bpc_end = tb.monitors["o_bpc"].lasts + len(bpc_want)
    words = sum(x.size for x in xs)
    await tb.wait_for(lambda: tb.monitors["o_znz"].lasts >= znz_end
                      and tb.monitors["o_bpc"].lasts >= bpc_end,
                      limit or 40 * words + 200, f"{len(xs)} transfers")
    await ClockCycles(tb.dut.clk, 8)                 # nothing extra may follow
    tb.check_protocol()
    znz, rest_z = tb.words("o_znz")
    bpc, rest_b = tb.words("o_bpc")
    assert not rest_z and not rest_b, "words after the final last"
    return ([stream_bytes(t, P.word_bits) for t in znz],
            [stream_bytes(t, P.word_bits, BPC_WORDS) for t in bpc])


def assert_streams(xs, got, what):
    znz_want, bpc_want = golden_streams(xs)
    znz, bpc = got
    assert len(znz) == len(znz_want), f"{what}: {len(znz)} ZNZ transfers, want {len(znz_want)}"
    assert len(bpc) == len(bpc_want), f"{what}: {len(bpc)} BPC transfers, want {len(bpc_want)}"
    for t, (g, w) in enumerate(zip(znz, znz_want)):
        assert g == w, f"{what}: ZNZ of transfer {t}: {g.hex()} != golden {w.hex()}"
    for t, (g, w) in enumerate(zip(bpc, bpc_want)):
        assert g == w, f"{what}: BPC stream {t}: {g.hex()} != golden {w.hex()}"


@cocotb.test()
async def edge_cases(dut):
    """Extremes, zero runs around 16, transfers around the block size, the authors' vectors."""
    tb = Harness(dut, COMPONENT)
    await tb.reset()
    cases = ebpc_cases.edge_cases(P)
    vectors = ebpc_cases.reference_vectors()
    if P.word_bits == 8:
        cases.update({f"vector_{v['name']}": np.array(v["input"], np.int8) for v in vectors})
    xs = list(cases.values())
    got = await encode(tb, xs)
    assert_streams(xs, got, "edge cases")
    if P.word_bits == 8 and P.block_size == 8:       # and the authors' bytes themselves
        by_name = dict(zip(cases, range(len(xs))))
        bpc_index = np.cumsum([bool(x.any()) for x in xs]) - 1
        for v in vectors:
            t = by_name[f"vector_{v['name']}"]
            assert list(got[0][t]) == v["znz"], v["name"]
            assert (list(got[1][bpc_index[t]]) if any(v["input"]) else []) == v["bpc"], v["name"]
    dut._log.info("edge cases: %d transfers (%d reference vectors) bit-exact", len(xs),
                  len(vectors))


@cocotb.test()
@cocotb.parametrize(i_words=PAUSE_KINDS, o_znz=PAUSE_KINDS, o_bpc=PAUSE_KINDS)
async def random_backpressure(dut, i_words, o_znz, o_bpc):
    """Seeded random transfers of every data kind, gaps and backpressure crossed on the ports."""
    seed = seed_of("random", i_words, o_znz, o_bpc)
    tb = Harness(dut, COMPONENT, {"i_words": i_words, "o_znz": o_znz, "o_bpc": o_bpc}, seed)
    await tb.reset()
    xs = ebpc_cases.random_set(P, np.random.default_rng(seed), 10, 150)
    assert_streams(xs, await encode(tb, xs), f"seed {seed}")


@cocotb.test()
async def long_transfers(dut):
    """Transfers of up to 5000 words, lengths 1..5000, random gaps and backpressure everywhere."""
    seed = seed_of("long")
    tb = Harness(dut, COMPONENT, dict.fromkeys(("i_words", "o_znz", "o_bpc"), "random"), seed)
    await tb.reset()
    rng = np.random.default_rng(seed)
    xs = [datagen.make(k, rng, n, P.word_bits) for k, n in
          (("relu", 5000), ("sparse50", 1), ("dense", 1234), ("zeros", 4097), ("smooth", 2))]
    assert_streams(xs, await encode(tb, xs), f"seed {seed}")


@cocotb.test()
async def back_to_back(dut):
    """Many short transfers with no gap in between; on zero-heavy data the input never stalls."""
    seed = seed_of("b2b")
    tb = Harness(dut, COMPONENT, seed=seed)
    await tb.reset()
    rng = np.random.default_rng(seed)
    xs = ebpc_cases.random_set(P, rng, 60, 20)
    assert_streams(xs, await encode(tb, xs), f"seed {seed}")
    zeros = [datagen.make("zeros", rng, int(rng.integers(1, 40)), P.word_bits)
             for _ in range(40)]
    stalls = tb.monitors["i_words"].stalls
    assert_streams(xs + zeros, await encode(tb, zeros), f"seed {seed}")
    assert tb.monitors["i_words"].stalls == stalls, "input stalled on back-to-back zero transfers"


@cocotb.test()
@cocotb.parametrize(cut=[1, 7, 300])
async def reset_mid_transfer(dut, cut):
    """A reset ``cut`` words into a transfer: no X and no valid after it; the next transfers
    come out right."""
    seed = seed_of("reset", cut)
    tb = Harness(dut, COMPONENT, {"o_bpc": "random"}, seed)
    await tb.reset()
    rng = np.random.default_rng(seed)
    x = datagen.make("sparse50", rng, 1000, P.word_bits)
    tb.sources["i_words"].send(transfer_words(x, P.word_bits))
    await tb.wait_for(lambda: len(tb.monitors["i_words"].items) >= cut, 10 * cut + 50, "input")
    await tb.reset(3)
    xs = ebpc_cases.random_set(P, rng, 6, 200)
    assert_streams(xs, await encode(tb, xs), f"seed {seed}")


def axis_case(rng):
    """Random transfers of every data kind in, golden's ZNZ and BPC streams out."""
    xs = ebpc_cases.random_set(P, rng, 6, 150)
    znz, bpc = golden_streams(xs)
    words = [d for x in xs for d in transfer_words(x, P.word_bits)]
    return axis.Case([axis.Step(
        {"i_words": words},
        {"o_znz": [d for z in znz for d in port_words(z, P.word_bits)],
         "o_bpc": [d for b in bpc for d in port_words(b, P.word_bits, BPC_WORDS)]})])


@cocotb.test()
async def axis_top(dut):
    """The AXI4-Stream top (:func:`tb.axis.check`): random pauses, a reset, exact beats."""
    await axis.check(dut, CTX, axis_case)


@cocotb.test(skip="DNNPRESS_BENCH" not in os.environ)
async def throughput(dut):
    """Benchmark (``make bench``): two 2048-word transfers per data kind, all valid / ready
    high (:func:`tb.harness.throughput_bench`)."""
    async def transfer(tb, kind, rng):
        xs = [datagen.make(kind, rng, 2048, P.word_bits) for _ in range(2)]
        assert_streams(xs, await encode(tb, xs), kind)
        return sum(x.size for x in xs)

    await throughput_bench(dut, CTX, transfer)
