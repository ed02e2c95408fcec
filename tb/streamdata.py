"""Simulator-independent stream helpers: pause patterns and struct payload packing.

Shared by the cocotb testbenches (``tb/``) and the Amaranth-simulator tests (``tests/``).
"""

import itertools
import random

__all__ = ["PAUSE_KINDS", "pauses", "Payload", "transfers"]

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
