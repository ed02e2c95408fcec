"""The EBPC golden model: reference vectors, each stage, round trips, edge cases, bad input."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from golden import ebpc
from golden.bitstream import pack_codes, windows

P8 = ebpc.EBPCParams()
ALL_PARAMS = [(8, 8), (8, 16), (16, 8), (16, 16)]


def bits_of(stream):
    return "".join(f"{b:08b}" for b in stream)


# ---- the authors' vectors ------------------------------------------------------------------------

def test_reference_vectors_bit_exact(ebpc_vectors):
    assert len(ebpc_vectors) >= 10
    for v in ebpc_vectors:
        words = np.array(v["input"], dtype=np.int8)
        znz, bpc = ebpc.encode(words)
        assert list(znz) == v["znz"], v["name"]
        assert list(bpc) == v["bpc"], v["name"]
        assert np.array_equal(ebpc.decode(bytes(v["znz"]), bytes(v["bpc"]), len(words)), words)


# ---- encoder stages -----------------------------------------------------------------------------

def test_pack_codes_msb_first_and_padding():
    assert pack_codes([1, 0b00001, 1, 0], [1, 5, 1, 5]) == bytes([0b10000110, 0b00000000])
    assert pack_codes([0xAB], [8]) == b"\xab"                  # a whole word: no extra word
    assert pack_codes([1], [1], word_bits=16) == b"\x80\x00"   # 16-bit words
    assert pack_codes([], []) == b""
    assert windows(b"\xab\xcd", [0, 4, 12], 8).tolist() == [0xAB, 0xBC, 0xD0]


def test_zero_run_codes_spec_examples():
    def znz_bits(words):
        v, n = ebpc.zero_run_codes(np.array(words))
        return "".join(f"{int(a):0{int(b)}b}" for a, b in zip(v, n) if b)

    assert znz_bits([1, 0, 0, 2, 0]) == "1" + "00001" + "1" + "00000"
    assert znz_bits([0] * 20) == "01111" + "00011"
    assert znz_bits([0] * 16) == "01111"
    assert znz_bits([0] * 17) == "01111" + "00000"
    assert znz_bits([0] * 32 + [7]) == "01111" * 2 + "1"


def test_nonzero_blocks_pads_with_zero_values():
    blocks = ebpc.nonzero_blocks(np.array([0, 3, 0, -1] + [5] * 8), P8)
    assert blocks.tolist() == [[3, -1, 5, 5, 5, 5, 5, 5], [5, 5, 0, 0, 0, 0, 0, 0]]
    assert ebpc.nonzero_blocks(np.zeros(9, np.int8), P8).shape == (0, 8)


def test_block_deltas_are_exact_9_bit():
    base, d = ebpc.block_deltas(np.array([[127, -128, 127, -128, 1, 1, 1, 1]]), P8)
    assert base.tolist() == [127]
    assert d.tolist() == [[(-255) & 0x1FF, 255, (-255) & 0x1FF, 129, 0, 0, 0]]


def test_bit_planes_put_d1_leftmost():
    planes = ebpc.bit_planes(np.array([[1, 0, 0, 0, 0, 0, 0x100]]), P8)
    assert planes[0, 0] == 0b1000000 and planes[0, 8] == 0b0000001
    assert planes[0, 1:8].tolist() == [0] * 7


def test_dbx_xors_neighbouring_planes():
    assert ebpc.dbx(np.array([[0b1, 0b11, 0b11]])).tolist() == [[0b1, 0b10, 0]]


def test_symbol_codes_every_table_row():
    # X, P pairs for rows 2..6, then a run of 4 zero symbols
    x = np.array([[0b1111111, 0b0100000, 0b0011000, 0b0000001, 0b1010100, 0, 0, 0, 0]])
    planes = np.array([[5, 0, 5, 5, 5, 5, 5, 5, 5]])
    cls, val, length = ebpc.symbol_codes(x, planes, P8)
    C = ebpc.SymbolClass
    assert cls[0].tolist() == [C.ALL_ONES, C.PLANE_ZERO, C.TWO_ONES, C.SINGLE_ONE, C.RAW] + \
        [C.ZERO_RUN] * 4
    codes = [f"{int(v):0{int(n)}b}" for v, n in zip(val[0], length[0]) if n]
    assert codes == ["00000", "00001", "00010" + "010", "00011" + "110", "1" + "1010100",
                     "001" + "010"]
    # a lone zero symbol is 01; the all-ones row wins over P = 0
    cls, val, length = ebpc.symbol_codes(np.array([[0, 0b1111111] + [5] * 7]),
                                         np.array([[1, 0] + [1] * 7]), P8)
    assert (int(val[0, 0]), int(length[0, 0])) == (0b01, 2)
    assert cls[0, 1] == C.ALL_ONES


# ---- decoder stages -----------------------------------------------------------------------------

def test_znz_flags_decodes_runs_and_stops_at_n():
    flags, end = ebpc.znz_flags(bytes([0b10000110]), 4, P8)
    assert flags.tolist() == [True, False, False, True] and end == 7
    # the padding 0s would decode as a zero run: N stops the decoder first
    flags, end = ebpc.znz_flags(bytes([0b10000000]), 1, P8)
    assert flags.tolist() == [True] and end == 1


def test_parse_and_decode_symbols_of_a_constant_block():
    znz, bpc = ebpc.encode(np.full(8, 8, np.int8))          # base 8, then 001 111 (9 zeros)
    base_pos, code_pos, end = ebpc.parse_bpc(bpc, 1, P8)
    assert base_pos.tolist() == [0] and code_pos.tolist() == [8] and end == 14
    cls, x, symbols = ebpc.decode_symbols(bpc, code_pos, P8)
    assert cls.tolist() == [ebpc.SymbolClass.ZERO_RUN] and symbols.tolist() == [9]


def test_plane_delta_word_rebuild_inverts_the_encoder_stages():
    rng = np.random.default_rng(7)
    blocks = rng.integers(-128, 128, (50, 8))
    base, d = ebpc.block_deltas(blocks, P8)
    planes = ebpc.bit_planes(d, P8)
    cls, _, _ = ebpc.symbol_codes(ebpc.dbx(planes), planes, P8)
    x = np.where(cls == ebpc.SymbolClass.PLANE_ZERO, 0, ebpc.dbx(planes))
    rebuilt = ebpc.planes_from_symbols(cls.ravel(), x.ravel(), np.ones(x.size, np.int64), P8)
    assert np.array_equal(rebuilt, planes)
    deltas = ebpc.deltas_from_planes(planes, P8)
    assert np.array_equal(deltas, np.diff(blocks, axis=1))
    signed_base = np.where(base >= 128, base - 256, base)
    assert np.array_equal(ebpc.words_from_deltas(signed_base, deltas, P8), blocks)


def test_merge_places_values_at_set_flags():
    out = ebpc.merge(np.array([True, False, True]), np.array([4, 5, 0, 0]), P8)
    assert out.tolist() == [4, 0, 5] and out.dtype == np.int8


# ---- round trips --------------------------------------------------------------------------------

@st.composite
def tensors(draw):
    word_bits, block_size = draw(st.sampled_from(ALL_PARAMS))
    dtype = np.int8 if word_bits == 8 else np.int16
    info = np.iinfo(dtype)
    shape = draw(st.lists(st.integers(1, 12), min_size=1, max_size=3))
    seed = draw(st.integers(0, 2**32 - 1))
    sparsity = draw(st.sampled_from([0.0, 0.2, 0.5, 0.8, 0.95, 1.0]))
    span = draw(st.sampled_from([1, 3, 40, info.max]))
    rng = np.random.default_rng(seed)
    x = rng.integers(max(info.min, -span), min(info.max, span) + 1, shape).astype(dtype)
    x[rng.random(shape) < sparsity] = 0
    return x, word_bits, block_size


@settings(max_examples=300, deadline=None)
@given(tensors())
def test_decode_inverts_encode(case):
    x, word_bits, block_size = case
    znz, bpc = ebpc.encode(x, word_bits, block_size)
    assert len(znz) % (word_bits // 8) == 0 and len(bpc) % (word_bits // 8) == 0
    y = ebpc.decode(znz, bpc, x.size, word_bits, block_size)
    assert y.dtype == x.dtype and np.array_equal(y, x.ravel())


@pytest.mark.parametrize("word_bits,block_size", ALL_PARAMS)
@pytest.mark.parametrize("case", [
    "single", "single_zero", "all_zeros", "run16", "run17", "run32", "nnz_8k_plus_1", "extremes",
    "over_2_16", "adversarial"])
def test_edge_cases_round_trip(case, word_bits, block_size):
    dtype = np.int8 if word_bits == 8 else np.int16
    info = np.iinfo(dtype)
    rng = np.random.default_rng(3)
    x = {
        "single": np.array([1]), "single_zero": np.array([0]), "all_zeros": np.zeros(1000),
        "run16": np.r_[5, np.zeros(16), 5], "run17": np.r_[np.zeros(17), 5, np.zeros(17)],
        "run32": np.r_[np.zeros(32), -3, np.zeros(32)],
        "nnz_8k_plus_1": np.r_[rng.integers(1, 100, 8 * 5 + 1), 0, 0],
        "extremes": np.tile([info.min, info.max, info.min, info.max, 1, 0, info.max, -1], 9),
        "over_2_16": rng.integers(info.min, info.max + 1, (1 << 16) + 1001),
        "adversarial": np.tile([1, 103, 103, 103, 103, 103, 103, 103], 64),
    }[case].astype(dtype)
    znz, bpc = ebpc.encode(x, word_bits, block_size)
    if not x.any():
        assert bpc == b""
    assert np.array_equal(ebpc.decode(znz, bpc, x.size, word_bits, block_size), x)
    assert ebpc.encoded_bits(x, word_bits, block_size) == 8 * (len(znz) + len(bpc))


@settings(max_examples=200, deadline=None)
@given(tensors())
def test_encoded_bits_is_the_streams_size(case):
    """The size-only path (the evaluations' EBPC baseline) counts exactly what encode sends."""
    x, word_bits, block_size = case
    znz, bpc = ebpc.encode(x, word_bits, block_size)
    assert ebpc.encoded_bits(x, word_bits, block_size) == 8 * (len(znz) + len(bpc))


def test_encoded_bits_across_pieces():
    """Maps longer than a piece (CHUNK_WORDS): held blocks and runs cut at the pieces' edges."""
    rng = np.random.default_rng(11)
    for zeros in (0.0, 0.6, 0.99):
        x = rng.integers(-128, 128, 3 * ebpc.CHUNK_WORDS + 13).astype(np.int8)
        x[rng.random(x.size) < zeros] = 0
        assert ebpc.encoded_bits(x) == 8 * sum(map(len, ebpc.encode(x)))


def test_worst_case_size_bound():
    x = np.random.default_rng(1).integers(-128, 128, 4096).astype(np.int8)
    x[x == 0] = 1
    znz, bpc = ebpc.encode(x)
    assert len(bpc) * 8 <= 10 * x.size and len(znz) * 8 >= x.size


# ---- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,message", [
    ({"word_bits": 12}, "word_bits must be 8 or 16, not 12"),
    ({"block_size": 4}, "block_size must be 8 or 16, not 4"),
])
def test_params_are_validated(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ebpc.encode(np.ones(8, np.int8), **kwargs)


def test_encode_rejects_bad_words():
    with pytest.raises(ValueError, match="integer array"):
        ebpc.encode(np.ones(4, np.float32))
    with pytest.raises(ValueError, match=r"signed 8-bit values in -128\.\.127, found 0\.\.200"):
        ebpc.encode(np.array([0, 200]))
    with pytest.raises(ValueError, match="1..16777216 words, not 0"):
        ebpc.encode(np.zeros(0, np.int8))


def _malformed(case):
    x = np.array([0, 0, 3, 0, -1, 7, 7, 0, 0, 0, 1, 2] * 3, np.int8)
    znz, bpc = ebpc.encode(x)
    tail_run = np.r_[x, 0, 0]                              # ends inside a zero run
    return {
        "znz_short": (znz[:-1], bpc, x.size),
        "znz_extra": (znz + b"\0", bpc, x.size),
        "bpc_short": (znz, bpc[:-1], x.size),
        "bpc_extra": (znz, bpc + b"\x55", x.size),
        "run_past_n": (*ebpc.encode(tail_run), tail_run.size - 1),
        "bpc_not_needed": (b"\x78", b"\x01", 16),             # 16 zeros: BPC must be empty
    }[case]


@pytest.mark.parametrize("case,message", [
    ("znz_short", r"ZNZ stream ends after \d+ of 36 words, at byte \d+ bit 0"),
    ("znz_extra", r"ZNZ stream has 1 byte\(s\) left over .* starting at byte \d+ bit 0"),
    ("bpc_short", r"BPC stream ends after \d+ of \d+ blocks"),
    ("bpc_extra", r"BPC stream has 1 byte\(s\) left over"),
    ("run_past_n", r"ZNZ zero run at byte \d+ bit \d+ runs 1 word\(s\) past N = 37"),
    ("bpc_not_needed", r"BPC stream has 1 byte\(s\) left over"),
])
def test_decode_reports_malformed_streams(case, message):
    znz, bpc, n = _malformed(case)
    with pytest.raises(ValueError, match=message):
        ebpc.decode(znz, bpc, n)


def test_decode_reports_run_past_block_and_bad_position():
    # one non-zero word: base, then 001 111 (9 zero symbols) is fine; 01 + 001 111 is 10 symbols
    with pytest.raises(ValueError, match=r"zero run at byte 1 bit 2 \(block 0\) covers 1 symbol"):
        ebpc.decode(b"\x80", bytes([5, 0b01001111]), 1)
    # 00011 + position 7: outside the 7-bit plane
    with pytest.raises(ValueError, match=r"position 7 at byte 1 bit 5 is outside the 7-bit plane"):
        ebpc.decode(b"\x80", bytes([5, 0b00011111, 0b00111000]), 1)


def test_decode_rejects_bad_n():
    with pytest.raises(ValueError, match="n must be 1..16777216, not 0"):
        ebpc.decode(b"", b"", 0)
