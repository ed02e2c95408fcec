"""Vectorised bit-string packing and reading, shared by every codec in :mod:`golden`.

A stream is a bit string written MSB first into words of ``word_bits`` bits (8 or 16); the last
word is zero-padded on the LSB side. As ``bytes``, a word of 16 bits is two bytes, big-endian, so
the byte string is the bit string in order for every word width.
"""

import numpy as np

__all__ = ["pack_codes", "padded_bits", "windows", "bit_location", "BitReader"]


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
    lengths = np.asarray(lengths).ravel()
    keep = lengths > 0
    lengths = lengths[keep].astype(np.int64)
    values = np.asarray(values).ravel()[keep].astype(np.uint64)
    if lengths.size == 0:
        return b""
    if lengths.max() > 32:
        raise ValueError(f"code lengths must be at most 32 bits, not {int(lengths.max())}")
    values &= (np.uint64(1) << lengths.astype(np.uint64)) - np.uint64(1)
    ends = np.cumsum(lengths)
    total = int(ends[-1])
    starts = ends - lengths
    word = starts >> 5                      # 32-bit word holding the code's first bit
    # place each code in the 64-bit window of words (word, word + 1), MSB first
    placed = values << (64 - ends + (word << 5)).astype(np.uint64)
    hi = (placed >> np.uint64(32)).astype(np.float64)
    lo = (placed & np.uint64(0xFFFFFFFF)).astype(np.float64)
    nwords = (total + 31) // 32 + 1
    # codes never overlap, so a sum is an OR; float64 holds 32-bit sums exactly
    acc = np.bincount(word, weights=hi, minlength=nwords)
    acc[1:] += np.bincount(word, weights=lo, minlength=nwords)[:-1]
    out = acc.astype(np.uint64).astype(">u4").tobytes()
    return out[:padded_bits(total, word_bits) // 8]


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
