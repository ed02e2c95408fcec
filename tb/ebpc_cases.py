"""Input data of the EBPC testbenches: edge cases, the authors' vectors, seeded random sets,
and malformed compressed transfers for the decoder fuzz (numpy); and what the encoder and decoder
testbenches declare alike (:mod:`tb.suite`): the bench goals, the authors' vectors."""

import json
import os

import numpy as np

from golden import datagen, ebpc
from golden.ebpc import ZNZ_RUN_BITS
from hw.ebpc import authors
from hw.ebpc.layouts import EBPC_PARAMS
from tb.suite import Bench, Run

__all__ = ["edge_cases", "reference_vectors", "random_set", "mutate", "malformed_edges",
           "znz_needs_bpc", "bench", "WITH_VECTORS", "STAGE_PARAMS"]

#: the stage tests (Amaranth simulator) of both EBPC cores run on every (word_bits, block_size)
#: pair the tops offer, the square ones first
STAGE_PARAMS = sorted((ebpc.EBPCParams(w, b) for w in EBPC_PARAMS[0].choices
                       for b in EBPC_PARAMS[1].choices),
                      key=lambda p: (p.word_bits != p.block_size, p.word_bits))

#: words/cycle goals of the EBPC encoder and decoder per data kind, at 8-bit ports
GOALS = {"dense": 0.79, "adversarial": 0.97, "sparse50": 0.97, "relu": 0.97}
#: words/cycle of the authors' RTL per data kind, measured by the same driver on the same data
AUTHORS_RTL = authors.WORDS_PER_CYCLE
SOURCE = ("goals: the project's targets at 8-bit ports on 2048-word transfers; authors' RTL: "
          "pulp-platform/stream-ebpc (b1dc45b, package defaults) in the same cocotb driver in "
          "Icarus on the same data")
#: the edge cases join the authors' reference vectors where ``../shared`` has them
WITH_VECTORS = Run(shared={"DNNPRESS_VECTORS": "vectors/ebpc_edge_cases.json"}, optional=True)


def bench(core, param_sets):
    """The :class:`tb.suite.Bench` of the EBPC ``core`` on ``param_sets``."""
    return Bench(param_sets, GOALS, SOURCE, AUTHORS_RTL[core])


def edge_cases(p):
    """Named edge cases for parameters ``p``: extremes, zero runs around the 16-word run limit,
    transfers around the block size, delta overflow, the adversarial block, constants."""
    lo, hi = -(1 << (p.word_bits - 1)), (1 << (p.word_bits - 1)) - 1
    bs = p.block_size
    cases = {
        "one_zero": [0], "one": [1], "minus_one": [-1], "max": [hi], "min": [lo],
        "min_max_alternating": [lo, hi] * bs, "max_min_block": [hi] + [lo] * (bs - 1),
        "block_minus_one": list(range(1, bs)), "block": list(range(1, bs + 1)),
        "block_plus_one": list(range(-1, -bs - 2, -1)),
        "adversarial": [1] + [103] * (bs - 1), "constant": [lo + 1] * (3 * bs),
        "alternating_zero": [0, 5] * (2 * bs), "ends_in_zeros": [7] * 3 + [0] * 21,
        "starts_with_zeros": [0] * 17 + [-3] * 2,
    }
    for n in (15, 16, 17, 32, 33, 100):
        cases[f"zeros{n}"] = [0] * n
        cases[f"zeros{n}_one"] = [0] * n + [hi]
    return {name: np.array(v, dtype=p.dtype) for name, v in cases.items()}


def reference_vectors():
    """The EBPC authors' vectors (``DNNPRESS_VECTORS`` names the JSON file), or ``[]``."""
    path = os.environ.get("DNNPRESS_VECTORS")
    return json.loads(open(path).read()) if path else []


