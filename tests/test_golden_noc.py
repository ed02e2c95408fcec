"""Trend-run weight compression (NoC paper): the float model reproduces the authors' 20
compressed LeNet-5 files; the fixed-point stream round-trips exactly and stays within its bound."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dnnpress.paths import shared
from golden.noc_compress import compress, segment
from golden.noc_stream import StreamParams, decode, dequantise, encode

KERNELS = ["conv2d_1", "conv2d_2", "dense_1", "dense_2", "dense_3"]
ALIAS = dict(zip(["conv1", "conv2", "dense1", "dense2", "dense3"], KERNELS))


def _kernels(path):
    h5py = pytest.importorskip("h5py", reason="h5py not installed: `make eval` installs it")
    with h5py.File(path, "r") as f:
        return {k: np.asarray(f[f"{k}/{k}/kernel:0"]) for k in KERNELS}


def _settings(name):
    """(layers, keyword arguments of compress) of a compressed file's name."""
    if m := re.fullmatch(r"(\d+)", name):
        return KERNELS, {"percent": float(m[1])}
    if m := re.fullmatch(r"dense1-(\d+)", name):
        return ["dense_1"], {"percent": float(m[1])}
    if m := re.fullmatch(r"delta([\d.e-]+)", name):
        return ["dense_1"], {"delta": float(m[1])}
    m = re.fullmatch(r"delta0-(.*)", name)
    return [ALIAS[x] for x in m[1].split("-")], {"percent": 0.0}


def test_reproduces_the_authors_20_files():
    try:
        folder = shared("data/lenet5/compressed")
        original = _kernels(shared("data/lenet5/LeNet-5.h5"))
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    files = sorted(folder.glob("LeNet-5x-*.h5"))
    assert len(files) == 20
    for f in files:
        layers, kwargs = _settings(f.stem[len("LeNet-5x-"):])
        theirs = _kernels(f)
        for k in KERNELS:
            ours = compress(original[k], **kwargs)[0] if k in layers else original[k]
            assert np.abs(ours - theirs[k]).max() <= 1e-6, (f.name, k)


def test_monotone_ramp_is_one_exact_run():
    ramp = np.linspace(-0.5, 0.25, 40, dtype=np.float32)
    out, lengths = compress(ramp, percent=0)
    assert lengths.tolist() == [40] and np.abs(out - ramp).max() < 1e-7
    e = encode(ramp, percent=0)
    assert (e.raw_records, e.run_records) == (0, 1)


def test_alternating_values_stay_raw():
    w = np.tile([0.1, -0.1], 20).astype(np.float32)
    out, lengths = compress(w, percent=5)
    assert set(lengths.tolist()) == {2} and np.array_equal(out, w)
    e = encode(w, percent=5)
    assert e.run_records == 0 and e.raw_records == 40


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3000), st.integers(0, 2**32 - 1), st.sampled_from([0, 5, 18, 40]),
       st.sampled_from([StreamParams(), StreamParams(8, 3), StreamParams(12, 8)]))
def test_round_trip_exact_and_within_bound(n, seed, percent, params):
    rng = np.random.default_rng(seed)
    w = (np.cumsum(rng.normal(0, 0.02, n)) * rng.choice([1, 0.01])).astype(np.float32)
    e = encode(w, percent=percent, params=params)
    fixed, frac = decode(e.stream, params)
    assert np.array_equal(fixed, e.weights)
    line = compress(w, percent=percent)[0].astype(np.float64).reshape(-1)
    assert np.abs(dequantise(fixed, frac) - line).max() * 2.0 ** frac <= 1.5 + 1e-9
    assert e.bits <= len(e.stream) * 8 < e.bits + 32


def test_malformed_streams_raise():
    w = np.linspace(0, 1, 50, dtype=np.float32)
    good = encode(w, percent=0).stream
    with pytest.raises(ValueError, match="stream ends inside"):
        decode(good[:4])
    with pytest.raises(ValueError, match="bits after the last record"):
        decode(good + b"\0\0\0\0")
    with pytest.raises(ValueError, match="whole 32-bit words"):
        decode(good[:-1])
    bits = np.unpackbits(np.frombuffer(good, np.uint8))
    bits[35:35 + 6] = 0            # header 34 bits, run tag at 34, then its 6-bit length
    with pytest.raises(ValueError, match="length 0"):
        decode(np.packbits(bits).tobytes())
    bits = np.unpackbits(np.frombuffer(good, np.uint8))
    bits[:24] = 0                                 # N = 1: the 50-weight run runs past N
    with pytest.raises(ValueError, match="only 1 left of N"):
        decode(np.packbits(bits).tobytes())


def test_parameters_are_validated():
    with pytest.raises(ValueError, match="weight_bits must be in 8..16, not 20"):
        StreamParams(20)
    with pytest.raises(ValueError, match="give exactly one of percent"):
        compress(np.ones(4), percent=1, delta=0.1)
    assert segment(np.ones(1), 0).tolist() == [1]
