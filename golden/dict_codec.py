"""Dictionary-compressed weights, HC-P v0 (``../shared/spec/dictionary-decoder.md``).

1. Quantise to int8, symmetric: ``s = max|w| / 127`` (per layer, or one scale for the whole
   network), ``q = clip(round_half_even(w / s), -127, 127)``.
2. Trim ``k`` magnitude LSBs toward zero in sign-magnitude: ``t = sign(q) * ((|q| >> k) << k)``;
   the stored field is ``F = 8 - k`` bits holding ``t >> k`` (two's complement).
3. Symbols: ``G`` consecutive trimmed weights in load order (the last zero-padded); a symbol's
   image is ``G`` fields of ``F`` bits, lane 0 most significant. Load order: the caller's 1-D
   order; :func:`load_order` gives the one the evaluation uses (filter-major: each output
   channel / neuron contiguous, the order a systolic array loads a filter's column).
4. Dictionary: every symbol seen at least twice, by count descending then first occurrence;
   the first ``min(2**B, that many)``.
5. Codes, prefix-free, MSB first: ``1`` + index (B bits) a dictionary hit; ``01`` + r (R bits)
   the previous symbol r + 1 more times; ``00`` + ``G * F`` raw bits a literal (``0`` when
   R = 0, runs disabled). Greedy: a symbol equal to its predecessor starts the longest run
   (at most ``2**R``), otherwise a hit if in the dictionary, otherwise a literal.
6. Stream: 32-bit words MSB first. ``H0 = N``; ``H1 = k [2:0] | G [7:3] | B [11:8] | R [15:12] |
   n_dict [24:16] | version [31:25] = 0``; the dictionary (``n_dict`` images back to back); the
   codes; zero padding to a 32-bit boundary. Every one of these bits counts in the ratio.

HC-P v1 (``version = 1``, docs/dict-decoder.md) is v0 with the literal lanes coded: every lane
of a literal is a code of a per-stream canonical prefix code (:class:`LaneCode`, at most
:data:`L_MAX` bits a code) over the ``2**F`` field values, given after ``H1`` as JPEG gives its
Huffman tables: ``L`` (4 bits, the longest length), the number of codes of each length 1..L
(``F + 1`` bits each), the values in code order (``F`` bits each). Dictionary entries and the hit
and run codes are as in v0; a literal is its prefix then G lane codes.
"""

import heapq
from dataclasses import dataclass
from functools import cache

import numpy as np

from .bitstream import BitReader, bit_windows, pack_codes, windows

__all__ = ["Header", "Encoded", "LaneCode", "TokenCode", "NO_TOKEN", "LIMITS", "L_MAX",
           "VERSIONS", "quantise", "trim", "load_order", "symbols", "dictionary", "encode",
           "decode", "decode_symbols", "check_engine", "huffman_lengths", "limited_lengths"]

WORD_BITS = 32
#: the ranges the format allows (the header fields' widths allow more)
LIMITS = {"k": range(0, 7), "g": range(1, 17), "b": range(1, 9), "r": range(0, 9)}
#: stream versions: 0 literal lanes raw, 1 literal lanes prefix coded
VERSIONS = (0, 1)
#: the longest literal lane code of v1, in bits (the 4-bit ``L`` field allows up to 15)
L_MAX = 12