def random_set(p, rng, count, longest, kinds=None):
    """``count`` transfers of random kinds and lengths 1..``longest``."""
    kinds = kinds or sorted(datagen.KINDS)
    return [datagen.make(kinds[int(rng.integers(len(kinds)))], rng,
                         int(rng.integers(1, longest + 1)), p.word_bits) for _ in range(count)]


MUTATIONS = ("flip_znz", "flip_bpc", "truncate_znz", "truncate_bpc", "garbage_znz",
             "garbage_bpc", "trailing_znz", "trailing_bpc", "wrong_count")


def _flip(stream, rng):
    b = bytearray(stream)
    for _ in range(int(rng.integers(1, 4))):
        i = int(rng.integers(len(b) * 8))
        b[i // 8] ^= 0x80 >> (i % 8)
    return bytes(b)


def _cut(stream, rng, wb):
    words = len(stream) // wb
    return stream[:wb * int(rng.integers(1, words))] if words > 1 else stream


def mutate(znz, bpc, n, p, rng):
    """A malformed (or merely altered) version ``(kind, znz, bpc, n)`` of one transfer. Streams
    stay whole port words and non-empty (an empty stream cannot be sent: it has no ``last``)."""
    kind = MUTATIONS[int(rng.integers(len(MUTATIONS)))]
    wb = p.word_bytes
    garbage = bytes(rng.integers(0, 256, wb * int(rng.integers(1, 6)), dtype=np.uint8))
    if kind == "flip_znz":
        znz = _flip(znz, rng)
    elif kind == "flip_bpc" and bpc:
        bpc = _flip(bpc, rng)
    elif kind == "truncate_znz":
        znz = _cut(znz, rng, wb)
    elif kind == "truncate_bpc" and bpc:
        bpc = _cut(bpc, rng, wb)
    elif kind == "garbage_znz":
        znz = garbage
    elif kind == "garbage_bpc" and bpc:
        bpc = garbage
    elif kind == "trailing_znz":
        znz = znz + garbage
    elif kind == "trailing_bpc" and bpc:
        bpc = bpc + garbage
    elif kind == "wrong_count":
        n = max(1, min(1 << 24, n + int(rng.choice([-3, -1, 1, 2, 17]))))
    return kind, znz, bpc, n


def malformed_edges(p):
    """Malformed transfers ``(kind, znz, bpc, n)`` just past each limit the decoder checks: one
    whole BPC block more than the flags need, a final zero run one or two words longer than N,
    a BPC stream one word short."""
    bs, cases = p.block_size, []
    for nz in (bs, 2 * bs, bs - 1):
        x = np.arange(1, nz + 1, dtype=p.dtype)
        longer = np.concatenate([x, np.full(bs, 3, p.dtype)])
        znz, bpc = ebpc.encode(x, p.word_bits, p.block_size)
        cases.append(("extra_block", znz, ebpc.encode(longer, p.word_bits, p.block_size)[1],
                      x.size))
        cases.append(("short_bpc", znz, bpc[:-p.word_bytes], x.size))
    for cut in (1, 2):
        x = np.array([5, -2] + [0] * 6, dtype=p.dtype)
        znz, bpc = ebpc.encode(x, p.word_bits, p.block_size)
        cases.append((f"run_past_n_by_{cut}", znz, bpc, x.size - cut))
    return [c for c in cases if c[2]]


def znz_needs_bpc(znz, n, p):
    """Whether the decoder takes a BPC stream for this transfer: some flag among the first ``n``
    that the ZNZ codes give is non-zero (read leniently, as the hardware does on a malformed
    stream: it stops at the end of the stream or after ``n`` flags)."""
    bits = np.unpackbits(np.frombuffer(bytes(znz), np.uint8))
    i = flags = 0
    while flags < n and i < bits.size:
        if bits[i]:
            return True
        if i + 1 + ZNZ_RUN_BITS > bits.size:
            return False
        run = int("".join(map(str, bits[i + 1:i + 1 + ZNZ_RUN_BITS])), 2) + 1
        flags += run
        i += 1 + ZNZ_RUN_BITS
    return False
