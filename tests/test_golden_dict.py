"""HC-P v0 and v1 dictionary codec (golden): quantise, trim, the stream layout, malformed input."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from golden import dict_codec as dc


def trimmed(rng, n, k, sparsity=0.5, repeat=False):
    w = rng.normal(0, 1, n) * (rng.random(n) > sparsity)
    if repeat:
        w = np.repeat(w[:max(1, n // 16)], 16)[:n]
    return dc.trim(dc.quantise(w)[0], k)


def test_quantise_and_trim_follow_the_spec():
    q, s = dc.quantise(np.array([0.5, -1.0, 0.25, 1.0 / 254]))
    assert s == 1 / 127 and q.tolist() == [64, -127, 32, 0]          # 0.5 half-even -> 0
    assert dc.quantise(np.zeros(3))[1] == 1.0
    assert dc.trim(np.array([127, -127, 5, -5, 3], np.int8), 2).tolist() == [124, -124, 4, -4, 0]
    with pytest.raises(ValueError, match=re.escape("k must be in 0..6, not 7")):
        dc.trim(np.zeros(2, np.int8), 7)


def test_stream_layout_by_hand():
    # G=2, k=1: symbols (2,2) (2,2) (2,2) (4,-2) (4,-2) (0,0) -> dictionary [(2,2), (4,-2)]
    t = np.array([2, 2, 2, 2, 2, 2, 4, -2, 4, -2, 0], np.int8)
    e = dc.encode(t, k=1, g=2, b=2, r=1)
    words = [int.from_bytes(e.stream[i:i + 4], "big") for i in range(0, len(e.stream), 4)]
    assert words[0] == 11
    assert words[1] == 1 | 2 << 3 | 2 << 8 | 1 << 12 | 2 << 16
    f = 7                                            # bits per field; entries are t >> 1
    body = "".join(format(v & 0x7F, "07b") for v in (1, 1, 2, -1))      # the dictionary
    body += "100" + "011"                            # hit 0, run of 2 (r = 1)
    body += "101" + "010"                            # hit 1, run of 1 (r = 0)
    body += "00" + "0" * 2 * f                       # literal (0, 0): the padded last symbol
    bits = "".join(format(w, "032b") for w in words[2:])
    assert bits.startswith(body) and set(bits[len(body):]) <= {"0"}
    assert len(bits) - len(body) < 32 and e.bits == 32 * len(words)
    assert (e.hits, e.runs, e.run_symbols, e.literals) == (2, 2, 3, 1)
    out, head = dc.decode(e.stream)
    assert out.tolist() == t.tolist() and head == e.header


def test_dictionary_order_count_then_first_occurrence():
    syms = np.array([[3], [1], [1], [3], [2], [2], [1], [5]], np.int8)
    entries, where, _ = dc.dictionary(syms, 1)
    assert entries.tolist() == [[1], [3]]            # 1 three times; 3 and 2 twice, 3 first
    assert dc.dictionary(syms, 4)[0].tolist() == [[1], [3], [2]]   # 5 once: never kept


def test_runs_are_capped_and_r0_disables_them():
    t = np.zeros(4 * 40, np.int8)
    e = dc.encode(t, 0, g=4, b=4, r=3)
    assert (e.hits, e.runs, e.run_symbols) == (1, 5, 39)            # 8 + 8 + 8 + 8 + 7
    e0 = dc.encode(t, 0, g=4, b=4, r=0)
    assert e0.runs == 0 and e0.hits == 40
    assert dc.decode(e0.stream)[0].tolist() == t.tolist()


@pytest.mark.parametrize("n", [1, 3, 4, 5, 1000])
@pytest.mark.parametrize("g", [1, 2, 4, 8])
def test_edge_sizes_round_trip(n, g):
    rng = np.random.default_rng(n * 10 + g)
    for k in (0, 3, 6):
        t = trimmed(rng, n, k, repeat=True)
        assert dc.decode(dc.encode(t, k, g, 4, 4).stream)[0].tolist() == t.tolist()


def test_full_dictionary_and_extremes():
    t = np.array(list(range(-127, 128)) * 2, np.int8)
    e = dc.encode(t, 0, g=1, b=8, r=8)
    assert e.header.n_dict == 255 and e.literals == 0
    assert dc.decode(e.stream)[0].tolist() == t.tolist()
    e = dc.encode(np.array([-127, 127], np.int8), 0, g=1, b=1, r=0)
    assert e.header.n_dict == 0 and e.literals == 2


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 400), st.integers(0, 6), st.sampled_from([1, 2, 3, 4, 8, 16]),
       st.integers(1, 8), st.integers(0, 8), st.floats(0, 1), st.booleans(), st.integers(0, 99))
def test_round_trip(n, k, g, b, r, sparsity, repeat, seed):
    t = trimmed(np.random.default_rng(seed), n, k, sparsity, repeat)
    e = dc.encode(t, k, g, b, r)
    out, head = dc.decode(e.stream)
    assert out.tolist() == t.tolist() and head == e.header
    assert e.bits == len(e.stream) * 8 and len(e.stream) % 4 == 0


def _header(n=4, k=0, g=4, b=4, r=4, n_dict=0, version=0):
    return dc.Header(n, k, g, b, r, n_dict, version).words()


def _stream(words, tail_bits=""):
    bits = "".join(format(w, "032b") for w in words) + tail_bits
    bits += "0" * (-len(bits) % 32)
    return int(bits, 2).to_bytes(len(bits) // 8, "big")


@pytest.mark.parametrize("stream,message", [
    (b"\0\0\0", "whole 32-bit words, not 3 bytes"),
    (_stream([4]), "stream ends inside the header"),
    (_stream(_header(n=0)), "header: N = 0"),
    (_stream(_header(version=2)), "header: version 2, only 0 and 1"),
    (_stream(_header(k=7)), "header: k = 7, allowed 0..6"),
    (_stream(_header(g=0)), "header: g = 0"),
    (_stream(_header(b=9)), "header: b = 9"),
    (_stream(_header(r=9)), "header: r = 9"),
    (_stream(_header(b=2, n_dict=5)), "n_dict = 5 > 2**B = 4"),
    (_stream(_header(n_dict=1)), "stream ends inside dictionary entry 0"),
    (_stream(_header(), "01" + "0000"), "run at bit 64: no symbol before it"),
    (_stream(_header(), "1" + "0000"), "hit at bit 64: index 0, dictionary has 0"),
    (_stream(_header(n=8), "00" + "0" * 32 + "01" + "0011"), "run at bit 98: 4 symbols, only 1"),
    (_stream(_header(n=8), "00" + "0" * 32), "stream ends inside a literal at bit 124"),
    (_stream(_header(), "00" + "0" * 32 + "1"), "bits after the last code"),
    (_stream(_header()) + bytes(4 * 3), "bits after the last code"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_malformed_streams_raise(stream, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        dc.decode(stream)


def test_encoder_and_engine_limits():
    with pytest.raises(ValueError, match="multiples of 4"):
        dc.encode(np.array([1, 2], np.int8), k=2)
    with pytest.raises(ValueError, match=re.escape("N must be in 1..2**32 - 1, not 0")):
        dc.encode(np.zeros(0, np.int8), 0)
    head = dc.Header(8, 0, 4, 6, 4, 0)
    with pytest.raises(ValueError, match="B = 6 > the engine's B_max = 4"):
        dc.check_engine(head, 4, 4, 4)
    with pytest.raises(ValueError, match="G = 4, the engine has 8 lanes"):
        dc.check_engine(head, 8, 8, 8)


# --- HC-P v1: literal lanes prefix coded -------------------------------------------------------

def test_limited_lengths_are_optimal_and_fit():
    counts = np.array([2 ** i for i in range(20)][::-1] + [0, 1])   # Huffman wants 21 bits
    free = dc.huffman_lengths(counts)
    assert free.max() > dc.L_MAX
    lengths = dc.limited_lengths(counts)
    used = counts > 0
    assert lengths.max() == dc.L_MAX and (lengths[used] > 0).all() and not lengths[~used].any()
    assert (2.0 ** -lengths[used]).sum() <= 1                        # a prefix code
    assert (counts * lengths).sum() >= (counts * free).sum()
    few = np.array([5, 1, 1, 3])                                     # fits: Huffman itself
    assert dc.limited_lengths(few).tolist() == dc.huffman_lengths(few).tolist()
    assert dc.limited_lengths(np.array([0, 7, 0])).tolist() == [0, 1, 0]
    with pytest.raises(ValueError, match="do not fit codes of at most 2 bits"):
        dc.limited_lengths(np.ones(5), 2)


def test_lane_code_is_canonical():
    # fields 0 x4, 1 x2, 15 x1, 14 x1: lengths 1, 2, 3, 3; values of a length in increasing order
    code = dc.LaneCode.of([0, 0, 0, 0, 1, 1, 15, 14], 4)
    assert code == dc.LaneCode((1, 1, 2), (0, 1, 14, 15))
    codes, lengths = code.codes(4)
    assert [(int(codes[v]), int(lengths[v])) for v in (0, 1, 14, 15)] == [
        (0b0, 1), (0b10, 2), (0b110, 3), (0b111, 3)]
    assert code.table(4) == ([3, 1, 1, 2, 0, 1, 14, 15], [4, 5, 5, 5, 4, 4, 4, 4])


def test_v1_stream_layout_by_hand():
    # G=2, k=4 (F = 4), R=0, B=1: symbols (16,16) (16,16) (0,-16) -> dictionary [(16,16)];
    # tokens: the hit on entry 0 twice, the literal once: a code of 1 bit each (hit 0, lit 1);
    # literal lanes 0 and -16 (field 15): one code each of 1 bit
    t = np.array([16, 16, 16, 16, 0, -16], np.int8)
    e = dc.encode(t, k=4, g=2, b=1, r=0, version=1)
    words = [int.from_bytes(e.stream[i:i + 4], "big") for i in range(0, len(e.stream), 4)]
    assert words[:2] == [6, 4 | 2 << 3 | 1 << 8 | 0 << 12 | 1 << 16 | 1 << 25]
    assert e.header.tokens == dc.TokenCode((2,), lit=1, run=dc.NO_TOKEN)
    body = "0001" + "000000010" + "000000001" + "111111111"   # Lt = 1: 2 codes; lit 1; no run
    body += "0001" + "00010" + "0000" + "1111"     # L = 1; 2 codes of 1 bit; values 0, 15
    body += "0001" + "0001"                         # the dictionary entry (1, 1)
    body += "0" + "0"                               # hit, hit
    body += "1" + "0" + "1"                         # literal: lanes 0, 15
    bits = "".join(format(w, "032b") for w in words[2:])
    assert bits.startswith(body) and set(bits[len(body):]) <= {"0"}
    out, head = dc.decode(e.stream)
    assert out.tolist() == t.tolist() and head == e.header and head.version == 1


def test_v1_tokens_order_the_dictionary_by_code():
    # hits: 7 five times, 3 and 0 once each (their repeats are runs): 7's hit has the shortest
    # code and so comes first in the stored dictionary
    t = np.array([3, 3, 7, 5, 7, 9, 7, 11, 7, 13, 7, 0, 0, 0, 0], np.int8)
    e = dc.encode(t, 0, g=1, b=4, r=2, version=1)
    assert e.dictionary.reshape(-1).tolist() == [7, 0, 3] and e.header.tokens.counts[0] == 1
    assert dc.decode(e.stream)[0].tolist() == t.tolist()


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 400), st.integers(0, 6), st.sampled_from([1, 2, 3, 4, 8, 16]),
       st.integers(1, 8), st.integers(0, 8), st.floats(0, 1), st.booleans(), st.integers(0, 99))
def test_v1_round_trip_and_never_longer_lanes(n, k, g, b, r, sparsity, repeat, seed):
    t = trimmed(np.random.default_rng(seed), n, k, sparsity, repeat)
    e0, e1 = dc.encode(t, k, g, b, r), dc.encode(t, k, g, b, r, version=1)
    out, head = dc.decode(e1.stream)
    assert out.tolist() == t.tolist() and head == e1.header
    assert e1.bits == len(e1.stream) * 8 and len(e1.stream) % 4 == 0
    assert (e1.hits, e1.runs, e1.literals) == (e0.hits, e0.runs, e0.literals)
    assert e1.header.n_dict <= e0.header.n_dict      # entries never hit are left out
    # an optimal code is never longer than the v0 fields it replaces; the tables cost their bits
    table = sum(e1.header.code.table(8 - k)[1]) + sum(e1.header.tokens.table()[1])
    assert e1.bits - 32 <= e0.bits + table


def _v1(table, tail, n=4, k=4, g=4, r=4, n_dict=0):
    """A v1 stream: the header, then the bit strings of ``table`` and ``tail``."""
    return _stream(_header(n=n, k=k, g=g, r=r, n_dict=n_dict, version=1), table + tail)


def _nine(v):
    return format(v, "09b")


# one token (the literal, code "0"); F = 4: L, counts of 5 bits, values of 4 bits; lane code
# "0" -> field 0, "10" -> field 1
_TOKENS = "0001" + _nine(1) + _nine(0) + _nine(511)
_LANES = "0010" + "00001" + "00001" + "0000" + "0001"
_TABLE = _TOKENS + _LANES


@pytest.mark.parametrize("stream,message", [
    (_v1("1101", ""), "token code table at bit 64: L = 13 > 12"),
    (_v1("0010" + _nine(2) + _nine(3), ""),
     "token code table at bit 77: the codes of at most 2 bits need 7 of the 4 2-bit"),
    (_v1("0001" + _nine(1) + _nine(1) + _nine(511), ""),
     "token code table at bit 77: the literal token is code 1, the table has 1 codes"),
    (_v1("0001" + _nine(2) + _nine(1) + _nine(1), ""), "literal and run share code 1"),
    (_v1("0001" + _nine(2) + _nine(0) + _nine(1), "", r=0), "a run token with R = 0"),
    (_v1("0001" + _nine(2) + _nine(0) + _nine(511), ""),
     "2 codes for 0 dictionary entries and 1 other tokens"),
    (_v1(_TOKENS + "1101", ""), "literal code table at bit 95: L = 13 > 12"),
    (_v1(_TOKENS + "0001" + "00011", ""),
     "at bit 99: the codes of at most 1 bits need 3 of the 2"),
    (_v1(_TOKENS + "0010" + "00001" + "00001" + "0000" + "0000", ""),
     "literal code table at bit 113: value 0 twice"),
    (_stream(_header(version=1))[:8], "stream ends inside the token code table"),
    (_v1(_TABLE, "0" + "0" + "10" + "11"),
     "literal lane at bit 121: no code of the table starts so"),
    (_v1(_TABLE, "0" + "0000" + "1", n=8), "token at bit 122: no code of the table starts so"),
    (_v1("0000" + _nine(511) + _nine(511) + "0000", "", n=1), "token at bit 90: no code"),
    (_v1(_TOKENS + "0000", "0" + "0", n=4), "literal lane at bit 100: no code of the table"),
    (_v1(_TABLE, "0" + "0000") + bytes(4), "bits after the last code"),
    (_v1(_TABLE, "0" + "0000" + "1"), "6 bits after the last code at bit 122"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_malformed_v1_streams_raise(stream, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        dc.decode(stream)


def test_v1_cut_inside_a_literal_lane():
    t = np.array([1, -3, 5, 7] * 3 + [9, 9, 11, 13], np.int8)
    s = dc.encode(t, 0, 4, 1, 0, version=1).stream
    for cut in range(8, len(s), 4):
        with pytest.raises(ValueError, match="stream ends inside"):
            dc.decode(s[:cut])