@dataclass(frozen=True)
class Header:
    n: int
    k: int
    g: int
    b: int
    r: int
    n_dict: int
    version: int = 0
    #: v1: the literal lanes' code and the tokens' code (None in v0)
    code: "LaneCode | None" = None
    tokens: "TokenCode | None" = None

    @property
    def f(self):
        """Bits per stored weight field."""
        return 8 - self.k

    @property
    def symbols(self):
        return -(-self.n // self.g)

    def words(self):
        return [self.n, self.k | self.g << 3 | self.b << 8 | self.r << 12 | self.n_dict << 16
                | self.version << 25]


@dataclass
class Encoded:
    """An encoded tensor: the stream, its bit count (all of it, padding included), the header,
    the dictionary (``n_dict x G`` trimmed values) and the code counts."""
    stream: bytes
    bits: int
    header: Header
    dictionary: np.ndarray
    hits: int
    runs: int
    run_symbols: int
    literals: int
    literal_lanes: np.ndarray

    def ratio(self, baseline_bits_per_weight=8):
        return self.header.n * baseline_bits_per_weight / self.bits

    def huffman_literal_bits(self):
        """Stream bits if literal lanes were Huffman coded with a per-layer table (4-bit code
        lengths for the 2**F values) instead of F bits each: the estimate that led to v1 (a v1
        stream: its bits). Padding is counted as if it were the same."""
        h = self.header
        if h.version:
            return self.bits
        hist = np.bincount(self.literal_lanes & ((1 << h.f) - 1), minlength=1 << h.f)
        coded = int((hist * huffman_lengths(hist)).sum()) + 4 * (1 << h.f)
        return self.bits - self.literals * h.g * h.f + coded


def huffman_lengths(counts):
    """Huffman code lengths of symbols with ``counts`` (0 for symbols never seen; a lone
    symbol gets 1 bit)."""
    counts = np.asarray(counts)
    lengths = np.zeros(counts.size, np.int64)
    live = [(int(c), i, [i]) for i, c in enumerate(counts) if c > 0]
    if len(live) == 1:
        lengths[live[0][2]] = 1
    heapq.heapify(live)
    while len(live) > 1:
        c1, i1, s1 = heapq.heappop(live)
        c2, i2, s2 = heapq.heappop(live)
        lengths[s1 + s2] += 1
        heapq.heappush(live, (c1 + c2, min(i1, i2), s1 + s2))
    return lengths


def limited_lengths(counts, limit=L_MAX):
    """Optimal prefix-code lengths of symbols with ``counts``, none longer than ``limit``:
    Huffman's when they fit, else package-merge (Larmore and Hirschberg). 0 for a symbol never
    seen; a lone symbol gets 1 bit."""
    counts = np.asarray(counts)
    lengths = huffman_lengths(counts)
    if lengths.max(initial=0) <= limit:
        return lengths
    used = np.flatnonzero(counts > 0)
    if used.size > 1 << limit:
        raise ValueError(f"{used.size} symbols do not fit codes of at most {limit} bits")
    leaves = sorted((int(counts[i]), int(i), (int(i),)) for i in used)
    row = leaves
    for _ in range(limit - 1):
        packages = [(a[0] + b[0], a[1], a[2] + b[2]) for a, b in zip(row[::2], row[1::2])]
        row = sorted(leaves + packages, key=lambda x: x[0])      # stable: leaves first on ties
    lengths[:] = 0
    for _, _, members in row[:2 * used.size - 2]:
        np.add.at(lengths, list(members), 1)
    return lengths


@dataclass(frozen=True)
class LaneCode:
    """A canonical prefix code of the ``F``-bit literal lane fields of an HC-P v1 stream.

    ``counts[l - 1]`` codes have ``l`` bits (``l`` = 1 .. ``len(counts)`` <= :data:`L_MAX`);
    ``values`` are the field values (two's complement, ``0 .. 2**F - 1``) in code order. The
    codes of each length follow those of the length before it: the first code of length 1 is 0,
    that of length ``l + 1`` is (first code of ``l`` + ``counts[l - 1]``) << 1, and the values
    take them in order. An incomplete code (fewer codes than the lengths leave room for) is
    allowed; the codes it leaves out are malformed.
    """

    counts: tuple = ()
    values: tuple = ()

    @classmethod
    def of(cls, fields, f):
        """The code of least total length for the field values ``fields`` (length-limited),
        values of each length in increasing order."""
        lengths = limited_lengths(np.bincount(np.asarray(fields, np.int64), minlength=1 << f))
        used = np.flatnonzero(lengths)
        order = used[np.lexsort((used, lengths[used]))]
        top = int(lengths.max(initial=0))
        return cls(tuple(int(c) for c in np.bincount(lengths[used], minlength=top + 1)[1:]),
                   tuple(int(v) for v in order))

    @property
    def longest(self):
        return len(self.counts)

    def limits(self):
        """Per length ``l``: (first code, first code + count, index of the first code)."""
        out, first, base = [], 0, 0
        for c in self.counts:
            out.append((first, first + c, base))
            first, base = (first + c) << 1, base + c
        return out

    def codes(self, f, size=None):
        """``(code, length)`` arrays over the ``2**F`` field values (or ``size`` values; length
        0: no code)."""
        size = 1 << f if size is None else size
        code, length = np.zeros(size, np.int64), np.zeros(size, np.int64)
        at = 0
        for bits_l, (first, _, _) in enumerate(self.limits(), 1):
            n = self.counts[bits_l - 1]
            vals = list(self.values[at:at + n])
            code[vals], length[vals] = first + np.arange(n), bits_l
            at += n
        return code, length

    def table(self, f):
        """``(values, lengths)`` of the table's fields as the stream carries them."""
        vals = [self.longest, *self.counts, *self.values]
        return vals, [4] + [f + 1] * self.longest + [f] * len(self.values)

    def lookup(self):
        """Per :data:`L_MAX`-bit window (a lane code MSB aligned, what follows after it): the
        code's length (0: no code of this table starts so) and its index into ``values``."""
        w = np.arange(1 << L_MAX)
        length = np.zeros(w.size, np.int64)
        index = np.zeros(w.size, np.int64)
        for bits_l, (first, end, base) in enumerate(self.limits(), 1):
            top = w >> (L_MAX - bits_l)
            hit = (length == 0) & (top < end)
            length[hit], index[hit] = bits_l, base + top[hit] - first
        return length, index


#: ``lit`` / ``run`` of a :class:`TokenCode` without that token
NO_TOKEN = 511


@dataclass(frozen=True)
class TokenCode:
    """The canonical prefix code of an HC-P v1 stream's tokens: one token per dictionary entry
    (a hit on it), one for a literal, one for a run.

    ``counts[l - 1]`` tokens have codes of ``l`` bits, taken in code order as
    :class:`LaneCode`'s values are (the token of code index ``i`` is the ``i``-th); ``lit`` and
    ``run`` are the code indices of the literal and the run token (:data:`NO_TOKEN`: the stream
    has none). Every other index is a hit: on dictionary entry ``i - (i > lit) - (i > run)``,
    so the dictionary is stored in the order of its codes and a hit needs no lookup.
    """

    counts: tuple
    lit: int = NO_TOKEN
    run: int = NO_TOKEN

    @property
    def total(self):
        return sum(self.counts)

    @property
    def longest(self):
        return len(self.counts)

    def code(self):
        """The code as a :class:`LaneCode` whose values are the code indices."""
        return LaneCode(self.counts, tuple(range(self.total)))

    def table(self):
        """``(values, lengths)`` of the token table's fields: ``Lt`` (4 bits), the counts
        (9 bits each), ``lit`` and ``run`` (9 bits each)."""
        vals = [len(self.counts), *self.counts, self.lit, self.run]
        return vals, [4] + [9] * len(self.counts) + [9, 9]

    def entry(self, index):
        """The dictionary entry a hit of code index ``index`` reads."""
        return index - (index > self.lit) - (index > self.run)


def _check(name, value):
    if value not in LIMITS[name]:
        r = LIMITS[name]
        raise ValueError(f"{name} must be in {r.start}..{r.stop - 1}, not {value!r}")


def quantise(w, scale=None, axis=None):
    """``(q, s)``: int8 symmetric quantisation of ``w`` with scale ``s`` (``max|w| / 127`` unless
    given, e.g. one scale for a whole network); an all-zero ``w`` gets ``s = 1``.

    With ``axis``, one scale per index along it (per output channel): ``s`` is a float64 array
    of ``w.shape[axis]`` scales, each ``max|w_c| / 127`` (1 for an all-zero channel), and
    ``q[..., c, ...] = round(w[..., c, ...] / s[c])``. The stream carries ``q`` only: the scales
    belong to the requantiser after the engine, and travel beside the stream (:mod:`.dict_file`).
    """
    w = np.asarray(w, dtype=np.float64)
    if axis is not None:
        if scale is not None:
            raise ValueError("give a scale or an axis, not both")
        moved = np.moveaxis(w, axis, 0)
        s = np.abs(moved.reshape(moved.shape[0], -1)).max(axis=1, initial=0.0) / 127
        s[~(s > 0)] = 1.0
        shape = [1] * w.ndim
        shape[axis] = -1
        return np.clip(np.round(w / s.reshape(shape)), -127, 127).astype(np.int8), s
    s = float(scale) if scale is not None else float(np.abs(w).max(initial=0.0)) / 127
    if not s > 0:
        s = 1.0
    return np.clip(np.round(w / s), -127, 127).astype(np.int8), s


def trim(q, k):
    """Trim the ``k`` least-significant magnitude bits of int8 ``q`` toward zero."""
    _check("k", k)
    q = np.asarray(q, dtype=np.int16)
    return (np.sign(q) * ((np.abs(q) >> k) << k)).astype(np.int8)


def load_order(kernel, layout="keras"):
    """1-D load order of a kernel: filter-major (output channel / neuron slowest). ``layout``:
    ``keras`` (..., out) as stored by Keras, or ``torch`` (out, ...)."""
    kernel = np.asarray(kernel)
    if layout == "keras":
        return np.moveaxis(kernel, -1, 0).reshape(-1)
    if layout == "torch":
        return kernel.reshape(-1)
    raise ValueError(f"layout must be keras or torch, not {layout!r}")


def symbols(t, g):
    """``(S, g)`` symbols of the 1-D trimmed weights ``t``, the last zero-padded."""
    t = np.asarray(t, dtype=np.int8).reshape(-1)
    pad = -t.size % g
    return np.concatenate([t, np.zeros(pad, np.int8)]).reshape(-1, g)


def dictionary(syms, b):
    """The dictionary of ``syms``: ``(n_dict, G)`` symbols, and for every distinct symbol its
    index in it (-1 when not in it), and the symbols' ids (index into the distinct ones)."""
    uniq, first, ids, counts = np.unique(syms, axis=0, return_index=True, return_inverse=True,
                                         return_counts=True)
    ids = ids.reshape(-1)
    keep = np.flatnonzero(counts >= 2)
    keep = keep[np.lexsort((first[keep], -counts[keep]))][:1 << b]
    where = np.full(len(uniq), -1)
    where[keep] = np.arange(keep.size)
    return uniq[keep], where, ids


def _fields(values, f):
    """Two's complement ``f``-bit fields of trimmed values (already shifted right by k)."""
    return np.asarray(values, dtype=np.int64) & ((1 << f) - 1)


def encode(t, k, g=4, b=4, r=4, version=0):
    """Encode trimmed int8 weights ``t`` (1-D, load order; multiples of ``2**k``) as an HC-P
    stream of ``version`` 0 (literal lanes raw) or 1 (literal lanes prefix coded)."""
    for name, v in (("k", k), ("g", g), ("b", b), ("r", r)):
        _check(name, v)
    if version not in VERSIONS:
        raise ValueError(f"version must be 0 or 1, not {version!r}")
    t = np.asarray(t).reshape(-1)
    if t.size == 0 or t.size >= 1 << 32:
        raise ValueError(f"N must be in 1..2**32 - 1, not {t.size}")
    if np.abs(t.astype(np.int64)).max() > 127 or (t.astype(np.int64) % (1 << k)).any():
        raise ValueError(f"weights must be int8 in -127..127 trimmed by k={k} (multiples of "
                         f"{1 << k}); use trim(quantise(w)[0], k)")
    syms = symbols(t, g)
    entries, where, ids = dictionary(syms, b)
    f = 8 - k

    # greedy: segments of equal consecutive symbols; the head is a hit or a literal, the rest
    # runs of at most 2**R
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]]) if r else np.arange(len(ids))
    seg_len = np.diff(np.r_[starts, len(ids)])
    cap = 1 << r
    n_runs = -(-(seg_len - 1) // cap) if r else np.zeros_like(seg_len)
    per_seg = 1 + n_runs
    seg = np.repeat(np.arange(starts.size), per_seg)
    pos = np.arange(seg.size) - np.repeat(np.cumsum(per_seg) - per_seg, per_seg)
    head_sym = ids[starts[seg]]
    is_run = pos > 0
    is_hit = ~is_run & (where[head_sym] >= 0)
    is_lit = ~is_run & ~is_hit
    run_len = np.minimum(cap, seg_len[seg] - 1 - (pos - 1) * cap)

    lanes = _fields(syms[starts[seg[is_lit]]] >> k, f)
    head, table = Header(t.size, k, g, b, r, len(entries)), ([], [])
    if version:
        head, table, entries, values, lengths = _v1_codes(
            head, entries, np.where(is_hit, where[head_sym], -1), is_run, run_len, is_lit,
            lanes)
    else:
        # one row of fields per code: a prefix-and-value field, then G lane fields (literals)
        values = np.zeros((seg.size, 1 + g), np.int64)
        lengths = np.zeros((seg.size, 1 + g), np.int64)
        values[is_hit, 0] = (1 << b) | where[head_sym[is_hit]]
        lengths[is_hit, 0] = 1 + b
        values[is_run, 0] = (1 << r) | (run_len[is_run] - 1)
        lengths[is_run, 0] = 2 + r
        lengths[is_lit, 0] = 2 if r else 1
        values[is_lit, 1:], lengths[is_lit, 1:] = lanes, f

    dict_vals = _fields(entries.astype(np.int64) >> k, f).reshape(-1)
    all_values = np.concatenate([head.words(), np.asarray(table[0], np.int64), dict_vals,
                                 values.reshape(-1)])
    all_lengths = np.concatenate([[32, 32], np.asarray(table[1], np.int64),
                                  np.full(dict_vals.size, f), lengths.reshape(-1)])
    stream = pack_codes(all_values, all_lengths, word_bits=WORD_BITS)
    return Encoded(stream, len(stream) * 8, head, entries, int(is_hit.sum()),
                   int(is_run.sum()), int(run_len[is_run].sum()), int(is_lit.sum()),
                   (syms[starts[seg[is_lit]]].astype(np.int64) >> k).reshape(-1))


def _v1_codes(head, entries, hit, is_run, run_len, is_lit, lanes):
    """The v1 header, table fields, dictionary and per-code fields (token, run length, lane
    codes) of codes already chosen: ``hit`` the entry of each hit (-1 for the others)."""
    k, g, r, f = head.k, head.g, head.r, head.f
    hits = np.bincount(hit[hit >= 0], minlength=len(entries))
    kept = np.flatnonzero(hits)                   # entries never hit are left out
    n_e = kept.size
    counts = np.r_[hits[kept], is_lit.sum(), is_run.sum()]
    lengths = limited_lengths(counts)
    used = np.flatnonzero(lengths)
    order = used[np.lexsort((used, lengths[used]))]          # token ids in code order
    canon = np.full(n_e + 2, -1)
    canon[order] = np.arange(order.size)
    per_length = np.bincount(lengths[order], minlength=int(lengths.max()) + 1)[1:]
    tokens = TokenCode(tuple(int(c) for c in per_length),
                       int(canon[n_e]) if counts[n_e] else NO_TOKEN,
                       int(canon[n_e + 1]) if counts[n_e + 1] else NO_TOKEN)
    lane_code = LaneCode.of(lanes.reshape(-1), f)
    t_code, t_len = tokens.code().codes(0, order.size)
    token = np.full(len(entries) + 1, -1)           # (+ 1: an empty dictionary)
    token[kept] = np.arange(n_e)
    index = canon[np.where(is_lit, n_e, np.where(is_run, n_e + 1, token[np.maximum(hit, 0)]))]
    values = np.zeros((is_run.size, 2 + g), np.int64)
    widths = np.zeros((is_run.size, 2 + g), np.int64)
    values[:, 0], widths[:, 0] = t_code[index], t_len[index]
    values[is_run, 1], widths[is_run, 1] = run_len[is_run] - 1, r
    l_code, l_len = lane_code.codes(f)
    values[is_lit, 2:], widths[is_lit, 2:] = l_code[lanes], l_len[lanes]
    tv, tl = tokens.table()
    lv, ll = lane_code.table(f)
    head = Header(head.n, k, g, head.b, r, n_e, 1, lane_code, tokens)
    return head, (tv + lv, tl + ll), entries[kept[order[order < n_e]]], values, widths


def _read_header(bits):
    n = bits.take(32, "the header")
    h1 = bits.take(32, "the header")
    head = Header(n, h1 & 7, h1 >> 3 & 31, h1 >> 8 & 15, h1 >> 12 & 15, h1 >> 16 & 511, h1 >> 25)
    if head.version not in VERSIONS:
        raise ValueError(f"header: version {head.version}, only 0 and 1 are known")
    if n == 0:
        raise ValueError("header: N = 0")
    for name in ("k", "g", "b", "r"):
        if getattr(head, name) not in LIMITS[name]:
            r = LIMITS[name]
            raise ValueError(f"header: {name} = {getattr(head, name)}, allowed "
                             f"{r.start}..{r.stop - 1}")
    if head.n_dict > 1 << head.b:
        raise ValueError(f"header: n_dict = {head.n_dict} > 2**B = {1 << head.b}")
    return head


def _restore(fields, head):
    """The trimmed weights (int64) that ``F``-bit two's complement ``fields`` hold."""
    half = 1 << (head.f - 1)
    return ((np.asarray(fields, np.int64) ^ half) - half) << head.k


def _lanes(stream, positions, head):
    """The trimmed weights (int8) held by the ``F``-bit fields at ``positions``."""
    return _restore(windows(stream, positions, head.f), head).astype(np.int8)


def _cut(what, pos, need, nbits):
    """The ``ValueError`` of :class:`BitReader` when the stream ends inside a field."""
    return ValueError(f"stream ends inside {what} at bit {pos} (needs {need} bits, "
                      f"{nbits - pos} left)")


@cache
def _code_tables(g, f, b, r):
    """Length in bits and symbols covered of the code whose first 10 bits (MSB aligned; a run's
    ``2 + R`` bits at most) are the index: two 1024-entry tables."""
    w = np.arange(1 << 10)
    run = (w >> 8 == 0b01) & (r > 0)
    length = np.where(w >> 9, 1 + b, np.where(run, 2 + r, (2 if r else 1) + g * f))
    symbols = np.where(run, ((w >> (8 - r)) & ((1 << r) - 1)) + 1, 1)
    return length.astype(np.uint8), symbols.astype(np.uint16)


def _code_starts(stream, start, head):
    """Bit positions of the codes from bit ``start`` of ``stream`` until they cover
    ``head.symbols`` symbols or reach the end, and the bit after the last one.

    A chase over two per-bit tables, the length of the code that would start there and the
    symbols it covers; bits past the end read as 0.
    """
    first = start // 8
    t_len, t_sym = _code_tables(head.g, head.f, head.b, head.r)
    window = bit_windows(stream[first:], 10, 8 * (len(stream) - first))
    c1, s1 = t_len[window].tobytes(), memoryview(t_sym[window])
    end, wanted, q, j = 8 * (len(stream) - first), head.symbols, start - 8 * first, 0
    starts = []
    add = starts.append
    while j < wanted and q < end:
        add(q)
        j += s1[q]
        q += c1[q]
    return np.asarray(starts, np.int64) + 8 * first, 8 * first + q


def _read_counts(bits, width, what):
    """``L`` (4 bits) then ``L`` counts of ``width`` bits of a canonical code's table at
    ``bits``' position, checked to leave a prefix code."""
    at = bits.pos
    longest = bits.take(4, what)
    if longest > L_MAX:
        raise ValueError(f"{what} at bit {at}: L = {longest} > {L_MAX}")
    counts, room = [], 0
    for bits_l in range(1, longest + 1):
        at = bits.pos
        counts.append(bits.take(width, what))
        room += counts[-1]
        if room > 1 << bits_l:
            raise ValueError(f"{what} at bit {at}: the codes of at most {bits_l} bits need "
                             f"{room} of the {1 << bits_l} {bits_l}-bit patterns (not a prefix "
                             "code)")
        room <<= 1
    return tuple(counts)


def _read_table(bits, head):
    """The v1 token and literal code tables at ``bits``' position: the header with them."""
    counts = _read_counts(bits, 9, "the token code table")
    at = bits.pos
    lit, run = bits.take(9, "the token code table"), bits.take(9, "the token code table")
    tokens = TokenCode(counts, lit, run)
    named = [(name, i) for name, i in (("literal", lit), ("run", run)) if i != NO_TOKEN]
    for name, i in named:
        if i >= tokens.total:
            raise ValueError(f"token code table at bit {at}: the {name} token is code "
                             f"{i}, the table has {tokens.total} codes")
    if len(named) == 2 and lit == run:
        raise ValueError(f"token code table at bit {at}: literal and run share code {lit}")
    if run != NO_TOKEN and not head.r:
        raise ValueError(f"token code table at bit {at}: a run token with R = 0")
    if tokens.total != head.n_dict + len(named):
        raise ValueError(f"token code table at bit {at}: {tokens.total} codes for "
                         f"{head.n_dict} dictionary entries and {len(named)} other tokens")
    lane_counts = _read_counts(bits, head.f + 1, "the literal code table")
    values, seen = [], set()
    for _ in range(sum(lane_counts)):
        at = bits.pos
        values.append(bits.take(head.f, "the literal code table"))
        if values[-1] in seen:
            raise ValueError(f"literal code table at bit {at}: value {values[-1]} twice")
        seen.add(values[-1])
    return Header(head.n, head.k, head.g, head.b, head.r, head.n_dict, 1,
                  LaneCode(lane_counts, tuple(values)), tokens)


def _decode_v1(stream, head, pos, entries):
    """The symbols of a v1 stream's codes from bit ``pos``: code by code, with the token and
    lane codes' lengths and indices looked up at every bit."""
    nbits, g, r = 8 * len(stream), head.g, head.r
    tokens, lane_code = head.tokens, head.code
    value = _restore(lane_code.values + (0,), head)
    w = bit_windows(stream, L_MAX, nbits)
    length, index = lane_code.lookup()
    lane_len, lane_val = length[w].tolist(), value[np.minimum(index[w], len(value) - 1)].tolist()
    length, index = tokens.code().lookup()
    tok_len, tok_idx = length[w].tolist(), index[w].tolist()
    run_len = bit_windows(stream, max(r, 1), nbits).tolist()
    entries = [tuple(e) for e in entries.tolist()]
    out, wanted, q = [], head.symbols, pos

    def code_at(p, lengths, code, what):
        """The length of the ``what`` code at bit ``p``; ``ValueError`` if there is none."""
        n = lengths[p] if p < nbits else 0
        if p + (n or code.longest or 1) > nbits:
            raise ValueError(f"stream ends inside {what} at bit {p} ({nbits - p} bits left)")
        if not n:
            raise ValueError(f"{what[2:]} at bit {p}: no code of the table starts so")
        return n

    while len(out) < wanted:
        n = code_at(q, tok_len, tokens, "a token")
        i, p = tok_idx[q], q + n
        if i == tokens.run:
            if p + r > nbits:
                raise _cut("a run length", p, r, nbits)
            count = run_len[p] + 1
            if not out:
                raise ValueError(f"run at bit {q}: no symbol before it")
            if len(out) + count > wanted:
                raise ValueError(f"run at bit {q}: {count} symbols, only "
                                 f"{wanted - len(out)} left")
            out += [out[-1]] * count
            q = p + r
        elif i == tokens.lit:
            lanes = []
            for _ in range(g):
                n = code_at(p, lane_len, lane_code, "a literal lane")
                lanes.append(lane_val[p])
                p += n
            out.append(tuple(lanes))
            q = p
        else:
            out.append(entries[tokens.entry(i)])
            q = p
    return np.array(out, np.int8).reshape(-1, g), q


def decode_symbols(stream):
    """``(symbols (S, G) int8, header)`` of an HC-P stream; ``ValueError`` naming the fault
    and its bit for a malformed one.

    Vectorised: the code boundaries are found by a chase over per-bit tables of code length and
    symbols covered, then every code is read at once and hits, runs and literals are expanded
    with fancy indexing and ``np.repeat``. The first fault in stream order is reported, with
    the message a code-by-code reader gives.
    """
    stream = bytes(stream)
    if len(stream) % 4:
        raise ValueError(f"a stream is whole 32-bit words, not {len(stream)} bytes")
    bits = BitReader(stream[:8])
    head = _read_header(bits)
    nbits, g, f, pos = 8 * len(stream), head.g, head.f, 64
    if head.version:
        bits = BitReader(stream)
        bits.pos = pos
        head = _read_table(bits, head)
        pos = bits.pos
    fields = head.n_dict * g
    if pos + fields * f > nbits:
        k = (nbits - pos) // f                         # the first field that does not fit
        raise _cut(f"dictionary entry {k // g}", pos + k * f, f, nbits)
    entries = _lanes(stream, pos + f * np.arange(fields), head).reshape(-1, g)
    if head.version:
        syms, end = _decode_v1(stream, head, pos + fields * f, entries)
        _check_padding(stream, end)
        return syms, head
    at, end = _code_starts(stream, pos + fields * f, head)
    prefix = windows(stream, at, 2)
    hit = prefix >= 0b10
    run = prefix == 0b01 if head.r else np.zeros(at.size, bool)
    index = windows(stream, at + 1, head.b)
    count = np.where(run, windows(stream, at + 2, max(head.r, 1)) + 1, 1)
    before = np.cumsum(count) - count                  # symbols decoded before each code
    bad = (hit & (index >= head.n_dict)) | (run & ((np.arange(at.size) == 0) |
                                                   (before + count > head.symbols)))
    first = int(np.argmax(bad)) if bad.any() else at.size
    if end > nbits and first >= at.size - 1:           # the last code is cut off
        q = int(at[-1])
        if hit[-1]:
            raise _cut("a hit index", q + 1, head.b, nbits)
        if head.r and q + 1 >= nbits:
            raise _cut("a code", q + 1, 1, nbits)
        if run[-1]:
            raise _cut("a run length", q + 2, head.r, nbits)
        lane = q + (2 if head.r else 1) + f * np.arange(g)
        pos = int(lane[np.argmax(lane + f > nbits)])
        raise _cut("a literal", pos, f, nbits)
    if first < at.size:
        q = int(at[first])
        if hit[first]:
            raise ValueError(f"hit at bit {q}: index {int(index[first])}, dictionary has "
                             f"{head.n_dict}")
        if first == 0:
            raise ValueError(f"run at bit {q}: no symbol before it")
        raise ValueError(f"run at bit {q}: {int(count[first])} symbols, only "
                         f"{head.symbols - int(before[first])} left")
    if at.size == 0 or before[-1] + count[-1] < head.symbols:
        raise _cut("a code", end, 1, nbits)
    _check_padding(stream, end)
    literal = ~hit & ~run
    syms = np.empty((at.size, g), np.int8)
    syms[hit] = entries[index[hit]]
    lanes = at[literal, None] + (2 if head.r else 1) + f * np.arange(g)
    syms[literal] = _lanes(stream, lanes.reshape(-1), head).reshape(-1, g)
    source = np.maximum.accumulate(np.where(run, 0, np.arange(at.size)))   # runs repeat it
    return np.repeat(syms[source], count, axis=0), head


def _check_padding(stream, end):
    """``ValueError`` unless the bits from ``end`` are at most 31 zeros."""
    nbits = 8 * len(stream)
    if nbits - end >= WORD_BITS or (nbits > end and windows(stream, [end], nbits - end)[0]):
        raise ValueError(f"{nbits - end} bits after the last code at bit {end} (at most "
                         f"{WORD_BITS - 1} zero padding bits allowed)")


def decode(stream):
    """``(trimmed int8 weights (N,), header)`` of an HC-P stream."""
    syms, head = decode_symbols(stream)
    return syms.reshape(-1)[:head.n], head


def check_engine(head, g, b_max, r_max, v=1):
    """``ValueError`` when a stream's header is outside an engine elaborated for ``g`` lanes,
    dictionaries of up to ``2**b_max`` entries, run fields of up to ``r_max`` bits and HC-P
    versions up to ``v``."""
    if head.version > v:
        raise ValueError(f"header: version {head.version}, the engine decodes up to v{v}")
    if head.g != g:
        raise ValueError(f"header: G = {head.g}, the engine has {g} lanes")
    if head.b > b_max:
        raise ValueError(f"header: B = {head.b} > the engine's B_max = {b_max}")
    if head.r > r_max:
        raise ValueError(f"header: R = {head.r} > the engine's R = {r_max}")
