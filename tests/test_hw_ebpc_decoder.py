"""EBPC decoder stages in the Amaranth simulator, each against its golden stage function."""

import re

import numpy as np
import pytest
from amaranth.hdl import Module
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In

from golden import datagen, ebpc
from hw.bitunpack import BitUnpacker
from hw.ebpc.decoder import EBPCDecoder
from hw.ebpc.delta_reverse import DeltaReverse
from hw.ebpc.layouts import decoded_block_layout, output_word_layout
from hw.ebpc.merge import Merge
from hw.ebpc.plane_buffer import PlaneBuffer, SerialPlaneBuffer
from hw.ebpc.symbol_decoder import SerialSymbolDecoder, SymbolDecoder
from hw.ebpc.znz_decoder import ZnzDecoder
from tb.ebpc_cases import STAGE_PARAMS
from tb.streamdata import port_words
from tests.simstreams import pauses, simulate, transfers, unpack

PARAMS = STAGE_PARAMS


class Unpacked(wiring.Component):
    """Test wrapper: stream words -> BitUnpacker -> ``stage.window``; the stage's other ports
    are the wrapper's."""

    def __init__(self, stage, in_bits):
        width = len(stage.window.bits)
        self._unpacker = BitUnpacker(in_bits, width, width)
        self._stage = stage
        members = {"i": In(stream.Signature(data.StructLayout({"data": in_bits, "last": 1})))}
        members.update({k: v for k, v in self._stage.signature.members.items() if k != "window"})
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.unpacker, m.submodules.stage = self._unpacker, self._stage
        wiring.connect(m, wiring.flipped(self.i), self._unpacker.i)
        wiring.connect(m, self._unpacker.o, self._stage.window)
        for name in self.signature.members:
            if name != "i":
                wiring.connect(m, wiring.flipped(getattr(self, name)),
                               getattr(self._stage, name))
        return m


def stream_words(streams, word_bits):
    return [d for s in streams for d in port_words(s, word_bits)]


def transfer_set(p, seed, count=7):
    rng = np.random.default_rng(seed)
    kinds = ["sparse50", "dense", "zeros", "relu", "adversarial", "smooth", "sparse95"]
    return [datagen.make(kinds[i % len(kinds)], rng, int(rng.integers(1, 60)), p.word_bits)
            for i in range(count)]


@pytest.mark.parametrize("p", PARAMS[:2], ids=str)
@pytest.mark.parametrize("pause", ["none", "random"])
def test_znz_decoder(p, pause):
    xs = transfer_set(p, 1)
    streams = [ebpc.encode(x, p.word_bits, p.block_size)[0] for x in xs]
    counts = [x.size - 1 for x in xs]
    # malformed: stream one word short, two words too long, N inside the last zero run
    streams += [streams[0][:-p.word_bytes] or streams[0], streams[1] + b"\0\0" * p.word_bytes,
                ebpc.encode(np.zeros(40, xs[0].dtype), p.word_bits)[0]]
    counts += [xs[0].size - 1, xs[1].size - 1, 30]
    dut = Unpacked(ZnzDecoder(p), p.word_bits)
    (flags,), _ = simulate(dut, [(dut.i, stream_words(streams, p.word_bits), pauses(pause, 1)),
                                 (dut.i_count, counts, pauses(pause, 2))],
                           [(dut.o, len(streams), pauses(pause, 3))])
    got = transfers([unpack(dut.o.payload.shape(), v) for v in flags], lambda d: d["last"])
    for t, (s, n) in enumerate(zip(streams, counts)):
        try:
            want, error = ebpc.znz_flags(s, n + 1, p)[0].tolist(), 0
        except ValueError:
            want, error = None, 1
        assert len(got[t]) == n + 1 and got[t][-1]["error"] == error, t
        if not error:
            assert [bool(d["nonzero"]) for d in got[t]] == want, t
    assert [d["error"] for t in got for d in t[:-1]] == [0] * sum(len(t) - 1 for t in got)


#: (symbol decoder, plane buffer) pairs: the fast top's, the one-block-register pair, and the
#: ``serial=1`` top's (one lane, a plane buffer that fills the next block while one leaves)
STAGE_PAIRS = {"parallel": (SymbolDecoder, PlaneBuffer),
               "serial": (SerialSymbolDecoder, SerialPlaneBuffer),
               "serial_two_blocks": (SerialSymbolDecoder, lambda p: PlaneBuffer(p, lanes=1))}


