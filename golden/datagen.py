"""Seeded test data for the EBPC cores: the kinds of transfer every test and benchmark uses.

Each generator takes ``(rng, n, word_bits=8)`` and returns ``n`` signed words (int8 or int16).
"""

import numpy as np

__all__ = ["KINDS", "make"]


def _dtype(word_bits):
    return np.int8 if word_bits == 8 else np.int16


def _limits(word_bits):
    return -(1 << (word_bits - 1)), (1 << (word_bits - 1)) - 1


def dense(rng, n, word_bits=8):
    """Uniform random non-zero words: incompressible, 10 BPC bits per word."""
    lo, hi = _limits(word_bits)
    x = rng.integers(lo, hi, n, endpoint=True)
    x[x == 0] = 1
    return x.astype(_dtype(word_bits))


def sparse(rng, n, word_bits=8, zeros=0.5):
    """Dense words with a fraction ``zeros`` of them set to zero at random."""
    x = dense(rng, n, word_bits)
    x[rng.random(n) < zeros] = 0
    return x


def relu_like(rng, n, word_bits=8):
    """Post-ReLU feature maps: smooth 32 x 32 channels (box-filtered noise), about half zero,
    quantised to the positive range like the EBPC paper's maps."""
    side = 32
    channels = -(-n // (side * side))
    f = rng.normal(0.0, 1.0, (channels, side + 4, side + 4))
    f = sum(f[:, i:i + side, :] for i in range(5)) / 5
    f = sum(f[:, :, i:i + side] for i in range(5)) / 5
    f = np.maximum(f, 0.0)
    hi = _limits(word_bits)[1]
    q = np.floor(f / max(f.max(), 1e-9) * hi).astype(_dtype(word_bits))
    return q.ravel()[:n]


def smooth(rng, n, word_bits=8):
    """A slow random walk: small deltas, the case bit-plane coding is made for."""
    lo, hi = _limits(word_bits)
    x = np.cumsum(rng.integers(-2, 3, n)) + rng.integers(lo // 2, hi // 2)
    return np.clip(x, lo, hi).astype(_dtype(word_bits))


def adversarial(rng, n, word_bits=8):
    """Blocks [1, 103, 103, ...]: planes alternate zero / non-zero (the authors' worst case)."""
    block = np.array([1] + [103] * 7)
    return np.resize(block, n).astype(_dtype(word_bits))


def all_zeros(rng, n, word_bits=8):
    return np.zeros(n, dtype=_dtype(word_bits))


KINDS = {
    "dense": dense,
    "sparse20": lambda rng, n, w=8: sparse(rng, n, w, 0.2),
    "sparse50": lambda rng, n, w=8: sparse(rng, n, w, 0.5),
    "sparse80": lambda rng, n, w=8: sparse(rng, n, w, 0.8),
    "sparse95": lambda rng, n, w=8: sparse(rng, n, w, 0.95),
    "relu": relu_like,
    "smooth": smooth,
    "adversarial": adversarial,
    "zeros": all_zeros,
}


def make(kind, rng, n, word_bits=8):
    """``n`` words of ``kind`` (one of :data:`KINDS`)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return KINDS[kind](rng, n, word_bits)
