"""NoC weight decoder in the Amaranth simulator against ``golden.noc_stream.decode``."""

import re

import numpy as np
import pytest

from golden.noc_stream import StreamParams, decode, encode
from hw.noc.weight_decoder import NoCWeightDecoder
from tb import noc_decoder_tb
from tests.simstreams import run_streams as run


def kernels(rng, count):
    out = []
    for _ in range(count):
        n = int(rng.integers(1, 300))
        w = np.cumsum(rng.normal(0, 0.02, n)) * rng.choice([1, 0.01, 30])
        out.append((w.astype(np.float32), float(rng.choice([0, 5, 18, 40]))))
    return out


def check(p, streams, got):
    mask = (1 << p.weight_bits) - 1
    for t, s in enumerate(streams):
        try:
            want, frac = decode(s, p)
        except ValueError:
            assert got[t][-1]["error"] == 1, t
            continue
        assert [d["data"] for d in got[t]] == [int(v) & mask for v in want], t
        assert not any(d["error"] for d in got[t]) and got[t][-1]["frac"] == frac, t


@pytest.mark.parametrize("params", [StreamParams(**s) for s in noc_decoder_tb.PARAM_SETS],
                         ids=str)
@pytest.mark.parametrize("pause", ["none", "random"])
def test_decodes_like_golden(params, pause):
    rng = np.random.default_rng(7)
    streams = [encode(w, percent=pc, params=params).stream for w, pc in kernels(rng, 8)]
    dut = NoCWeightDecoder(params.weight_bits, params.len_bits)
    got, cycles = run(dut, streams, pause)
    check(params, streams, got)
    if pause == "none":                       # one weight per cycle, plus per-stream overhead
        assert cycles <= sum(len(t) for t in got) + 8 * len(streams) + 10


def test_malformed_streams_flag_error_and_recover():
    p = StreamParams()
    rng = np.random.default_rng(3)
    good = [encode(w, percent=pc).stream for w, pc in kernels(rng, 6)]
    bits = np.unpackbits(np.frombuffer(good[0], np.uint8))
    bits[35:41] = 0                                                # a zero run length (if run)
    streams = [good[0][:4], good[1], good[2] + b"\0\0\0\x01", good[3],
               np.packbits(bits).tobytes(), good[4], bytes(4), good[5]]
    dut = NoCWeightDecoder()
    got, _ = run(dut, streams, "random")
    check(p, streams, got)
    assert [t[-1]["error"] for t in got][::2] == [1, 1, int(_raises(streams[4])), 1]


def _raises(s):
    try:
        decode(s)
    except ValueError:
        return True
    return False


def test_parameters_are_validated():
    with pytest.raises(ValueError, match=re.escape("len_bits must be in 3..8, not 9")):
        NoCWeightDecoder(16, 9)
