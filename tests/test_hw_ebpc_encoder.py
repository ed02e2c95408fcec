"""EBPC encoder stages in the Amaranth simulator, each against its golden stage function."""

import re

import numpy as np
import pytest

from golden import datagen, ebpc
from golden.bitstream import pack_codes
from hw.bitpack import BitPacker
from hw.ebpc.delta import Delta, SerialDelta
from hw.ebpc.encoder import EBPCEncoder
from hw.ebpc.layouts import block_layout, symbol_lanes, word_layout
from hw.ebpc.symbol_coder import SerialSymbolCoder, SymbolCoder
from hw.ebpc.zero_run import ZeroRunCoder
from tb.ebpc_cases import STAGE_PARAMS
from tb.streamdata import stream_bytes, transfer_words
from tests.simstreams import pauses, simulate, transfers, unpack

PARAMS = STAGE_PARAMS
KINDS = ["sparse50", "dense", "zeros", "relu", "adversarial", "smooth", "sparse95"]


def transfer_set(p, seed, count=6, longest=70):
    rng = np.random.default_rng(seed)
    xs = [datagen.make(KINDS[i % len(KINDS)], rng, int(rng.integers(1, longest)), p.word_bits)
          for i in range(count)]
    return xs + [np.array([0], xs[0].dtype), np.array([5], xs[0].dtype)]


def word_payloads(xs, p):
    return [d for x in xs for d in transfer_words(x, p.word_bits)]


def code_bits(items):
    """The bit string of a list of code payloads {bits, len}."""
    return "".join(format(it["bits"] & ((1 << it["len"]) - 1), f"0{it['len']}b")
                   for it in items if it["len"])


def golden_bits(values, lengths):
    return "".join(format(int(v), f"0{int(n)}b") for v, n in zip(np.ravel(values),
                                                                 np.ravel(lengths)) if n)


@pytest.mark.parametrize("p", PARAMS[:2], ids=str)
@pytest.mark.parametrize("pause", ["none", "random"])
def test_zero_run_coder(p, pause):
    xs = transfer_set(p, 1)
    dut = ZeroRunCoder(p)
    nz_transfers = sum(1 for x in xs if x.any())
    (znz, nz), _ = simulate(dut, [(dut.i, word_payloads(xs, p), pauses(pause, 1))],
                            [(dut.o_znz, len(xs), pauses(pause, 2)),
                             (dut.o_nz, nz_transfers, pauses(pause, 3))])
    lay_z, lay_w = dut.o_znz.payload.shape(), word_layout(p)
    got_z = transfers([unpack(lay_z, v) for v in znz], lambda d: d["last"])
    got_w = transfers([unpack(lay_w, v) for v in nz], lambda d: d["last"])
    assert [code_bits(t) for t in got_z] == [golden_bits(*ebpc.zero_run_codes(x)) for x in xs]
    mask = (1 << p.word_bits) - 1
    assert [[d["data"] for d in t] for t in got_w] == \
        [[int(v) & mask for v in x[x != 0]] for x in xs if x.any()]


@pytest.mark.parametrize("p", PARAMS, ids=str)
@pytest.mark.parametrize("pause", ["none", "random"])
@pytest.mark.parametrize("stage", [Delta, SerialDelta], ids=lambda c: c.__name__)
def test_delta_transform(stage, p, pause):
    xs = [x[x != 0] for x in transfer_set(p, 2)]
    xs = [x for x in xs if x.size]
    dut = stage(p)
    (blocks,), _ = simulate(dut, [(dut.i, word_payloads(xs, p), pauses(pause, 1))],
                            [(dut.o, len(xs), pauses(pause, 2))])
    lay = block_layout(p)
    got = [unpack(lay, v) for v in blocks]
    dwidth = p.word_bits + 1
    want = []
    for x in xs:
        base, deltas = ebpc.block_deltas(ebpc.nonzero_blocks(x, p), p)
        for k, (b, d) in enumerate(zip(base, deltas)):
            packed = sum(int(v) << (dwidth * i) for i, v in enumerate(d))
            want.append((int(b), packed, int(k == len(base) - 1)))
    assert [(g["base"], g["deltas"], g["last"]) for g in got] == want


