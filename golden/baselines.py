"""Compressed sizes of the baselines EBPC is compared with, in bits, on the same word arrays.

Every function takes signed words (any shape, flattened in C order) and returns the size in bits
of a complete stream, so ratios are ``words.size * word_bits / bits``:

- ``ebpc``: both EBPC streams as sent (each padded to whole words).
- ``zvc``: zero-value compression: a 1-bit mask per word plus every non-zero word raw.
- ``zero_rle``: zero run-length coding, runs of at most 16: a non-zero word is ``1`` + the word,
  a run of k <= 16 zeros is ``0`` + (k - 1) on 4 bits (the ZNZ codes plus the raw words).
- ``bpc``: bit-plane compression alone: every word, zeros included, in blocks (the last padded
  with zeros), without the zero stream.
- ``zlib`` (level 9) and ``zstd`` (level 19, the ``zstandard`` package) on the raw bytes.
"""

import functools
import zlib

import numpy as np

from .ebpc import EBPCParams, block_codes, encoded_bits, zero_run_codes

__all__ = ["ebpc", "zvc", "zero_rle", "bpc", "zlib9", "zstd19", "BASELINES"]


def _flat(words):
    return np.asarray(words).reshape(-1)


def ebpc(words, word_bits=8, block_size=8):
    return encoded_bits(words, word_bits, block_size)


def zvc(words, word_bits=8):
    flat = _flat(words)
    return flat.size + int(np.count_nonzero(flat)) * word_bits


def zero_rle(words, word_bits=8):
    flat = _flat(words)
    return int(zero_run_codes(flat)[1].sum()) + int(np.count_nonzero(flat)) * word_bits


def bpc(words, word_bits=8, block_size=8):
    p = EBPCParams(word_bits, block_size)
    flat = _flat(words).astype(np.int64)
    padded = np.zeros(-(-flat.size // block_size) * block_size, dtype=np.int64)
    padded[:flat.size] = flat
    return int(block_codes(padded.reshape(-1, block_size), p)[1].sum())


def _raw(words, word_bits):
    return _flat(words).astype(np.int8 if word_bits == 8 else ">i2").tobytes()


def zlib9(words, word_bits=8):
    return 8 * len(zlib.compress(_raw(words, word_bits), 9))


@functools.cache
def _zstd():
    try:
        import zstandard
    except ImportError:
        raise ImportError("the zstd baseline needs the zstandard package: "
                          "pip install -e '.[eval]' (make eval)") from None
    return zstandard.ZstdCompressor(level=19)


def zstd19(words, word_bits=8):
    return 8 * len(_zstd().compress(_raw(words, word_bits)))


#: name -> bits function of (words, word_bits)
BASELINES = {"ebpc": ebpc, "zvc": zvc, "zero_rle": zero_rle, "bpc": bpc, "zlib9": zlib9,
             "zstd19": zstd19}
