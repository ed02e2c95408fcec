"""Fixed-point encoded stream of trend-run compressed weights (our design; spec section 3).

One stream per layer, packed MSB first into 32-bit words:

- header: ``N - 1`` (24 bits, N = weights in the layer), ``F`` (5 bits: fractional bits of the
  weights), ``S`` (5 bits: width of the slope field, 1..31);
- then records until N weights are covered, each a 1-bit tag:
  - tag 0, raw: the weight in ``W`` bits (two's complement, value ``q / 2**F``);
  - tag 1, run: length ``L`` (``len_bits`` bits, 1..2**len_bits - 1; 0 is malformed), start
    ``s`` (``W`` bits) and slope ``d`` (``S`` bits, two's complement, ``E`` extra fractional
    bits). Its weights are ``s + ((k * d + 2**(E-1)) >> E)`` for k = 0..L-1, wrapped to ``W``
    bits: one adder in hardware (acc += d) and a rounding shift.
- the stream ends with zero bits up to a word boundary; no further word.

``E = ceil(log2(2**len_bits - 1))``, so that the slope's rounding error accumulated over the
longest run stays within 1/2 LSB: every decoded weight is within 1.5 LSB (``1.5 / 2**F``) of the
float line it encodes (1/2 from the start, 1/2 from the slope, 1/2 from the output rounding).
Runs of the float model longer than ``2**len_bits - 1`` are split; each piece starts on the same
line. ``F`` is the largest that fits the layer's largest magnitude in ``W`` bits; ``S`` the
smallest that holds every slope of the layer.
"""

from dataclasses import dataclass
from math import ceil, log2

import numpy as np

from .bitstream import BitReader, pack_codes
from .noc_compress import fit_lines, runs

__all__ = ["StreamParams", "HEADER_BITS", "Encoded", "encode", "decode", "dequantise"]

COUNT_BITS, F_BITS, S_BITS = 24, 5, 5
HEADER_BITS = COUNT_BITS + F_BITS + S_BITS
WORD_BITS = 32


@dataclass(frozen=True)
class StreamParams:
    """Field widths: weight bits ``W`` (8..16) and run-length bits (3..8)."""

    weight_bits: int = 16
    len_bits: int = 6

    def __post_init__(self):
        if not 8 <= self.weight_bits <= 16:
            raise ValueError(f"weight_bits must be in 8..16, not {self.weight_bits!r}")
        if not 3 <= self.len_bits <= 8:
            raise ValueError(f"len_bits must be in 3..8, not {self.len_bits!r}")

    @property
    def max_run(self):
        return (1 << self.len_bits) - 1

    @property
    def extra_bits(self):
        return ceil(log2(self.max_run))


@dataclass
class Encoded:
    """An encoded layer: the stream, its size in bits (headers included), the fixed-point
    weights it decodes to, and the record counts."""

    stream: bytes
    bits: int
    weights: np.ndarray
    frac_bits: int
    raw_records: int
    run_records: int


def _wrap(v, bits):
    v = np.asarray(v, dtype=np.int64) & ((1 << bits) - 1)
    return np.where(v >= 1 << (bits - 1), v - (1 << bits), v)


def _run_values(start, slope, length, e, w):
    k = np.arange(length, dtype=np.int64)
    return _wrap(start + ((k * slope + (1 << (e - 1))) >> e), w)