@pytest.mark.parametrize("p", PARAMS, ids=str)
@pytest.mark.parametrize("pause", ["none", "random"])
@pytest.mark.parametrize("serial", list(STAGE_PAIRS))
def test_symbol_decoder_and_plane_buffer(serial, p, pause):
    xs = [x for x in transfer_set(p, 2) if x.any()]
    streams = [ebpc.encode(x, p.word_bits, p.block_size)[1] for x in xs]
    decoder_cls, planes_cls = STAGE_PAIRS[serial]

    class Stages(wiring.Component):
        def __init__(self):
            self.unpacked = Unpacked(decoder_cls(p), p.word_bits)
            self.planes = planes_cls(p)
            super().__init__({"i": self.unpacked.signature.members["i"],
                              "o": self.planes.signature.members["o"]})

        def elaborate(self, platform):
            m = Module()
            m.submodules.a, m.submodules.b = self.unpacked, self.planes
            wiring.connect(m, wiring.flipped(self.i), self.unpacked.i)
            wiring.connect(m, self.unpacked.o, self.planes.i)
            wiring.connect(m, self.planes.o, wiring.flipped(self.o))
            return m

    dut = Stages()
    (blocks,), _ = simulate(dut, [(dut.i, stream_words(streams, p.word_bits), pauses(pause, 1))],
                            [(dut.o, len(streams), pauses(pause, 2), "end")])
    lay = decoded_block_layout(p)
    got = transfers([unpack(lay, v) for v in blocks], lambda d: d["end"])
    dwidth = p.word_bits + 1
    for t, x in enumerate(xs):
        base, deltas = ebpc.block_deltas(ebpc.nonzero_blocks(x, p), p)
        want = [(int(b), sum(int(v) << (dwidth * i) for i, v in enumerate(d)))
                for b, d in zip(base, deltas)]
        assert [(d["base"], d["deltas"]) for d in got[t][:-1]] == want, t
        assert got[t][-1]["error"] == 0


@pytest.mark.parametrize("p", PARAMS[:2], ids=str)
def test_delta_reverse(p):
    rng = np.random.default_rng(4)
    blocks = ebpc.nonzero_blocks(datagen.make("dense", rng, 5 * p.block_size, p.word_bits), p)
    base, deltas = ebpc.block_deltas(blocks, p)
    payloads = [{"base": int(b), "deltas": [int(v) for v in d], "end": 0, "error": 0}
                for b, d in zip(base, deltas)]
    payloads.append({"base": 0, "deltas": [0] * (p.block_size - 1), "end": 1, "error": 1})
    dut = DeltaReverse(p)
    (words,), cycles = simulate(dut, [(dut.i, payloads, pauses("none"))],
                                [(dut.o, 1, pauses("none"), "end")])
    got = [unpack(dut.o.payload.shape(), v) for v in words]
    mask = (1 << p.word_bits) - 1
    assert [d["data"] for d in got[:-1]] == [int(v) & mask for v in blocks.ravel()]
    assert got[-1]["end"] == 1 and got[-1]["error"] == 1
    assert [d["first"] for d in got[:-1]] == [int(i % p.block_size == 0)
                                              for i in range(blocks.size)]
    assert cycles <= blocks.size + 4                          # one word per cycle


@pytest.mark.parametrize("pause", ["none", "random"])
def test_merge(pause):
    p = ebpc.EBPCParams()
    rng = np.random.default_rng(5)
    xs = [datagen.make(k, rng, n) for k, n in [("sparse50", 30), ("zeros", 9), ("relu", 40),
                                                ("dense", 8), ("sparse80", 17)]]
    flags, words = [], []
    for x in xs:
        flags += [{"nonzero": int(v != 0), "last": int(i == x.size - 1), "error": 0}
                  for i, v in enumerate(x)]
        if x.any():
            padded = ebpc.nonzero_blocks(x, p).ravel()
            words += [{"data": int(v) & 0xFF, "end": 0, "error": 0,
                       "first": int(i % p.block_size == 0)} for i, v in enumerate(padded)]
            words.append({"data": 0, "end": 1, "error": 0})
    dut = Merge(p)
    (out,), _ = simulate(dut, [(dut.i_flags, flags, pauses(pause, 1)),
                               (dut.i_words, words, pauses(pause, 2))],
                         [(dut.o, len(xs), pauses(pause, 3))])
    got = transfers([unpack(output_word_layout(p), v) for v in out], lambda d: d["last"])
    assert [[d["data"] for d in t] for t in got] == [[int(v) & 0xFF for v in x] for x in xs]
    assert not any(d["error"] for t in got for d in t)


@pytest.mark.parametrize("kwargs,message", [
    ({"word_bits": 12}, "word_bits must be 8 or 16, not 12"),
    ({"block_size": 7}, "block_size must be 8 or 16, not 7"),
    ({"serial": 3}, "serial must be 0 or 1, not 3"),
])
def test_decoder_validates_parameters(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        EBPCDecoder(**kwargs)


def test_unpacker_validates():
    with pytest.raises(ValueError, match=r"in_bits must be 8, 16 or 32, not 9"):
        BitUnpacker(9, 8, 8)
    with pytest.raises(ValueError, match=r"max_take must be an integer in 1\.\.window, not 9"):
        BitUnpacker(8, 8, 9)


def test_decoder_default_ports():
    dut = EBPCDecoder()
    assert dut.i_count.payload.shape().width == 24
    assert dut.i_znz.payload.shape().size == 9 and dut.i_bpc.payload.shape().size == 9
    assert dut.o_words.payload.shape().size == 10
