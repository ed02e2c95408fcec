"""The ``.ebpc`` container: one compressed tensor in a file.

The tensor's N words, in C order, are cut into transfers of W words (the last one holds the
rest; W = 2**24 unless chosen). A transfer is what the hardware codes in one go: its count port
takes N - 1 on 24 bits (:data:`golden.ebpc.MAX_WORDS` = 2**24 words at most), and each transfer
has its own ZNZ and BPC streams, as :func:`golden.ebpc.encode` returns them. A tensor of up to
2**24 words is one transfer.

Layout, version 2 (integers little-endian)::

    offset  size     field
    0       4        magic  b"EBPC"
    4       1        version (2)
    5       1        word_bits (8 or 16)
    6       1        block_size (8 or 16)
    7       1        ndim (0..32)
    8       8*ndim   shape, uint64 each
    ..      8        N = product of the shape (at least 1), uint64
    ..      4        W, words per transfer (1..2**24), uint32; T = ceil(N / W) transfers
    ..      16*T     for each transfer: its ZNZ and BPC stream lengths in bytes, uint64 each
    ..      ...      for each transfer: its ZNZ stream, then its BPC stream
    ..      4        CRC-32 of every byte before it (:mod:`golden.crc`), uint32

Nothing else may follow. Version 1 files (no CRC, one transfer) are still read: the same up to
N, then the ZNZ and BPC lengths (uint64 each) and the two streams.
"""

import math
import struct
from dataclasses import dataclass

import numpy as np

from . import crc, ebpc

MAGIC = b"EBPC"
VERSION = 2
MAX_NDIM = 32
_WIDTHS = {np.dtype(np.int8): 8, np.dtype(np.int16): 16}

__all__ = ["EBPCFile", "pack", "unpack", "stats", "MAGIC", "VERSION"]


def _words(array):
    """``(word_bits, flat C-order words)`` of an int8 / int16 array with at least one word."""
    array = np.asarray(array)
    if array.dtype not in _WIDTHS:
        raise ValueError(f"array dtype must be int8 or int16, not {array.dtype}")
    if array.size == 0:
        raise ValueError(f"the array has no words (shape {array.shape}); EBPC codes 1 or more")
    return _WIDTHS[array.dtype], array.reshape(-1)


