"""cocotb tests of ``ebpc_decoder`` (emitted Verilog, Icarus) against ``golden.ebpc.decode``.

Run through :func:`tb.runner.run` (the core parameters: :mod:`tb.preamble`). Every test checks
the stream protocol on all four ports; the output of each transfer is exactly N words with
``last`` on the N-th, equal to golden's words with ``error`` clear, or, for a transfer golden
rejects, ``error`` on the N-th word. ``DNNPRESS_FUZZ_CASES`` sets the fuzz size (default 40;
``make regress`` runs 1000).
"""

import os

import cocotb
import numpy as np
from cocotb.triggers import ClockCycles

from golden import datagen, ebpc
from tb import axis, ebpc_cases
from tb.harness import Harness, check_transfers, throughput_bench
from tb.preamble import Context
from tb.streamdata import PAUSE_KINDS, port_words
from tb.suite import Run, other_sets

CORE = "ebpc-decoder"
#: ``make test``: every test below on each
PARAM_SETS = ({}, {"word_bits": 16, "block_size": 16}, {"word_bits": 16}, {"block_size": 16},
              {"serial": 1}, {"serial": 1, "word_bits": 16, "block_size": 16})
RUNS = {"edge_cases": ebpc_cases.WITH_VECTORS,
        "axis_top": Run(({}, {"word_bits": 16, "block_size": 16}), axis=True)}
REGRESS = {"malformed_fuzz": Run(({}, {"word_bits": 16, "block_size": 16}, {"serial": 1}),
                                 env={"DNNPRESS_FUZZ_CASES": "1000"}, label="fuzz1000"),
           # every other configuration the decoder offers, under crossed backpressure
           "random_backpressure": Run(other_sets(CORE, PARAM_SETS), label="offered")}
BENCH = ebpc_cases.bench(CORE, ({}, {"word_bits": 16, "block_size": 16}, {"serial": 1}))

CTX = Context.of(CORE)
COMPONENT, seed_of = CTX.component, CTX.seed_of
P = COMPONENT.params
MASK = (1 << P.word_bits) - 1
FUZZ_CASES = int(os.environ.get("DNNPRESS_FUZZ_CASES", "40"))


def compressed(xs):
    """Well-formed transfers ``(znz, bpc, n)`` of the arrays ``xs``."""
    return [(*ebpc.encode(x, P.word_bits, P.block_size), x.size) for x in xs]


def golden_words(transfer):
    """The output beats golden gives for ``(znz, bpc, n)``; ``ValueError`` when it rejects it."""
    znz, bpc, n = transfer
    return [{"data": int(v) & MASK} for v in ebpc.decode(znz, bpc, n, P.word_bits, P.block_size)]


async def decode(tb, transfers, limit=None):
    """Send ``(znz, bpc, n)`` transfers (the BPC stream only when the ZNZ flags need one, as the
    decoder does); check every output transfer against golden; return the output transfers."""
    base = tb.monitors["o_words"].lasts
    sent = []
    for znz, bpc, n in transfers:
        tb.sources["i_count"].send([n - 1])
        tb.sources["i_znz"].send(port_words(znz, P.word_bits))
        if ebpc_cases.znz_needs_bpc(znz, n, P):
            bpc = bpc or bytes(P.word_bytes)          # the decoder waits for a stream: send one
            tb.sources["i_bpc"].send(port_words(bpc, P.word_bits))
        else:
            bpc = b""
        sent.append((znz, bpc, n))
    words = sum(n for *_, n in transfers) + sum(len(z) + len(b) for z, b, _ in transfers)
    await tb.wait_for(lambda: tb.monitors["o_words"].lasts >= base + len(transfers),
                      limit or 20 * words + 300, f"{len(transfers)} transfers")
    await ClockCycles(tb.dut.clk, 8)                 # nothing extra may follow
    tb.check_protocol()
    got, rest = tb.words("o_words")
    assert not rest, f"{len(rest)} words after the final last"
    assert len(got) == base + len(transfers)
    assert all(src.idle for src in tb.sources.values()), \
        f"inputs not drained: {[n for n, s in tb.sources.items() if not s.idle]}"
    check_transfers(got[base:], sent, golden_words, error_length=lambda s: s[2],
                    what=lambda t, s: f"transfer {t} (N={s[2]}, znz={s[0].hex()[:40]}, "
                                      f"bpc={s[1].hex()[:40]})")
    return got[base:]


def axis_case(rng):
    """Random transfers of every data kind: count, ZNZ and BPC streams in (BPC where the flags
    need one), golden's words out."""
    xs = ebpc_cases.random_set(P, rng, 6, 150)
    inputs = {"i_count": [], "i_znz": [], "i_bpc": []}
    words = []
    for (znz, bpc, n), x in zip(compressed(xs), xs):
        inputs["i_count"].append(n - 1)
        inputs["i_znz"] += port_words(znz, P.word_bits)
        if ebpc_cases.znz_needs_bpc(znz, n, P):
            inputs["i_bpc"] += port_words(bpc, P.word_bits)
        words += [{"data": int(v) & MASK, "last": int(i == n - 1), "error": 0}
                  for i, v in enumerate(x)]
    return axis.Case([axis.Step(inputs, {"o_words": words})])


@cocotb.test()
async def axis_top(dut):
    """The AXI4-Stream top (:func:`tb.axis.check`): random pauses, a reset, exact beats."""
    await axis.check(dut, CTX, axis_case)


