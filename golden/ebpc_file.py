"""The ``.ebpc`` container: one compressed tensor in a file.

Layout (all integers little-endian)::

    offset  size     field
    0       4        magic  b"EBPC"
    4       1        version (1)
    5       1        word_bits (8 or 16)
    6       1        block_size (8 or 16)
    7       1        ndim (0..32)
    8       8*ndim   shape, uint64 each
    ..      8        N = product of the shape, uint64
    ..      8        ZNZ stream length in bytes, uint64
    ..      8        BPC stream length in bytes, uint64
    ..      ...      ZNZ stream, then BPC stream (as :func:`golden.ebpc.encode` returns them)

Nothing may follow the BPC stream.
"""

import struct
from dataclasses import dataclass

import numpy as np

from . import ebpc

MAGIC = b"EBPC"
VERSION = 1
MAX_NDIM = 32

__all__ = ["EBPCFile", "pack", "unpack", "MAGIC", "VERSION"]


@dataclass(frozen=True)
class EBPCFile:
    """A compressed tensor: parameters, shape and the two streams."""

    word_bits: int
    block_size: int
    shape: tuple
    znz: bytes
    bpc: bytes

    @property
    def n(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @classmethod
    def compress(cls, array, block_size=8):
        """Compress an int8 (word_bits 8) or int16 (word_bits 16) array of any shape."""
        array = np.asarray(array)
        widths = {np.dtype(np.int8): 8, np.dtype(np.int16): 16}
        if array.dtype not in widths:
            raise ValueError(f"array dtype must be int8 or int16, not {array.dtype}")
        word_bits = widths[array.dtype]
        znz, bpc = ebpc.encode(array, word_bits, block_size)
        return cls(word_bits, block_size, tuple(int(s) for s in array.shape), znz, bpc)

    def decompress(self):
        """The original array; ``ValueError`` if a stream is malformed."""
        words = ebpc.decode(self.znz, self.bpc, self.n, self.word_bits, self.block_size)
        return words.reshape(self.shape)


def pack(f):
    """The bytes of the ``.ebpc`` container of ``f``."""
    head = struct.pack("<4sBBBB", MAGIC, VERSION, f.word_bits, f.block_size, len(f.shape))
    head += struct.pack(f"<{len(f.shape)}Q", *f.shape)
    head += struct.pack("<QQQ", f.n, len(f.znz), len(f.bpc))
    return head + f.znz + f.bpc


def unpack(data):
    """Parse a ``.ebpc`` container; ``ValueError`` saying what is wrong and at which byte."""
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
    if version != VERSION:
        raise ValueError(f".ebpc version {version} is not supported (this reader: {VERSION})")
    ebpc.EBPCParams(word_bits, block_size)          # validates both
    if ndim > MAX_NDIM:
        raise ValueError(f".ebpc ndim must be 0..{MAX_NDIM}, not {ndim}")
    shape, at = take(at, f"<{ndim}Q", "shape")
    (n, nznz, nbpc), at = take(at, "<QQQ", "lengths")
    if n != int(np.prod(shape, dtype=np.int64)):
        raise ValueError(f".ebpc N = {n} does not match shape {tuple(shape)}")
    if len(data) < at + nznz + nbpc:
        raise ValueError(f"truncated .ebpc file: streams need {at + nznz + nbpc} bytes, "
                         f"the file has {len(data)}")
    if len(data) > at + nznz + nbpc:
        raise ValueError(f".ebpc file has {len(data) - at - nznz - nbpc} bytes after the BPC "
                         f"stream, from byte {at + nznz + nbpc}")
    znz = data[at:at + nznz]
    bpc = data[at + nznz:at + nznz + nbpc]
    return EBPCFile(word_bits, block_size, tuple(shape), znz, bpc)
