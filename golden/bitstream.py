"""Vectorised bit-string packing and reading, shared by every codec in :mod:`golden`.

A stream is a bit string written MSB first into words of ``word_bits`` bits (8 or 16); the last
word is zero-padded on the LSB side. As ``bytes``, a word of 16 bits is two bytes, big-endian, so
the byte string is the bit string in order for every word width.
"""

import sys

import numpy as np

__all__ = ["pack_codes", "CodePacker", "padded_bits", "windows", "bit_windows",
           "bit_location", "BitReader"]

_HIGH = 1 if sys.byteorder == "little" else 0     # the high half of a uint64 seen as 2 uint32
_SLICE = 1 << 15                                  # codes CodePacker packs at a time


def pack_codes(values, lengths, word_bits=8):
    """Concatenate variable-length codes MSB first and pack them into ``word_bits``-bit words.

    Parameters
    ----------
    values : array of int
        Code values; only the low ``lengths[i]`` bits of ``values[i]`` are used.
    lengths : array of int
        Code lengths in bits, 0 to 32; a length of 0 emits nothing.
    word_bits : int
        Output word width, 8 or 16.

    Returns
    -------
    bytes
        The packed stream; its length is a multiple of ``word_bits // 8``.
    """
    packer = CodePacker(word_bits)
    packer.add(values, lengths)
    return packer.getvalue()


class CodePacker:
    """:func:`pack_codes` a piece at a time: ``add`` the codes in order, as many pieces as wanted,
    then ``getvalue``. The stream is the one :func:`pack_codes` gives for all the codes at once;
    memory is the stream plus temporaries for one piece.

    Parameters
    ----------
    word_bits : int
        Output word width, 8 or 16.
    """

    def __init__(self, word_bits=8):
        self.word_bits = word_bits
        self.bits = 0                      # bits packed so far
        self._out = bytearray()            # whole 32-bit words, big-endian
        self._carry = 0.0                  # the 32-bit word being filled, as a float64 sum

    def add(self, values, lengths):
        """Append codes (``values``, ``lengths`` as for :func:`pack_codes`)."""
        lengths = np.asarray(lengths).ravel()
        keep = lengths > 0
        lengths = lengths[keep]
        if lengths.size == 0:
            return
        if lengths.max() > 32:
            raise ValueError(f"code lengths must be at most 32 bits, not {int(lengths.max())}")
        values = np.asarray(values).ravel()[keep]
        for at in range(0, lengths.size, _SLICE):         # bounded temporaries
            self._add(values[at:at + _SLICE].astype(np.uint64), lengths[at:at + _SLICE])

    def _add(self, values, lengths):
        off = self.bits & 31
        starts = np.cumsum(lengths, dtype=np.int64)
        total = int(starts[-1]) + off
        starts -= lengths
        starts += off
        word = starts >> 5                      # 32-bit word holding the code's first bit
        # each code in the 64-bit window of words (word, word + 1), MSB first: shifted up to
        # bit 63 (which drops the bits above its length), then down to its offset in the word
        placed = (values << (64 - lengths).astype(np.uint64)) >> (starts & 31).astype(np.uint64)
        halves = placed.view(np.uint32).reshape(-1, 2)
        nwords = (total + 31) // 32 + 1
        # codes never overlap, so a sum is an OR; float64 holds 32-bit sums exactly
        acc = np.bincount(word, weights=halves[:, _HIGH], minlength=nwords)
        acc[1:] += np.bincount(word, weights=halves[:, 1 - _HIGH], minlength=nwords)[:-1]
        acc[0] += self._carry
        full = total >> 5
        self._out += acc[:full].astype(">u4").tobytes()
        self._carry = acc[full]
        self.bits += total - off

    def getvalue(self):
        """The stream so far, its last word zero-padded: ``bytes``, a whole number of words."""
        out = self._out
        if self.bits & 31:
            out = out + int(self._carry).to_bytes(4, "big")
        return bytes(memoryview(out)[:padded_bits(self.bits, self.word_bits) // 8])


def padded_bits(nbits, word_bits):
    """The stream length in bits once ``nbits`` are padded to whole ``word_bits`` words."""
    return -(-nbits // word_bits) * word_bits


def windows(stream, positions, width=32):
    """The ``width`` (<= 57) bits of ``stream`` that start at each bit position, MSB aligned.

    Bits past the end of the stream read as zero.
    """
    positions = np.asarray(positions, dtype=np.int64)
    if not 1 <= width <= 57:
        raise ValueError(f"width must be 1..57, not {width!r}")
    nbytes = (width + 7 + 7) // 8          # bytes that cover the window at any bit offset
    buf = np.frombuffer(bytes(stream) + b"\0" * 8, dtype=np.uint8)
    byte = positions >> 3
    acc = buf[byte].astype(np.uint64)
    for k in range(1, nbytes):
        acc = (acc << np.uint64(8)) | buf[byte + k]
    acc = acc << (positions & 7).astype(np.uint64)
    acc = acc >> np.uint64(8 * nbytes - width)
    return (acc & np.uint64((1 << width) - 1)).astype(np.int64)


def bit_windows(stream, width, nbits):
    """The ``width`` (<= 17) bits of ``stream`` that start at each of bits ``0 .. nbits - 1``,
    MSB aligned, as a uint32 array; bits past the end of the stream read as zero.

    The windows at every bit, as tables of what a code starting there would be, let a parser
    chase code boundaries with one lookup per code.
    """
    if not 1 <= width <= 17:
        raise ValueError(f"width must be 1..17, not {width!r}")
    nbytes = -(-nbits // 8)
    buf = np.zeros(nbytes + 2, np.uint32)
    data = np.frombuffer(stream, np.uint8, min(len(stream), nbytes + 2))
    buf[:data.size] = data
    triple = (buf[:nbytes] << 16) | (buf[1:nbytes + 1] << 8) | buf[2:]     # 24 bits at each byte
    shifts = np.arange(24 - width, 16 - width, -1, dtype=np.uint32)        # bit offsets 0..7
    return ((triple[:, None] >> shifts) & np.uint32((1 << width) - 1)).reshape(-1)[:nbits]


def bit_location(bit):
    """Human-readable location of a bit offset: ``"byte B bit K"`` (bit 0 = MSB of the byte)."""
    return f"byte {bit // 8} bit {bit % 8}"


class BitReader:
    """Reads a byte stream MSB first; ``take`` raises ``ValueError`` naming ``what`` and the bit
    when the stream ends inside it."""

    def __init__(self, stream):
        self.bits = np.unpackbits(np.frombuffer(bytes(stream), np.uint8))
        self.pos = 0

    def take(self, n, what):
        if self.pos + n > self.bits.size:
            raise ValueError(f"stream ends inside {what} at bit {self.pos} "
                             f"(needs {n} bits, {self.bits.size - self.pos} left)")
        v = self.peek(n)
        self.pos += n
        return v

    def peek(self, n):
        """The next ``n`` bits as an integer, bits past the end reading as zero."""
        chunk = self.bits[self.pos:self.pos + n]
        v = int.from_bytes(np.packbits(chunk).tobytes(), "big") >> (-chunk.size % 8)
        return v << (n - chunk.size)

    def rest_is_padding(self, word_bits):
        """True when what is left is fewer than ``word_bits`` bits, all zero."""
        return self.bits.size - self.pos < word_bits and not self.bits[self.pos:].any()
