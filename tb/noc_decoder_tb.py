"""cocotb tests of ``noc_weight_decoder`` (emitted Verilog, Icarus) against
``golden.noc_stream.decode`` (the core parameters: :mod:`tb.preamble`); ``DNNPRESS_LENET``
names the LeNet-5 weights (HDF5) for the real-layer test."""

import os

import cocotb
import numpy as np

from golden.noc_compress import reorder
from golden.noc_stream import StreamParams, decode, encode
from tb import axis
from tb.harness import Harness, StreamDecoderTests, throughput_bench
from tb.preamble import Context
from tb.streamdata import PAUSE_KINDS, mutate
from tb.suite import Bench, Run

CORE = "noc-weight-decoder"
#: ``make test``: every test below on each
PARAM_SETS = ({}, {"weight_bits": 8, "len_bits": 3}, {"weight_bits": 12, "len_bits": 8})
RUNS = {"lenet5_layers": Run(({}, {"weight_bits": 8, "len_bits": 4}),
                             shared={"DNNPRESS_LENET": "data/lenet5/LeNet-5.h5"},
                             imports=("h5py",)),
        "axis_top": Run(({}, {"weight_bits": 8, "len_bits": 3}), axis=True)}
BENCH = Bench(({}, {"weight_bits": 8, "len_bits": 4}, {"weight_bits": 8, "len_bits": 3}),
              {"raw": 0.97, "runs": 0.97, "mixed": 0.97},
              "goal: one weight per cycle whatever the code class")

CTX = Context.of(CORE)
COMPONENT, seed_of = CTX.component, CTX.seed_of
P = StreamParams(**CTX.params)
MASK = (1 << P.weight_bits) - 1


def kernels(rng, count, longest=400):
    out = []
    for _ in range(count):
        n = int(rng.integers(1, longest + 1))
        w = np.cumsum(rng.normal(0, 0.02, n)) * rng.choice([1, 0.01, 30])
        out.append(encode(w.astype(np.float32), percent=float(rng.choice([0, 5, 18, 40])),
                          params=P).stream)
    return out


def golden_beats(stream):
    """The beats golden expects: the weights, ``frac`` on the final one."""
    want, frac = decode(stream, P)
    beats = [{"data": int(v) & MASK} for v in want]
    beats[-1]["frac"] = frac
    return beats


DECODER = StreamDecoderTests(CTX, golden_beats)



@cocotb.test()
async def axis_top(dut):
    """The AXI4-Stream top (:func:`tb.axis.check`): random pauses, a reset, exact beats."""
    await axis.check(dut, CTX, lambda rng: DECODER.axis_case(kernels(rng, 6, 150)))


@cocotb.test()
@cocotb.parametrize(i_words=PAUSE_KINDS, o_weights=PAUSE_KINDS)
async def random_backpressure(dut, i_words, o_weights):
    """Seeded random kernels at several tolerances, gaps and backpressure crossed."""
    await DECODER.random_backpressure(dut, i_words, o_weights, lambda rng: kernels(rng, 8))


@cocotb.test()
async def edge_cases(dut):
    """One weight, a ramp (one run), alternating values (all raw), a run longer than the
    length field, zeros, extremes."""
    tb = Harness(dut, COMPONENT)
    await tb.reset()
    cases = [np.array([0.3]), np.linspace(-1, 1, 40), np.tile([0.1, -0.1], 30),
             np.linspace(0, 2, 3 * P.max_run + 2), np.zeros(17), np.array([-1.0, 1.0, -1.0])]
    await DECODER.run(tb, [encode(np.asarray(c, np.float32), percent=0, params=P).stream
                   for c in cases])


@cocotb.test()
async def malformed_fuzz(dut):
    """Cut-off, flipped, zero-length, trailing and garbage streams, each followed by a good
    one: error flagged exactly when golden rejects, the next stream right."""
    seed = seed_of("fuzz")
    tb = Harness(dut, COMPONENT, {"i_words": "random", "o_weights": "random"}, seed)
    await tb.reset()
    rng = np.random.default_rng(seed)
    streams, flagged = [], 0
    for good in kernels(rng, 30, 120):
        streams += [mutate(rng, good), kernels(rng, 1, 50)[0]]
    got = await DECODER.run(tb, streams)
    flagged = sum(t[-1]["error"] for t in got[::2])
    dut._log.info("fuzz seed %d: %d of %d bad streams flagged", seed, flagged, len(got) // 2)
    assert flagged > 0


@cocotb.test()
async def reset_mid_stream(dut):
    """A reset in the middle of a stream; the next streams decode right."""
    await DECODER.reset_mid_stream(dut, lambda rng: kernels(rng, 1, 400)[0],
                                   lambda rng: kernels(rng, 4))


@cocotb.test(skip="DNNPRESS_LENET" not in os.environ)
async def lenet5_layers(dut):
    """The five LeNet-5 kernels: the paper's method at P = 0, 10 and 18 (stored order), our
    fit-bound variant at P = 5 and 12 (filter-major order, as ``dnnpress noc sweep``)."""
    import h5py

    tb = Harness(dut, COMPONENT, {"o_weights": "random"}, seed_of("lenet"))
    await tb.reset()
    with h5py.File(os.environ["DNNPRESS_LENET"], "r") as f:
        ks = [np.asarray(f[f"{k}/{k}/kernel:0"]) for k in
              ("conv2d_1", "conv2d_2", "dense_1", "dense_2", "dense_3")]
    streams = [encode(k, percent=pc, params=P).stream for pc in (0, 10, 18) for k in ks]
    streams += [encode(reorder(k, "filter"), percent=pc, params=P, method="fit").stream
                for pc in (5, 12) for k in ks]
    await DECODER.run(tb, streams)


@cocotb.test(skip="DNNPRESS_BENCH" not in os.environ)
async def throughput(dut):
    """Benchmark: weights/cycle per code class (all raw, all runs, mixed), all ready."""
    classes = {"raw": lambda rng: np.tile([0.1, -0.1], 1500) * rng.uniform(0.5, 1, 3000),
               "runs": lambda rng: np.concatenate([np.linspace(0, 1, P.max_run)] * 40),
               "mixed": lambda rng: np.cumsum(rng.normal(0, 0.02, 3000))}

    async def transfer(tb, kind, rng):
        w = classes[kind](rng).astype(np.float32)
        await DECODER.run(tb, [encode(w, percent=10, params=P).stream])
        return w.size

    await throughput_bench(dut, CTX, transfer, kinds=tuple(classes))