def _transfers(n, transfer_words):
    """How many transfers of ``transfer_words`` words (the last one the rest) ``n`` words take."""
    if not 1 <= transfer_words <= ebpc.MAX_WORDS:
        raise ValueError(f"words per transfer must be 1..{ebpc.MAX_WORDS}, not {transfer_words}")
    return -(-n // transfer_words)


def _spans(n, transfer_words):
    """``(start, stop)`` of each transfer of ``n`` words."""
    _transfers(n, transfer_words)
    return [(i, min(n, i + transfer_words)) for i in range(0, n, transfer_words)]


@dataclass(frozen=True)
class EBPCFile:
    """A compressed tensor: parameters, shape and the ``(znz, bpc)`` streams of each transfer
    of ``transfer_words`` words (the last one the rest)."""

    word_bits: int
    block_size: int
    shape: tuple
    transfers: tuple
    transfer_words: int = ebpc.MAX_WORDS

    @property
    def n(self):
        return math.prod(self.shape)

    @property
    def stream_bytes(self):
        """The bytes of all ZNZ and BPC streams."""
        return sum(len(z) + len(b) for z, b in self.transfers)

    @classmethod
    def compress(cls, array, block_size=8, transfer_words=ebpc.MAX_WORDS):
        """Compress an int8 (word_bits 8) or int16 (word_bits 16) array of any shape and size
        (at least one word), ``transfer_words`` words per transfer."""
        word_bits, flat = _words(array)
        transfers = tuple(ebpc.encode(flat[a:b], word_bits, block_size)
                          for a, b in _spans(flat.size, transfer_words))
        return cls(word_bits, block_size, tuple(int(s) for s in np.shape(array)), transfers,
                   transfer_words)

    def decompress(self):
        """The original array; ``ValueError`` if a stream is malformed (naming the transfer
        when there are several)."""
        spans = _spans(self.n, self.transfer_words)
        if len(spans) != len(self.transfers):
            raise ValueError(f"{self.n} words in transfers of {self.transfer_words} need "
                             f"{len(spans)} transfers, not {len(self.transfers)}")
        parts = []
        for i, ((a, b), (znz, bpc)) in enumerate(zip(spans, self.transfers)):
            try:
                parts.append(ebpc.decode(znz, bpc, b - a, self.word_bits, self.block_size))
            except ValueError as exc:
                if len(spans) == 1:
                    raise
                raise ValueError(f"transfer {i} of {len(spans)} (words {a}..{b - 1}): "
                                 f"{exc}") from None
        return (parts[0] if len(parts) == 1 else np.concatenate(parts)).reshape(self.shape)


def pack(f):
    """The bytes of the ``.ebpc`` container (version 2) of ``f``."""
    if len(f.shape) > MAX_NDIM:
        raise ValueError(f"at most {MAX_NDIM} dimensions, not {len(f.shape)}")
    head = struct.pack("<4sBBBB", MAGIC, VERSION, f.word_bits, f.block_size, len(f.shape))
    head += struct.pack(f"<{len(f.shape)}QQI", *f.shape, f.n, f.transfer_words)
    head += b"".join(struct.pack("<QQ", len(z), len(b)) for z, b in f.transfers)
    return crc.seal(head + b"".join(z + b for z, b in f.transfers))


def unpack(data):
    """Parse a ``.ebpc`` container (version 1 or 2); ``ValueError`` saying what is wrong and at
    which byte, or (version 2) that the CRC-32 does not match once the lengths add up."""
    data = bytes(data)

    def take(offset, fmt, what):
        size = struct.calcsize(fmt)
        if len(data) < offset + size:
            raise ValueError(f"truncated .ebpc file: {what} needs bytes "
                             f"{offset}..{offset + size - 1}, the file has {len(data)}")
        return struct.unpack_from(fmt, data, offset), offset + size

    (magic, version, word_bits, block_size, ndim), at = take(0, "<4sBBBB", "header")
    if magic != MAGIC:
        raise ValueError(f"not an .ebpc file: magic is {magic!r}, expected {MAGIC!r}")
    if version not in (1, VERSION):
        raise ValueError(f".ebpc version {version} is not supported (this reader: 1 and "
                         f"{VERSION})")
    trailer = 4 if version >= 2 else 0             # the CRC-32
    ebpc.EBPCParams(word_bits, block_size)          # validates both
    if ndim > MAX_NDIM:
        raise ValueError(f".ebpc ndim must be 0..{MAX_NDIM}, not {ndim}")
    shape, at = take(at, f"<{ndim}Q", "shape")
    if version == 1:
        (n, *lengths), at = take(at, "<QQQ", "lengths")
        words = n
    else:
        (n, words), at = take(at, "<QI", "N and W")
    if n != math.prod(shape):
        raise ValueError(f".ebpc N = {n} does not match shape {tuple(shape)}")
    if n == 0:
        raise ValueError(f".ebpc shape {tuple(shape)} holds no words")
    count = _transfers(n, words) if version >= 2 else 1
    if version >= 2:
        if len(data) < at + 16 * count:
            raise ValueError(f"truncated .ebpc file: the stream lengths of {count} transfers "
                             f"need {16 * count} bytes from byte {at}, the file has {len(data)}")
        lengths, at = take(at, f"<{2 * count}Q", "the stream lengths")
    end = at + sum(lengths)
    crc_name = " and the CRC-32" if trailer else ""
    if len(data) < end + trailer:
        raise ValueError(f"truncated .ebpc file: streams{crc_name} need {end + trailer} bytes, "
                         f"the file has {len(data)}")
    if len(data) > end + trailer:
        raise ValueError(f".ebpc file has {len(data) - end - trailer} bytes after the BPC "
                         f"stream{crc_name}, from byte {end + trailer}")
    if trailer:
        crc.unseal(data, ".ebpc")
    transfers = []
    for i in range(count):
        znz_end = at + lengths[2 * i]
        transfers.append((data[at:znz_end], data[znz_end:znz_end + lengths[2 * i + 1]]))
        at = znz_end + lengths[2 * i + 1]
    return EBPCFile(word_bits, block_size, tuple(shape), tuple(transfers), words)


def stats(array, block_size=8, per_block=False, transfer_words=ebpc.MAX_WORDS):
    """:func:`golden.ebpc.stats` of ``array`` coded as :meth:`EBPCFile.compress` codes it:
    counts summed over its transfers, ``transfers`` their number, blocks numbered on."""
    word_bits, flat = _words(array)
    parts = [ebpc.stats(flat[a:b], word_bits, block_size, per_block)
             for a, b in _spans(flat.size, transfer_words)]
    out = {**parts[0], "transfers": len(parts)}
    for s in parts[1:]:
        for key in ("n", "zeros", "blocks", "raw_bytes", "znz_bits", "bpc_bits", "znz_bytes",
                    "bpc_bytes"):
            out[key] += s[key]
        for key in ("symbols", "codes", "bits"):
            out[key] = {k: v + s[key][k] for k, v in out[key].items()}
        if per_block:
            out["per_block"] = out["per_block"] + [
                {**b, "block": b["block"] + len(out["per_block"])} for b in s["per_block"]]
    coded = out["znz_bytes"] + out["bpc_bytes"]
    out["ratio"], out["bits_per_word"] = out["raw_bytes"] / coded, coded * 8 / out["n"]
    return out