def encode(weights, percent=None, delta=None, params=StreamParams(), method="step"):
    """Compress a layer's kernel (any shape, C order) with the trend-run method and encode it.

    ``percent`` / ``delta`` / ``method``: as for :func:`golden.noc_compress.compress`.
    """
    p = params
    flat = np.asarray(weights, dtype=np.float64).reshape(-1)
    if not 1 <= flat.size <= 1 << COUNT_BITS:
        raise ValueError(f"a layer must hold 1..{1 << COUNT_BITS} weights, not {flat.size}")
    e, w = p.extra_bits, p.weight_bits
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    lengths = runs(flat, percent, delta, method)
    slope, icept = fit_lines(flat, lengths)
    # F: the most fractional bits for which every weight and every point of every line, plus
    # the 1.5 LSB the decoder may add, fits in W bits
    ks = [np.arange(n) for n in lengths.tolist()]
    line_top = max([float(np.abs(a * k + b).max()) for a, b, k in zip(slope, icept, ks)
                    if not np.isnan(a)] + [0.0])
    top = max(float(np.abs(flat).max()), line_top)
    frac = (1 << F_BITS) - 1
    while frac > 0 and top * 2.0 ** frac + 2 > hi:
        frac -= 1
    scale = 2.0 ** frac
    records = []                                  # (tag, length, start, slope) or (0, value)
    pos = 0
    for length, a, b in zip(lengths.tolist(), slope.tolist(), icept.tolist()):
        if length < 3:
            records += [(0, int(np.clip(np.round(v * scale), lo, hi)))
                        for v in flat[pos:pos + length]]
        else:
            d = int(np.round(a * scale * (1 << e)))
            for off in range(0, length, p.max_run):
                n = min(p.max_run, length - off)
                s = int(np.clip(np.round((b + a * off) * scale), lo, hi))
                records.append((1, n, s, d))
        pos += length
    slopes = [abs(r[3]) for r in records if r[0]]
    s_bits = max([int(v).bit_length() + 1 for v in slopes] + [1])
    if s_bits > (1 << S_BITS) - 1:
        raise ValueError(f"a slope needs {s_bits} bits; the format allows {(1 << S_BITS) - 1}")
    values, widths, out = [flat.size - 1, frac, s_bits], [COUNT_BITS, F_BITS, S_BITS], []
    for r in records:
        if r[0] == 0:
            values += [0, r[1] & ((1 << w) - 1)]
            widths += [1, w]
            out.append([r[1]])
        else:
            _, n, s, d = r
            values += [1, n, s & ((1 << w) - 1), d & ((1 << s_bits) - 1)]
            widths += [1, p.len_bits, w, s_bits]
            out.append(_run_values(s, d, n, e, w).tolist())
    bits = int(sum(widths))
    stream = pack_codes(np.array(values, dtype=np.int64), np.array(widths), word_bits=WORD_BITS)
    fixed = np.array([v for chunk in out for v in chunk], dtype=np.int64)
    return Encoded(stream, bits, fixed, frac, sum(1 for r in records if r[0] == 0),
                   sum(1 for r in records if r[0] == 1))


def decode(stream, params=StreamParams()):
    """``(weights as W-bit integers, F)`` of an encoded layer; ``ValueError`` naming the fault
    and its bit for a malformed stream (cut off, zero length, a run past N, words left over)."""
    p = params
    stream = bytes(stream)
    if len(stream) % (WORD_BITS // 8):
        raise ValueError(f"a stream is whole {WORD_BITS}-bit words, not {len(stream)} bytes")
    b = BitReader(stream)
    n = b.take(COUNT_BITS, "the header") + 1
    frac = b.take(F_BITS, "the header")
    s_bits = b.take(S_BITS, "the header")
    if s_bits == 0:
        raise ValueError("header: slope width 0")
    e, w = p.extra_bits, p.weight_bits
    out = []
    while len(out) < n:
        at = b.pos
        if b.take(1, "a tag") == 0:
            out.append(int(_wrap(b.take(w, "a raw weight"), w)))
            continue
        length = b.take(p.len_bits, "a run length")
        if length == 0:
            raise ValueError(f"run at bit {at}: length 0")
        if len(out) + length > n:
            raise ValueError(f"run at bit {at}: {length} weights, only {n - len(out)} left of N")
        s = int(_wrap(b.take(w, "a run start"), w))
        d = int(_wrap(b.take(s_bits, "a run slope"), s_bits))
        out += _run_values(s, d, length, e, w).tolist()
    rest = b.bits.size - b.pos
    if rest >= WORD_BITS or b.bits[b.pos:].any():
        raise ValueError(f"{rest} bits after the last record at bit {b.pos} "
                         f"(at most {WORD_BITS - 1} zero padding bits allowed)")
    return np.array(out, dtype=np.int64), frac


def dequantise(fixed, frac):
    """Float values of fixed-point weights."""
    return np.asarray(fixed, dtype=np.float64) / 2.0 ** frac