@cocotb.test()
async def edge_cases(dut):
    """Extremes, zero runs around 16, transfers around the block size, the authors' vectors."""
    tb = Harness(dut, COMPONENT)
    await tb.reset()
    xs = list(ebpc_cases.edge_cases(P).values())
    transfers = compressed(xs)
    if P.word_bits == 8 and P.block_size == 8:
        vectors = ebpc_cases.reference_vectors()
        transfers += [(bytes(v["znz"]), bytes(v["bpc"]), len(v["input"])) for v in vectors]
        xs += [np.array(v["input"], np.int8) for v in vectors]
    got = await decode(tb, transfers)
    for t, x in enumerate(xs):
        assert [d["data"] for d in got[t]] == [int(v) & MASK for v in x], t


@cocotb.test()
@cocotb.parametrize(i_znz=PAUSE_KINDS, i_bpc=PAUSE_KINDS, o_words=PAUSE_KINDS)
async def random_backpressure(dut, i_znz, i_bpc, o_words):
    """Seeded random transfers of every data kind, gaps and backpressure crossed on the ports
    (the count port pauses like the ZNZ port, with its own seed)."""
    seed = seed_of("random", i_znz, i_bpc, o_words)
    tb = Harness(dut, COMPONENT, {"i_count": i_znz, "i_znz": i_znz, "i_bpc": i_bpc,
                                  "o_words": o_words}, seed)
    await tb.reset()
    await decode(tb, compressed(ebpc_cases.random_set(P, np.random.default_rng(seed), 10, 150)))


@cocotb.test()
async def long_transfers(dut):
    """Transfers of up to 5000 words, random gaps and backpressure on every port."""
    seed = seed_of("long")
    tb = Harness(dut, COMPONENT, dict.fromkeys(("i_count", "i_znz", "i_bpc", "o_words"),
                                               "random"), seed)
    await tb.reset()
    rng = np.random.default_rng(seed)
    xs = [datagen.make(k, rng, n, P.word_bits) for k, n in
          (("relu", 5000), ("sparse50", 1), ("dense", 1234), ("zeros", 4097), ("smooth", 2))]
    await decode(tb, compressed(xs))


@cocotb.test()
async def back_to_back(dut):
    """Many short transfers with no gap in between."""
    seed = seed_of("b2b")
    tb = Harness(dut, COMPONENT, seed=seed)
    await tb.reset()
    await decode(tb, compressed(ebpc_cases.random_set(P, np.random.default_rng(seed), 80, 20)))


@cocotb.test()
@cocotb.parametrize(cut=[1, 7, 300])
async def reset_mid_transfer(dut, cut):
    """A reset ``cut`` output words into a transfer: no X and no valid after it; the next
    transfers come out right."""
    seed = seed_of("reset", cut)
    tb = Harness(dut, COMPONENT, {"o_words": "random"}, seed)
    await tb.reset()
    rng = np.random.default_rng(seed)
    znz, bpc, n = compressed([datagen.make("sparse50", rng, 1000, P.word_bits)])[0]
    tb.sources["i_count"].send([n - 1])
    tb.sources["i_znz"].send(port_words(znz, P.word_bits))
    tb.sources["i_bpc"].send(port_words(bpc, P.word_bits))
    await tb.wait_for(lambda: len(tb.monitors["o_words"].items) >= cut, 10 * cut + 50, "output")
    await tb.reset(3)
    await decode(tb, compressed(ebpc_cases.random_set(P, rng, 6, 200)))


@cocotb.test()
async def malformed_fuzz(dut):
    """Transfers just past each limit (``malformed_edges``), then bit flips, truncation,
    garbage, trailing bytes, wrong counts, each followed by a good transfer, random gaps and
    backpressure: never a hang; golden's words or ``error``; the next transfer right."""
    seed = seed_of("fuzz", FUZZ_CASES)
    tb = Harness(dut, COMPONENT, dict.fromkeys(("i_count", "i_znz", "i_bpc", "o_words"),
                                               "random"), seed)
    await tb.reset()
    rng = np.random.default_rng(seed)
    edges = ebpc_cases.malformed_edges(P)
    good = compressed(ebpc_cases.random_set(P, rng, len(edges), 40))
    got = await decode(tb, [t for edge, ok in zip(edges, good) for t in (tuple(edge[1:]), ok)])
    errors = sum(t[-1]["error"] for t in got[::2])
    assert errors == len(edges), "a transfer just past a limit was not flagged"
    kinds = {}
    for chunk in range(0, FUZZ_CASES, 20):
        transfers = []
        for znz, bpc, n in compressed(ebpc_cases.random_set(P, rng, min(20, FUZZ_CASES - chunk),
                                                            80)):
            kind, *bad = ebpc_cases.mutate(znz, bpc, n, P, rng)
            kinds[kind] = kinds.get(kind, 0) + 1
            transfers += [tuple(bad), compressed(ebpc_cases.random_set(P, rng, 1, 40))[0]]
        got = await decode(tb, transfers)
        errors += sum(t[-1]["error"] for t in got[::2])
    dut._log.info("fuzz seed %d: %d cases %s, %d flagged as malformed", seed, FUZZ_CASES, kinds,
                  errors)
    assert errors > 0


@cocotb.test(skip="DNNPRESS_BENCH" not in os.environ)
async def throughput(dut):
    """Benchmark (``make bench``): two 2048-word transfers per data kind, all valid / ready
    high (:func:`tb.harness.throughput_bench`)."""
    async def transfer(tb, kind, rng):
        xs = [datagen.make(kind, rng, 2048, P.word_bits) for _ in range(2)]
        await decode(tb, compressed(xs))
        return sum(x.size for x in xs)

    await throughput_bench(dut, CTX, transfer)
