"""The EBPC golden model works on bounded pieces: memory per word stays small, and where the
pieces are cut changes neither the streams nor what a malformed stream raises."""

import numpy as np
import pytest

from golden import datagen, ebpc
from golden.bench import ebpc_memory

#: bytes of memory per word that encode and decode must stay under (the ~70 of the whole-array
#: model is what this guards against)
MAX_BYTES_PER_WORD = 16
DECODE_MEMORY_CASES = [("dense", 8), ("dense", 16), ("sparse50", 8)]


@pytest.mark.parametrize("word_bits", [8, 16])
@pytest.mark.parametrize("kind", ["dense", "sparse50", "relu"])
def test_memory_per_word_is_bounded(kind, word_bits):
    # decoding under tracemalloc is slow (it traces every Python int of the code chase), so the
    # decoder is measured on its two worst cases and a map with zero runs
    encode, decode = ebpc_memory(kind, 1 << 20, word_bits,
                                 decode=(kind, word_bits) in DECODE_MEMORY_CASES)
    assert encode < MAX_BYTES_PER_WORD, f"encode: {encode:.1f} bytes per word"
    if decode is not None:
        assert decode < MAX_BYTES_PER_WORD, f"decode: {decode:.1f} bytes per word"


def _outcome(znz, bpc, n, word_bits, block_size):
    try:
        return ebpc.decode(znz, bpc, n, word_bits, block_size).tolist()
    except ValueError as error:
        return str(error)


def _mutations(rng, znz, bpc, n):
    """A few malformed versions of a transfer: flipped bits, cut or extended streams, wrong N."""
    for stream in (0, 1):
        for _ in range(3):
            s = [bytearray(znz), bytearray(bpc)]
            if s[stream]:
                bit = int(rng.integers(0, 8 * len(s[stream])))
                s[stream][bit // 8] ^= 0x80 >> (bit % 8)
            yield bytes(s[0]), bytes(s[1]), n
        yield (znz, bpc[:len(bpc) // 2], n) if stream else (znz[:len(znz) // 2], bpc, n)
    yield znz + b"\0\0", bpc, n
    yield znz, bpc, n + 3


@pytest.mark.parametrize("word_bits,block_size", [(8, 8), (8, 16), (16, 8), (16, 16)])
def test_piece_size_changes_nothing(monkeypatch, word_bits, block_size):
    rng = np.random.default_rng(word_bits + block_size)
    maps = [datagen.make(kind, rng, n, word_bits)
            for kind, n in [("relu", 1200), ("sparse80", 900), ("dense", 300), ("zeros", 400),
                            ("smooth", 500), ("adversarial", 133)]]
    want = [ebpc.encode(x, word_bits, block_size) for x in maps]
    cases = [m for x, (znz, bpc) in zip(maps, want) for m in _mutations(rng, znz, bpc, x.size)]
    outcomes = [_outcome(*c, word_bits, block_size) for c in cases]
    # the smallest pieces: 16 words (one ZNZ run), one byte of each stream
    for sizes in [(16, 1, 1), (48, 3, 2), (1 << 10, 64, 8)]:
        for name, size in zip(("CHUNK_WORDS", "CHUNK_BYTES", "ZNZ_CHUNK_BYTES"), sizes):
            monkeypatch.setattr(ebpc, name, size)
        assert [ebpc.encode(x, word_bits, block_size) for x in maps] == want, sizes
        assert [_outcome(*c, word_bits, block_size) for c in cases] == outcomes, sizes
