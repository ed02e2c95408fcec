"""Dictionary decoder engine in the Amaranth simulator against ``golden.dict_codec``."""

import re

import numpy as np
import pytest

from golden import dict_codec as dc
from hw.dict.decoder import DictDecoder
from tests.simstreams import run_streams as run


def tensors(rng, count, g, b_max, r_max, longest=300, versions=(0, 1)):
    """Encoded streams of random tensors: various sparsity, repetition and k, v0 and v1."""
    out = []
    for _ in range(count):
        n = int(rng.integers(1, longest + 1))
        k = int(rng.integers(0, 7))
        w = rng.normal(0, 1, n) * (rng.random(n) > rng.choice([0, 0.5, 0.9]))
        if rng.random() < 0.4:
            w = np.repeat(w[:max(1, n // 12)], 12)[:n]
        t = dc.trim(dc.quantise(w)[0], k)
        out.append(dc.encode(t, k, g, int(rng.integers(1, b_max + 1)),
                             int(rng.integers(0, r_max + 1)), int(rng.choice(versions))).stream)
    return out


def lanes(value, g):
    return [((value >> 8 * j & 0xFF) ^ 0x80) - 0x80 for j in range(g)]


def golden(stream, g, b_max, r_max, v=1):
    """The expected symbols and last count, or None for a stream the engine must flag."""
    try:
        syms, head = dc.decode_symbols(stream)
        dc.check_engine(head, g, b_max, r_max, v)
    except ValueError:
        return None
    return syms, head.n - g * (len(syms) - 1)


def check(streams, got, g, b_max, r_max, v=1):
    flagged = []
    for s, beats in zip(streams, got):
        want = golden(s, g, b_max, r_max, v)
        flagged.append(want is None)
        if want is None:
            assert beats[-1]["error"] == 1 and beats[-1]["count"] == 0
            continue
        syms, last_count = want
        assert [lanes(d["data"], g) for d in beats] == syms.tolist()
        assert [d["count"] for d in beats] == [g] * (len(syms) - 1) + [last_count]
        assert not any(d["error"] for d in beats)
    return flagged


@pytest.mark.parametrize("g,b_max,r_max,v", [(4, 4, 4, 1), (1, 2, 0, 1), (2, 8, 8, 1),
                                             (8, 3, 2, 1), (4, 4, 4, 0)],
                         ids=lambda v: str(v))
@pytest.mark.parametrize("pause", ["none", "random"])
def test_decodes_like_golden(g, b_max, r_max, v, pause):
    rng = np.random.default_rng(g * 100 + b_max * 10 + r_max)
    streams = tensors(rng, 10, g, b_max, r_max)
    got, _ = run(DictDecoder(g, b_max, r_max, v), streams, pause)
    flagged = check(streams, got, g, b_max, r_max, v)
    assert flagged == [v == 0 and dc.decode(s)[1].version == 1 for s in streams]


def test_v1_literals_at_one_symbol_per_cycle():
    """Short lane codes (mostly small weights): a literal of G = 4 lanes every cycle."""
    rng = np.random.default_rng(9)
    t = dc.trim(dc.quantise(rng.laplace(0, 1, 4 * 400))[0], 4)
    streams = [dc.encode(t, 4, 4, 1, 0, version=1).stream]
    got, cycles = run(DictDecoder(), streams)
    check(streams, got, 4, 4, 4)
    head = dc.decode(streams[0])[1]
    assert len(got[0]) == 400 and cycles <= 400 + 4 + len(head.code.values) + 16 + 10


def test_hits_and_runs_at_one_symbol_per_cycle():
    t = np.tile(np.array([8, -8, 0, 16, 8, -8, 0, 16, 1, 2, 3, 4], np.int8), 100)
    streams = [dc.encode(t, 0).stream, dc.encode(np.zeros(4 * 200, np.int8), 0).stream]
    got, cycles = run(DictDecoder(), streams)
    check(streams, got, 4, 4, 4)
    symbols = sum(len(beats) for beats in got)
    assert cycles <= symbols + 2 * 8 + 10           # per stream: header, dictionary, check


def test_malformed_streams_flag_error_and_recover():
    rng = np.random.default_rng(5)
    good = tensors(rng, 8, 4, 4, 4)
    head = dc.Header(8, 0, 4, 4, 4, 0).words()
    cut = good[1][:len(good[1]) - 4] if len(good[1]) > 12 else good[1][:8]
    bad = [good[0][:4], cut, good[2] + bytes(4),
           b"".join(w.to_bytes(4, "big") for w in dc.Header(8, 0, 4, 5, 4, 0).words()),
           b"".join(w.to_bytes(4, "big") for w in dc.Header(8, 0, 2, 4, 4, 0).words()),
           b"".join(w.to_bytes(4, "big") for w in head) + (0x4000_0000).to_bytes(4, "big")]
    streams = [s for pair in zip(bad, good) for s in pair]
    got, _ = run(DictDecoder(4, 4, 4), streams, "random")
    flagged = check(streams, got, 4, 4, 4)
    assert flagged[::2] == [True] * len(bad) and not any(flagged[1::2])


def test_parameters_are_validated():
    with pytest.raises(ValueError, match=re.escape("G must be one of 1, 2, 4, 8, not 3")):
        DictDecoder(3)
    with pytest.raises(ValueError, match=re.escape("B_max must be in 1..8, not 9")):
        DictDecoder(4, 9)
    with pytest.raises(ValueError, match=re.escape("R must be in 0..8, not -1")):
        DictDecoder(4, 4, -1)
    with pytest.raises(ValueError, match=re.escape("V must be 0 or 1, not 2")):
        DictDecoder(4, 4, 4, 2)
