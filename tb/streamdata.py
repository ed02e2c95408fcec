"""Simulator-independent stream helpers: pause patterns and struct payload packing.

Shared by the cocotb testbenches (``tb/``) and the Amaranth-simulator tests (``tests/``).
"""

import itertools
import random

import numpy as np

__all__ = ["PAUSE_KINDS", "pauses", "Payload", "transfers", "stream_words", "mutate"]

#: the backpressure / gap patterns every stream test is crossed over
PAUSE_KINDS = ("none", "periodic", "random")


def pauses(kind, seed=0):
    """An endless 0/1 iterator; 1 = idle this cycle. ``kind``: none, periodic or random
    (30 % idle, seeded)."""
    if kind == "none":
        return itertools.repeat(0)
    if kind == "periodic":
        return itertools.cycle([0, 0, 0, 1])
    if kind == "random":
        rng = random.Random(seed)
        return (int(rng.random() < 0.3) for _ in itertools.count())
    raise ValueError(f"pause kind must be one of {', '.join(PAUSE_KINDS)}, not {kind!r}")


class Payload:
    """Pack and unpack the integer bit pattern of an Amaranth ``StructLayout`` (first field at
    the LSB), with the offsets read once from the layout itself. A plain shape (``unsigned(24)``)
    packs and unpacks plain integers."""

    def __init__(self, layout):
        self.plain = not hasattr(layout, "members")
        self.fields = [] if self.plain else [(name, f.offset, f.width) for name, f in layout]
        self.width = layout.width if self.plain else layout.size

    def pack(self, values):
        """The integer of a dict of field values (missing fields are 0)."""
        if self.plain:
            return int(values) & ((1 << self.width) - 1)
        out = 0
        for name, offset, width in self.fields:
            out |= (int(values.get(name, 0)) & ((1 << width) - 1)) << offset
        return out

    def unpack(self, value):
        """The dict of field values of an integer."""
        if self.plain:
            return value
        return {name: (value >> offset) & ((1 << width) - 1)
                for name, offset, width in self.fields}


def transfers(values, last_of):
    """Split a list of payloads into transfers, each ending where ``last_of(payload)``."""
    out, cur = [], []
    for v in values:
        cur.append(v)
        if last_of(v):
            out.append(cur)
            cur = []
    assert not cur, "payloads after the last transfer's last"
    return out


def stream_words(stream):
    """A byte stream as 32-bit input payloads ``{"data", "last"}``, MSB first."""
    ws = [int.from_bytes(stream[i:i + 4], "big") for i in range(0, len(stream), 4)]
    return [{"data": v, "last": int(i == len(ws) - 1)} for i, v in enumerate(ws)]


def mutate(rng, good):
    """A malformed variant of the 32-bit-word stream ``good``: cut after a word, one bit
    flipped, a word of garbage appended, or garbage alone (1-4 words)."""
    kind = int(rng.integers(4))
    s = bytearray(good)
    if kind == 0 and len(s) > 4:
        return bytes(s[:4 * int(rng.integers(1, len(s) // 4))])
    if kind == 1:
        i = int(rng.integers(len(s) * 8))
        s[i // 8] ^= 0x80 >> (i % 8)
        return bytes(s)
    if kind == 2:
        return bytes(s) + bytes(rng.integers(0, 256, 4, dtype=np.uint8))
    return bytes(rng.integers(0, 256, 4 * int(rng.integers(1, 5)), dtype=np.uint8))
