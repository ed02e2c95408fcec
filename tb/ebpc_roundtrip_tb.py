"""cocotb round trip: words -> ``EBPCEncoder`` -> memory -> ``EBPCDecoder`` -> words, in one
Icarus simulation (:mod:`tb.ebpc_roundtrip`); the testbench forwards each compressed word to the
decoder as soon as the encoder emits it, and checks the bytes against golden on the way.
``DNNPRESS_ROUNDTRIP_WORDS`` sets the full-rate run's size (default 100,000 words, as ``make
regress`` runs it; ``make test`` runs the shorter one ``RUNS`` names)."""

import json
import os

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

from golden import datagen, ebpc
from tb import ebpc_roundtrip
from tb.harness import Harness
from tb.preamble import Context
from tb.streamdata import stream_bytes, transfer_words
from tb.suite import Run

CORE = ebpc_roundtrip.CORE
#: ``make test``: every test below on each
PARAM_SETS = ({}, {"word_bits": 16, "block_size": 16}, {"serial": 1})
RUNS = {"full_rate": Run(env={"DNNPRESS_ROUNDTRIP_WORDS": "20000"}),
        "real_maps": Run((), elsewhere="dnnpress eval ebpc --rtl (real feature maps)")}
REGRESS = {"full_rate": Run(label="100k")}

CTX = Context.of(CORE)
COMPONENT, seed_of = CTX.component, CTX.seed_of
P = COMPONENT.encoder.params
MASK = (1 << P.word_bits) - 1
KINDS = ("relu", "sparse50", "dense", "adversarial", "zeros", "smooth", "sparse80", "sparse95")


async def memory(tb, out, into):
    """Forward every word the encoder emits on ``out`` to the decoder's ``into``."""
    monitor, done = tb.monitors[out], 0
    while True:
        await RisingEdge(tb.dut.clk)
        if len(monitor.items) > done:
            tb.sources[into].send([d for _, d in monitor.items[done:]])
            done = len(monitor.items)


async def round_trip(tb, xs):
    """Send ``xs`` through; check the compressed bytes, every word and that no error is
    flagged; return cycles from the first input word to the final output word."""
    for out, into in (("o_znz", "i_znz"), ("o_bpc", "i_bpc")):
        cocotb.start_soon(memory(tb, out, into))
    tb.sources["i_count"].send([x.size - 1 for x in xs])
    tb.sources["i_words"].send([d for x in xs for d in transfer_words(x, P.word_bits)])
    words = sum(x.size for x in xs)
    await tb.wait_for(lambda: tb.monitors["o_words"].lasts >= len(xs), 20 * words + 500,
                      f"{len(xs)} transfers")
    tb.check_protocol()
    got, rest = tb.words("o_words")
    assert not rest and len(got) == len(xs)
    for t, (x, out) in enumerate(zip(xs, got)):
        assert [d["data"] for d in out] == [int(v) & MASK for v in x], f"transfer {t} differs"
        assert not any(d["error"] for d in out), f"transfer {t}: error flagged"
    pairs = [ebpc.encode(x, P.word_bits, P.block_size) for x in xs]
    znz, _ = tb.words("o_znz")
    bpc, _ = tb.words("o_bpc")
    assert [stream_bytes(w, P.word_bits) for w in znz] == [z for z, _ in pairs]
    assert [stream_bytes(w, P.word_bits) for w in bpc] == [b for _, b in pairs if b]
    return tb.monitors["o_words"].items[-1][0] - tb.monitors["i_words"].items[0][0] + 1


def transfers(rng, total, longest):
    xs = []
    while sum(x.size for x in xs) < total:
        xs.append(datagen.make(KINDS[len(xs) % len(KINDS)], rng,
                               int(rng.integers(1, longest + 1)), P.word_bits))
    return xs


@cocotb.test()
async def full_rate(dut):
    """At least ``DNNPRESS_ROUNDTRIP_WORDS`` words of every data kind, all valid / ready
    high."""
    seed = seed_of("full")
    tb = Harness(dut, COMPONENT, seed=seed)
    await tb.reset()
    xs = transfers(np.random.default_rng(seed), int(os.environ.get("DNNPRESS_ROUNDTRIP_WORDS",
                                                                   "100000")), 4096)
    cycles = await round_trip(tb, xs)
    words = sum(x.size for x in xs)
    dut._log.info("round trip seed %d: %d words in %d transfers, %d cycles, %.3f words/cycle",
                  seed, words, len(xs), cycles, words / cycles)


@cocotb.test()
async def backpressure(dut):
    """Random gaps on both inputs and random backpressure on the output."""
    seed = seed_of("pauses")
    tb = Harness(dut, COMPONENT, dict.fromkeys(("i_words", "i_count", "o_words"), "random"),
                 seed)
    await tb.reset()
    await round_trip(tb, transfers(np.random.default_rng(seed), 8000, 700))


@cocotb.test(skip="DNNPRESS_MAPS" not in os.environ)
async def real_maps(dut):
    """Real feature maps (``DNNPRESS_MAPS``: an ``.npz`` of int8 maps named ``map0``, ...),
    each its own transfer through encoder and decoder at full rate: bytes equal golden, words
    equal the input. Writes words/cycle per map to ``DNNPRESS_BENCH`` (JSON)."""
    maps = np.load(os.environ["DNNPRESS_MAPS"])
    rows = []
    for k in range(len(maps.files)):
        x = maps[f"map{k}"].reshape(-1)
        tb = Harness(dut, COMPONENT, seed=k)
        await tb.reset()
        cycles = await round_trip(tb, [x])
        rows.append({"map": k, "words": int(x.size), "cycles": cycles,
                     "words_per_cycle": round(x.size / cycles, 4)})
        dut._log.info("map %d: %d words, %.3f words/cycle", k, x.size, x.size / cycles)
        tb.stop()
    with open(os.environ["DNNPRESS_BENCH"], "w") as f:
        json.dump(rows, f, indent=2)