@pytest.mark.parametrize("p", PARAMS, ids=str)
@pytest.mark.parametrize("pause", ["none", "random"])
@pytest.mark.parametrize("serial", [False, True], ids=["parallel", "serial"])
def test_symbol_coder(serial, p, pause):
    rng = np.random.default_rng(3)
    blocks = np.concatenate([ebpc.nonzero_blocks(datagen.make(k, rng, 64, p.word_bits), p)
                             for k in ("dense", "smooth", "adversarial", "relu", "sparse80")])
    blocks = np.concatenate([blocks, np.zeros((1, p.block_size), np.int64),
                             np.full((1, p.block_size), 3)])
    base, deltas = ebpc.block_deltas(blocks, p)
    payloads = [{"base": int(b), "last": int(k % 3 == 2),
                 "deltas": [int(v) for v in d]}
                for k, (b, d) in enumerate(zip(base, deltas))]
    payloads[-1]["last"] = 1
    dut = SerialSymbolCoder(p) if serial else SymbolCoder(p)
    (items,), cycles = simulate(dut, [(dut.i, payloads, pauses(pause, 1))],
                                [(dut.o, sum(q["last"] for q in payloads), pauses(pause, 2))])
    got = transfers([unpack(dut.o.payload.shape(), v) for v in items], lambda d: d["last"])
    values, lengths = ebpc.block_codes(blocks, p)
    want, cur = [], ""
    for k, q in enumerate(payloads):
        cur += golden_bits(values[k], lengths[k])
        if q["last"]:
            want.append(cur)
            cur = ""
    assert [code_bits(t) for t in got] == want
    assert all(t[-1]["len"] > 0 for t in got)          # a transfer's final item carries bits
    if pause == "none":
        # serial: base + one symbol per cycle + one cycle per run that a symbol ends
        per_block = p.planes + 1 + (p.planes + 1) // 2 if serial else \
            -(-(p.planes + 1) // symbol_lanes(p))
        assert cycles <= len(blocks) * per_block + 4


@pytest.mark.parametrize("out_bits,unit_bits", [(8, 8), (16, 8), (16, 16)])
@pytest.mark.parametrize("pause", ["none", "periodic", "random"])
def test_bit_packer(out_bits, unit_bits, pause):
    rng = np.random.default_rng(out_bits + unit_bits)
    in_bits = 13
    codes = []
    for _ in range(12):
        n = int(rng.integers(1, 30))
        lengths = rng.integers(0, in_bits + 1, n)
        lengths[-1] = max(1, lengths[-1])
        values = rng.integers(0, 1 << in_bits, n)
        codes.append((values, lengths))
    payloads = [{"bits": int(v), "len": int(n), "last": int(i == len(vs) - 1)}
                for vs, ns in codes for i, (v, n) in enumerate(zip(vs, ns))]
    dut = BitPacker(in_bits, out_bits, unit_bits)
    (words,), _ = simulate(dut, [(dut.i, payloads, pauses(pause, 1))],
                           [(dut.o, len(codes), pauses(pause, 2))])
    lay = dut.o.payload.shape()
    got = []
    for t in transfers([unpack(lay, v) for v in words], lambda d: d["last"]):
        got.append(stream_bytes(t, unit_bits, out_bits // unit_bits))
    want = [pack_codes(vs & ((1 << ns) - 1), ns, unit_bits) for vs, ns in codes]
    assert got == want


def test_bit_packer_validates():
    with pytest.raises(ValueError, match=r"out_bits must be 8, 16 or 32, not 12"):
        BitPacker(8, 12)
    with pytest.raises(ValueError, match=r"in_bits must be an integer in 1\.\.64, not 0"):
        BitPacker(0)


@pytest.mark.parametrize("kwargs,message", [
    ({"word_bits": 10}, "word_bits must be 8 or 16, not 10"),
    ({"block_size": 32}, "block_size must be 8 or 16, not 32"),
    ({"bpc_words": 3}, "bpc_words must be 1 or 2, not 3"),
    ({"serial": 2}, "serial must be 0 or 1, not 2"),
])
def test_encoder_validates_parameters(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        EBPCEncoder(**kwargs)


def test_encoder_default_ports():
    dut = EBPCEncoder()
    assert dut.i_words.payload.shape().size == 9
    assert dut.o_znz.payload.shape().size == 9 and dut.o_bpc.payload.shape().size == 9
    assert EBPCEncoder(bpc_words=2).o_bpc.payload.shape().size == 18
