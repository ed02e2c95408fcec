"""The vectorised HC-P decoder against a code-by-code reader written from the format: the same
symbols for every stream, and for a malformed one the same ``ValueError`` (the hardware
testbench turns "golden raises" into "expect an error beat")."""

import numpy as np
import pytest

from golden import dict_codec as dc
from golden.bitstream import BitReader


def read_code_by_code(stream):
    """HC-P v0 and v1 decoded one field at a time with :class:`BitReader` (slow, plainly right)."""
    if len(stream) % 4:
        raise ValueError(f"a stream is whole 32-bit words, not {len(stream)} bytes")
    bits = BitReader(stream)
    head = dc._read_header(bits)
    if head.version:
        head = dc._read_table(bits, head)

    def restore(v):
        return ((v ^ (1 << head.f - 1)) - (1 << head.f - 1)) << head.k

    def canonical(code, what):
        """The index of the ``code`` (a :class:`dc.LaneCode`) read a bit at a time."""
        at, value = bits.pos, 0
        for first, end, base in code.limits():
            if bits.pos >= bits.bits.size:
                raise ValueError(f"stream ends inside {what} at bit {at} "
                                 f"({bits.bits.size - at} bits left)")
            value = value << 1 | int(bits.bits[bits.pos])
            bits.pos += 1
            if value < end:
                return base + value - first
        if bits.bits.size - at < max(code.longest, 1):
            raise ValueError(f"stream ends inside {what} at bit {at} "
                             f"({bits.bits.size - at} bits left)")
        raise ValueError(f"{what[2:]} at bit {at}: no code of the table starts so")

    def lane(what):
        """One lane: raw F bits (v0), or a canonical code (v1)."""
        if not head.version:
            return bits.take(head.f, what)
        return head.code.values[canonical(head.code, "a literal lane")]

    def symbol(what):
        if what == "a literal":
            return [restore(lane(what)) for _ in range(head.g)]
        return [restore(bits.take(head.f, what)) for _ in range(head.g)]

    entries = [symbol(f"dictionary entry {i}") for i in range(head.n_dict)]
    out = []
    def run(at):
        """The run whose code starts at bit ``at``: its R bits, the symbols it repeats."""
        count = bits.take(head.r, "a run length") + 1
        if not out:
            raise ValueError(f"run at bit {at}: no symbol before it")
        if len(out) + count > head.symbols:
            raise ValueError(f"run at bit {at}: {count} symbols, only "
                             f"{head.symbols - len(out)} left")
        out.extend([out[-1]] * count)

    while head.version and len(out) < head.symbols:
        at = bits.pos
        i = canonical(head.tokens.code(), "a token")
        if i == head.tokens.lit:
            out.append(symbol("a literal"))
        elif i == head.tokens.run:
            run(at)
        else:
            out.append(entries[head.tokens.entry(i)])
    while len(out) < head.symbols:
        at = bits.pos
        if bits.take(1, "a code"):
            idx = bits.take(head.b, "a hit index")
            if idx >= head.n_dict:
                raise ValueError(f"hit at bit {at}: index {idx}, dictionary has {head.n_dict}")
            out.append(entries[idx])
        elif head.r and bits.take(1, "a code"):
            run(at)
        else:
            out.append(symbol("a literal"))
    if not bits.rest_is_padding(dc.WORD_BITS):
        raise ValueError(f"{bits.bits.size - bits.pos} bits after the last code at bit "
                         f"{bits.pos} (at most {dc.WORD_BITS - 1} zero padding bits allowed)")
    return np.array(out, dtype=np.int8).reshape(-1, head.g), head


def outcome(decode, stream):
    try:
        syms, head = decode(stream)
        return syms.dtype.str, syms.tolist(), head
    except ValueError as error:
        return str(error)


def mutate(rng, stream):
    s = bytearray(stream)
    how = int(rng.integers(0, 6))
    if how == 0:                                            # a bit anywhere, header included
        bit = int(rng.integers(0, 8 * len(s)))
        s[bit // 8] ^= 0x80 >> (bit % 8)
    elif how == 1 and len(s) > 8:                           # two bits after the header
        for bit in rng.integers(64, 8 * len(s), 2):
            s[bit // 8] ^= 0x80 >> (bit % 8)
    elif how == 2:                                          # cut to whole words
        s = s[:4 * int(rng.integers(0, len(s) // 4 + 1))]
    elif how == 3:                                          # words added
        s += bytes(rng.integers(0, 256, 4 * int(rng.integers(1, 3))).tolist())
    elif how == 4:
        s += bytes(4)
    else:                                                   # a byte, and maybe a ragged end
        s[int(rng.integers(0, len(s)))] = int(rng.integers(0, 256))
        s = s[:len(s) - int(rng.integers(0, 3))]
    return bytes(s)


@pytest.mark.parametrize("seed", range(6))
def test_vectorised_decoder_matches_the_code_by_code_reader(seed):
    rng = np.random.default_rng(seed)
    for _ in range(40):
        n, k = int(rng.integers(1, 400)), int(rng.integers(0, 7))
        g, b, r = int(rng.choice([1, 2, 3, 4, 8, 16])), int(rng.integers(1, 9)), int(
            rng.integers(0, 9))
        w = rng.normal(0, 1, n) * (rng.random(n) > rng.random())
        if rng.random() < 0.5:
            w = np.repeat(w[:max(1, n // 16)], 16)[:n]
        stream = dc.encode(dc.trim(dc.quantise(w)[0], k), k, g, b, r,
                           version=int(rng.integers(0, 2))).stream
        for s in [stream] + [mutate(rng, stream) for _ in range(8)]:
            assert outcome(dc.decode_symbols, s) == outcome(read_code_by_code, s)
