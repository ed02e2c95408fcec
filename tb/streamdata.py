"""Simulator-independent stream helpers: pause patterns, and the one place that packs data onto
stream ports (struct payloads, byte streams in port words, words of a transfer).

Shared by the cocotb testbenches (``tb/``) and the Amaranth-simulator tests (``tests/``).

Byte streams on ports: a port word carries ``words_per_port`` stream words of ``word_bits``
bits, big-endian, the first in the high bits; ``last`` marks the final port word of a transfer.
With two stream words per port word, ``half`` marks a final port word whose low half is not part
of the stream (its bits are don't-care). An empty stream occupies no port word at all.
"""

import itertools
import random

import numpy as np

__all__ = ["PAUSE_KINDS", "pauses", "Payload", "transfers", "port_words", "stream_bytes",
           "stream_words", "transfer_words", "mutate"]

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


def port_words(stream, word_bits=8, words_per_port=1):
    """The port payloads of a byte stream (dicts ``data``, ``last`` and, for two words per port,
    ``half``)."""
    step = word_bits // 8 * words_per_port
    stream = bytes(stream)
    out = []
    for i in range(0, len(stream), step):
        chunk = stream[i:i + step]
        item = {"data": int.from_bytes(chunk.ljust(step, b"\0"), "big"),
                "last": int(i + step >= len(stream))}
        if words_per_port > 1:
            item["half"] = int(len(chunk) < step)
        out.append(item)
    return out


def stream_bytes(payloads, word_bits=8, words_per_port=1):
    """The byte stream of one transfer's port payloads (inverse of :func:`port_words`)."""
    step = word_bits // 8 * words_per_port
    return b"".join(d["data"].to_bytes(step, "big")[:step // words_per_port if d.get("half")
                                                    else None] for d in payloads)


def stream_words(stream):
    """A byte stream (whole 32-bit words) as 32-bit input payloads ``{"data", "last"}``."""
    return port_words(stream, 32)


def transfer_words(words, word_bits=8):
    """Input payloads of one transfer: ``data`` as unsigned ``word_bits`` bits, ``last`` on the
    final word."""
    mask = (1 << word_bits) - 1
    return [{"data": int(w) & mask, "last": int(i == len(words) - 1)}
            for i, w in enumerate(words)]


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
