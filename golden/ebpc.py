"""Bit-exact golden model of EBPC (Cavigelli et al., JETCAS 2019), both directions.

The stream format is described in ``docs/ebpc-format.md``. Words are split into two streams:

* ZNZ: one zero / non-zero flag per word, zero runs of up to 16 coded as ``0`` + (k-1) in 4 bits,
  a non-zero word as ``1``;
* BPC: the non-zero words, padded with zero values to whole blocks of ``block_size``, each block
  coded as its base word followed by the codes of its ``word_bits + 1`` delta-bit-plane XOR
  (DBX) symbols.

Every stage is a function of its own (``zero_run_codes``, ``nonzero_blocks``, ``block_deltas``,
``bit_planes``, ``dbx``, ``symbol_codes``, ``pack_codes`` and, decoding, ``znz_flags``,
``parse_bpc``, ``decode_symbols``, ``planes_from_symbols``, ``deltas_from_planes``,
``words_from_deltas``, ``merge``) working on whole numpy arrays; :func:`encode` and
:func:`decode` chain them. Decoding a malformed stream raises :class:`ValueError` naming the
fault and its byte and bit.
"""

from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from types import SimpleNamespace

import numpy as np

from .bitstream import bit_location, pack_codes, padded_bits, windows

__all__ = [
    "EBPCParams", "MAX_WORDS", "ZNZ_MAX_RUN", "SymbolClass",
    "zero_run_codes", "nonzero_blocks", "block_deltas", "bit_planes", "dbx", "symbol_codes",
    "block_codes", "encode",
    "znz_flags", "parse_bpc", "decode_symbols", "planes_from_symbols", "deltas_from_planes",
    "words_from_deltas", "merge", "decode", "stats",
]

#: largest transfer (the decoder takes N - 1 on 24 bits)
MAX_WORDS = 1 << 24
#: longest zero run coded by one ZNZ code
ZNZ_MAX_RUN = 16
ZNZ_RUN_BITS = 4


@dataclass(frozen=True)
class EBPCParams:
    """Word width ``word_bits`` (8 or 16) and block size ``block_size`` (8 or 16).

    Raises
    ------
    ValueError
        If either is not 8 or 16.
    """

    word_bits: int = 8
    block_size: int = 8

    def __post_init__(self):
        if self.word_bits not in (8, 16):
            raise ValueError(f"word_bits must be 8 or 16, not {self.word_bits!r}")
        if self.block_size not in (8, 16):
            raise ValueError(f"block_size must be 8 or 16, not {self.block_size!r}")

    @property
    def planes(self):
        """Symbols per block: one per bit of a (word_bits + 1)-bit delta."""
        return self.word_bits + 1

    @property
    def plane_bits(self):
        """Bits per plane: one per delta of the block."""
        return self.block_size - 1

    @property
    def run_bits(self):
        """Width of the zero-run length field, ceil(log2(word_bits))."""
        return (self.word_bits - 1).bit_length()

    @property
    def pos_bits(self):
        """Width of the position field, ceil(log2(block_size))."""
        return (self.block_size - 1).bit_length()

    @property
    def word_bytes(self):
        return self.word_bits // 8

    @property
    def dtype(self):
        return np.dtype(np.int8 if self.word_bits == 8 else np.int16)


class SymbolClass(IntEnum):
    """The code classes of a DBX symbol, in the spec's order of precedence."""

    ZERO_RUN = 0      # X = 0, merged into runs: 01 / 001 + (k - 2)
    ALL_ONES = 1      # 00000
    PLANE_ZERO = 2    # 00001: P = 0
    TWO_ONES = 3      # 00010 + position of the left one
    SINGLE_ONE = 4    # 00011 + position
    RAW = 5           # 1 + X


# ------------------------------------------------------------------------------------------------
# encoder stages


def _as_words(words, p):
    """Flatten ``words`` (C order) to int64, checking dtype, range and length."""
    arr = np.asarray(words)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"words must be an integer array, not dtype {arr.dtype}")
    flat = arr.reshape(-1).astype(np.int64)
    lo, hi = -(1 << (p.word_bits - 1)), (1 << (p.word_bits - 1)) - 1
    if flat.size and (flat.min() < lo or flat.max() > hi):
        raise ValueError(f"words must be signed {p.word_bits}-bit values in {lo}..{hi}, "
                         f"found {int(flat.min())}..{int(flat.max())}")
    if not 1 <= flat.size <= MAX_WORDS:
        raise ValueError(f"a transfer must hold 1..{MAX_WORDS} words, not {flat.size}")
    return flat


def zero_run_codes(words):
    """ZNZ stage: one code per word position, ``(values, lengths)``, in word order.

    A non-zero word gives ``1`` (1 bit); the word that opens a zero run, and every 16th zero of
    it, gives ``0`` + (k - 1) on 4 bits (5 bits) for the k <= 16 zeros it covers; the other zeros
    give nothing (length 0).
    """
    nz = np.asarray(words).reshape(-1) != 0
    values = nz.astype(np.uint8)
    lengths = values.copy()
    edges = np.diff(np.concatenate([[1], nz.view(np.int8), [1]]).astype(np.int8))
    run_start = np.flatnonzero(edges == -1)
    run_len = np.flatnonzero(edges == 1) - run_start
    chunks = -(-run_len // ZNZ_MAX_RUN)
    first = np.repeat(np.cumsum(chunks) - chunks, chunks)
    index = np.arange(int(chunks.sum())) - first            # chunk number inside its run
    pos = np.repeat(run_start, chunks) + ZNZ_MAX_RUN * index
    k = np.minimum(ZNZ_MAX_RUN, np.repeat(run_start + run_len, chunks) - pos)
    values[pos] = k - 1
    lengths[pos] = 1 + ZNZ_RUN_BITS
    return values, lengths


def nonzero_blocks(words, p):
    """The non-zero words in order, padded with zero values to whole blocks: ``(B, block_size)``."""
    flat = np.asarray(words).reshape(-1).astype(np.int64)
    nz = flat[flat != 0]
    nblocks = -(-nz.size // p.block_size)
    out = np.zeros(nblocks * p.block_size, dtype=np.int64)
    out[:nz.size] = nz
    return out.reshape(nblocks, p.block_size)


def block_deltas(blocks, p):
    """Base and deltas of each block: ``(base, deltas)``.

    ``base`` is word 0 as an unsigned ``word_bits`` pattern; ``deltas[:, i-1]`` is x_i - x_(i-1)
    computed exactly and stored as an unsigned (word_bits + 1)-bit two's complement pattern.
    """
    blocks = np.asarray(blocks, dtype=np.int64)
    base = blocks[:, 0] & ((1 << p.word_bits) - 1)
    deltas = np.diff(blocks, axis=1) & ((1 << (p.word_bits + 1)) - 1)
    return base, deltas


def bit_planes(deltas, p):
    """Delta bit-planes ``(B, word_bits + 1)``: plane b holds bit b of d1..d(n-1), d1 at the MSB."""
    deltas = np.asarray(deltas, dtype=np.int64)
    weights = 1 << np.arange(p.plane_bits - 1, -1, -1, dtype=np.int64)      # d1 -> MSB
    planes = np.empty((len(deltas), p.planes), dtype=np.int64)
    for b in range(p.planes):
        planes[:, b] = ((deltas >> b) & 1) @ weights
    return planes


def dbx(planes):
    """DBX symbols: X_0 = P_0, X_j = P_j XOR P_(j-1)."""
    planes = np.asarray(planes, dtype=np.int64)
    prev = np.concatenate([np.zeros_like(planes[:, :1]), planes[:, :-1]], axis=1)
    return planes ^ prev


def _symbol_tables(p):
    """Per value of X: the class, code value and code length of a non-zero symbol (computed
    once per plane width, read-only)."""
    return _symbol_tables_for(p.plane_bits, p.pos_bits)


@cache
def _symbol_tables_for(plane_bits, pos_bits):
    p = SimpleNamespace(plane_bits=plane_bits, pos_bits=pos_bits)
    x = np.arange(1 << p.plane_bits, dtype=np.int64)
    full = (1 << p.plane_bits) - 1
    ones = np.array([bin(v).count("1") for v in x.tolist()])
    lead = np.array([p.plane_bits - v.bit_length() for v in x.tolist()])   # position of left 1
    adjacent = (ones == 2) & ((x & (x >> 1)) != 0)
    cls = np.full(x.shape, SymbolClass.RAW, dtype=np.int64)
    cls[ones == 1] = SymbolClass.SINGLE_ONE
    cls[adjacent] = SymbolClass.TWO_ONES
    cls[x == full] = SymbolClass.ALL_ONES
    cls[0] = SymbolClass.ZERO_RUN
    value = np.select(
        [cls == SymbolClass.ALL_ONES, cls == SymbolClass.TWO_ONES, cls == SymbolClass.SINGLE_ONE],
        [0b00000, (0b00010 << p.pos_bits) | lead, (0b00011 << p.pos_bits) | lead],
        (1 << p.plane_bits) | x)
    length = np.select(
        [cls == SymbolClass.ALL_ONES,
         (cls == SymbolClass.TWO_ONES) | (cls == SymbolClass.SINGLE_ONE)],
        [5, 5 + p.pos_bits], 1 + p.plane_bits)
    for table in (cls, value, length):
        table.flags.writeable = False
    return cls, value, length


def symbol_codes(x, planes, p):
    """Symbol coder: ``(classes, values, lengths)`` of shape ``(B, word_bits + 1)``.

    Zero symbols are merged into runs: the first symbol of a run carries its code (``01`` for a
    run of 1, ``001`` + (k - 2) on ``run_bits`` bits otherwise), the others have length 0.
    """
    x = np.asarray(x, dtype=np.int64)
    planes = np.asarray(planes, dtype=np.int64)
    t_cls, t_val, t_len = _symbol_tables(p)
    cls, val, length = t_cls[x], t_val[x], t_len[x]
    # row 3 of the code table: P = 0, unless row 1 or 2 (X = 0, X = all ones) matched first
    plane_zero = (planes == 0) & (x != 0) & (x != (1 << p.plane_bits) - 1)
    cls = np.where(plane_zero, SymbolClass.PLANE_ZERO, cls)
    val = np.where(plane_zero, 0b00001, val)
    length = np.where(plane_zero, 5, length)
    # zero runs, never crossing a block
    zero = x == 0
    opens = zero & ~np.concatenate([np.zeros_like(zero[:, :1]), zero[:, :-1]], axis=1)
    run_id = np.cumsum(opens.ravel()) - 1
    run_len = np.bincount(run_id[zero.ravel()], minlength=int(opens.sum()))
    k = np.zeros(x.size, dtype=np.int64)
    k[opens.ravel()] = run_len
    k = k.reshape(x.shape)
    run_val = np.where(k == 1, 0b01, (0b001 << p.run_bits) | np.maximum(k - 2, 0))
    run_len_bits = np.where(k == 1, 2, 3 + p.run_bits)
    val = np.where(zero, np.where(opens, run_val, 0), val)
    length = np.where(zero, np.where(opens, run_len_bits, 0), length)
    return cls, val, length


def block_codes(blocks, p):
    """All codes of the BPC stream, ``(values, lengths)`` of shape ``(B, word_bits + 2)``."""
    base, deltas = block_deltas(blocks, p)
    planes = bit_planes(deltas, p)
    _, val, length = symbol_codes(dbx(planes), planes, p)
    values = np.concatenate([base[:, None], val], axis=1)
    lengths = np.concatenate([np.full((len(base), 1), p.word_bits), length], axis=1)
    return values, lengths


def encode(words, word_bits=8, block_size=8):
    """Compress ``words`` (any shape, flattened in C order) into ``(znz, bpc)`` byte strings.

    Parameters
    ----------
    words : array of int
        Signed ``word_bits``-bit values (int8 for the default), 1 to 2**24 of them.
    word_bits, block_size : int
        8 or 16 each.

    Returns
    -------
    (bytes, bytes)
        The ZNZ and BPC streams, each packed MSB first into ``word_bits``-bit words (16-bit
        words as big-endian byte pairs). The BPC stream is empty when every word is zero.

    Raises
    ------
    ValueError
        For a parameter out of range, a non-integer array, a value out of range or a length
        out of 1..2**24.
    """
    p = EBPCParams(word_bits, block_size)
    flat = _as_words(words, p)
    znz = pack_codes(*zero_run_codes(flat), word_bits=p.word_bits)
    bpc = pack_codes(*block_codes(nonzero_blocks(flat, p), p), word_bits=p.word_bits)
    return znz, bpc


# ------------------------------------------------------------------------------------------------
# decoder stages


def _check_trailing(stream, used_bits, p, name):
    """Raise if ``stream`` holds whole words past the one holding bit ``used_bits - 1``."""
    need = padded_bits(used_bits, p.word_bits) // 8
    if len(stream) > need:
        raise ValueError(f"{name} stream has {len(stream) - need} byte(s) left over after the "
                         f"last needed code, starting at {bit_location(need * 8)}")
    if len(stream) % p.word_bytes:
        raise ValueError(f"{name} stream length {len(stream)} is not a whole number of "
                         f"{p.word_bits}-bit words")


def _znz_code_starts(bits):
    """Bit positions of the ZNZ codes, parsing from bit 0 to the end of ``bits``.

    A ``1`` at a code start is a 1-bit code, so only the ``0`` codes need chasing: the next ``0``
    code starts at the first zero bit at or after the end of the previous one.
    """
    zeros = np.flatnonzero(bits == 0)
    nz = len(zeros)
    # hop[i]: from the 0 code at zeros[i], how many zeros on is the next possible 0 code (1..5)
    padded = np.concatenate([zeros, np.full(ZNZ_RUN_BITS, np.iinfo(np.int64).max)])
    hop = np.ones(nz, dtype=np.uint8)
    for k in range(1, 1 + ZNZ_RUN_BITS):
        hop += padded[k:k + nz] <= zeros + ZNZ_RUN_BITS
    hop = hop.tobytes()
    on_chain = bytearray(nz)
    i = 0
    while i < nz:
        on_chain[i] = 1
        i += hop[i]
    run_pos = zeros[np.frombuffer(on_chain, dtype=bool)]
    start = bits.astype(bool)
    start = np.concatenate([start, np.zeros(1 + ZNZ_RUN_BITS, dtype=bool)])
    for k in range(1, 1 + ZNZ_RUN_BITS):
        start[run_pos + k] = False                # inside a run code's length field
    start[run_pos] = True
    return np.flatnonzero(start[:len(bits)])


def znz_flags(znz, n, p):
    """ZNZ decoder: the ``n`` zero / non-zero flags (bool array) and the bits used.

    Raises
    ------
    ValueError
        If the stream ends before ``n`` flags, a zero run runs past ``n``, or words are left over.
    """
    nbits = len(znz) * 8
    bits = np.unpackbits(np.frombuffer(bytes(znz), dtype=np.uint8))
    starts = _znz_code_starts(bits)
    is_one = bits[starts] == 1
    count = np.where(is_one, 1, windows(znz, starts + 1, ZNZ_RUN_BITS) + 1)
    done = np.cumsum(count)
    last = int(np.searchsorted(done, n))           # first code reaching n flags
    if last == len(starts):
        raise ValueError(f"ZNZ stream ends after {int(done[-1]) if len(done) else 0} of {n} "
                         f"words, at {bit_location(nbits)}")
    end = int(starts[last] + (1 if is_one[last] else 1 + ZNZ_RUN_BITS))
    if end > nbits:
        raise ValueError(f"ZNZ stream cut off inside the code at {bit_location(int(starts[last]))}")
    if done[last] > n:
        raise ValueError(f"ZNZ zero run at {bit_location(int(starts[last]))} runs "
                         f"{int(done[last]) - n} word(s) past N = {n}")
    _check_trailing(znz, end, p, "ZNZ")
    flags = np.repeat(is_one[:last + 1], count[:last + 1])
    return flags, end


_PREFIX_BITS = 8   # enough to know a code's length and symbol count for every parameter set


@cache
def _code_tables(p):
    """Length in bits and symbols covered of the code at each bit offset of each 16-bit window.

    Both tables are ``(65536, 8)`` uint8, indexed ``[window, offset]``: the code starts at bit
    ``offset`` (0 = MSB) of the big-endian 16-bit ``window``.
    """
    w = np.arange(1 << _PREFIX_BITS)
    top5 = w >> 3
    run = ((w >> (_PREFIX_BITS - 3 - p.run_bits)) & ((1 << p.run_bits) - 1)) + 2
    length = np.select(
        [w >> 7 == 1, w >> 6 == 0b01, w >> 5 == 0b001, top5 <= 0b00001],
        [1 + p.plane_bits, 2, 3 + p.run_bits, 5], 5 + p.pos_bits).astype(np.uint8)
    symbols = np.where(w >> 5 == 0b001, run, 1).astype(np.uint8)
    pair = np.arange(1 << 16, dtype=np.uint32)
    prefix = ((pair[:, None] << np.arange(8, dtype=np.uint32)) >> 8) & 0xFF
    return length[prefix], symbols[prefix]


def parse_bpc(bpc, nblocks, p):
    """Code parser: bit positions of each block's base and of every code, and the bits used.

    Returns ``(base_pos, code_pos, end)``. Block starts are found by a chase over per-bit tables
    of code length and symbols covered; the codes inside the blocks are then listed in lockstep
    across blocks.

    Raises
    ------
    ValueError
        If the stream ends inside a block, a zero run crosses a block's end, or words are left
        over.
    """
    nbits = len(bpc) * 8
    if nblocks == 0:
        _check_trailing(bpc, 0, p, "BPC")
        return np.zeros(0, np.int64), np.zeros(0, np.int64), 0
    t_len, t_sym = _code_tables(p)
    # code length and symbols at every bit position (bits past the end read as 0: short codes)
    buf = np.frombuffer(bytes(bpc) + b"\0" * 48, dtype=np.uint8).astype(np.uint16)
    pairs = (buf[:-1] << 8) | buf[1:]
    clen, csym = t_len[pairs].ravel(), t_sym[pairs].ravel()
    c1, s1 = clen.tobytes(), csym.tobytes()
    m, planes = p.word_bits, p.planes
    base_pos = []
    add = base_pos.append
    q = j = 0
    for _ in range(nblocks):
        if q >= nbits:
            break
        add(q)
        q += m
        j = 0
        while j < planes:
            j += s1[q]
            q += c1[q]
        if j > planes or q > nbits:
            break
    base = np.asarray(base_pos, np.int64)
    # the codes of every block, in lockstep across blocks
    code_pos = np.zeros((len(base), planes), np.int64)
    used = np.zeros((len(base), planes), bool)
    pos, cnt = base + m, np.zeros(len(base), np.int64)
    for k in range(planes):
        live = cnt < planes
        code_pos[:, k] = pos
        used[:, k] = live
        safe = np.minimum(pos, len(clen) - 1)
        cnt += np.where(live, csym[safe], 0)
        pos += np.where(live, clen[safe], 0)
    code_pos = code_pos[used]
    if j > planes:
        raise ValueError(f"BPC zero run at {bit_location(int(code_pos[-1]))} "
                         f"(block {len(base_pos) - 1}) covers {j - planes} symbol(s) past the "
                         f"end of the block")
    if q > nbits or len(base_pos) < nblocks:
        whole = len(base_pos) - (1 if q > nbits else 0)
        raise ValueError(f"BPC stream ends after {whole} of {nblocks} blocks, inside block "
                         f"{whole}, at {bit_location(nbits)}")
    _check_trailing(bpc, q, p, "BPC")
    return base, code_pos, q


def decode_symbols(bpc, code_pos, p):
    """Symbol decoder: per code ``(classes, x, symbols)``: the class, the X it gives (0 for runs
    and for ``PLANE_ZERO``) and the number of symbols it covers.

    Raises
    ------
    ValueError
        If a position field points outside the plane.
    """
    w = windows(bpc, code_pos, 24)
    head = lambda k: w >> (24 - k)    # noqa: E731 - the first k bits of each code
    field = lambda k, width: (w >> (24 - k - width)) & ((1 << width) - 1)  # noqa: E731
    pos = field(5, p.pos_bits)
    full = (1 << p.plane_bits) - 1
    conds = [head(1) == 1, head(2) == 0b01, head(3) == 0b001, head(5) == 0b00000,
             head(5) == 0b00001, head(5) == 0b00010]
    cls = np.select(conds, [SymbolClass.RAW, SymbolClass.ZERO_RUN, SymbolClass.ZERO_RUN,
                            SymbolClass.ALL_ONES, SymbolClass.PLANE_ZERO, SymbolClass.TWO_ONES],
                    SymbolClass.SINGLE_ONE)
    bad = ((cls == SymbolClass.TWO_ONES) & (pos > p.plane_bits - 2)) | \
          ((cls == SymbolClass.SINGLE_ONE) & (pos > p.plane_bits - 1))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"BPC position {int(pos[i])} at {bit_location(int(code_pos[i]) + 5)} is "
                         f"outside the {p.plane_bits}-bit plane")
    shift = np.clip(p.plane_bits - 1 - pos, 0, None)
    x = np.select(
        [cls == SymbolClass.RAW, cls == SymbolClass.ALL_ONES, cls == SymbolClass.TWO_ONES,
         cls == SymbolClass.SINGLE_ONE],
        [field(1, p.plane_bits), full, (0b11 << shift) >> 1, 1 << shift], 0)
    symbols = np.where(head(3) == 0b001, field(3, p.run_bits) + 2, 1)
    return cls, x, symbols


def planes_from_symbols(cls, x, symbols, p):
    """Plane rebuilder: expand runs and undo DBX, ``(B, word_bits + 1)`` planes."""
    xs = np.repeat(x, symbols).reshape(-1, p.planes)
    direct = np.repeat(cls == SymbolClass.PLANE_ZERO, symbols).reshape(-1, p.planes)
    planes = np.zeros_like(xs)
    prev = np.zeros(len(xs), dtype=xs.dtype)
    for j in range(p.planes):
        prev = np.where(direct[:, j], 0, xs[:, j] ^ prev)
        planes[:, j] = prev
    return planes


def deltas_from_planes(planes, p):
    """Signed deltas ``(B, block_size - 1)`` from the bit-planes."""
    planes = np.asarray(planes, dtype=np.int64)
    weights = 1 << np.arange(p.planes, dtype=np.int64)                  # plane b -> bit b
    d = np.empty((len(planes), p.plane_bits), dtype=np.int64)
    for i in range(p.plane_bits):                                      # d1 at the MSB
        d[:, i] = ((planes >> (p.plane_bits - 1 - i)) & 1) @ weights
    return np.where(d >= 1 << p.word_bits, d - (1 << (p.word_bits + 1)), d)


def words_from_deltas(base, deltas, p):
    """Delta reverse: blocks of signed words, x_0 = base, x_i = x_(i-1) + d_i wrapping."""
    base = np.asarray(base, dtype=np.int64)
    acc = np.concatenate([base[:, None], deltas], axis=1).cumsum(axis=1)
    mask = (1 << p.word_bits) - 1
    acc &= mask
    return np.where(acc >= 1 << (p.word_bits - 1), acc - (1 << p.word_bits), acc)


def merge(flags, values, p):
    """Zero-run decoder output merge: 0 where a flag is clear, the next value where it is set."""
    out = np.zeros(len(flags), dtype=p.dtype)
    out[flags] = values[:int(np.count_nonzero(flags))]
    return out


def decode(znz, bpc, n, word_bits=8, block_size=8):
    """Decompress ``n`` words from the ``(znz, bpc)`` streams of :func:`encode`.

    Returns
    -------
    numpy.ndarray
        ``n`` words, int8 (or int16 for ``word_bits=16``).

    Raises
    ------
    ValueError
        For parameters out of range or a malformed stream (too short, bytes left over, a zero run
        past N or past a block's end, a position outside the plane); the message names the byte
        and bit.
    """
    p = EBPCParams(word_bits, block_size)
    n = int(n)
    if not 1 <= n <= MAX_WORDS:
        raise ValueError(f"n must be 1..{MAX_WORDS}, not {n}")
    flags, _ = znz_flags(znz, n, p)
    nblocks = -(-int(np.count_nonzero(flags)) // p.block_size)
    base_pos, code_pos, _ = parse_bpc(bpc, nblocks, p)
    cls, x, symbols = decode_symbols(bpc, code_pos, p)
    planes = planes_from_symbols(cls, x, symbols, p)
    base = windows(bpc, base_pos, p.word_bits)
    blocks = words_from_deltas(base, deltas_from_planes(planes, p), p)
    return merge(flags, blocks.ravel(), p)


# ------------------------------------------------------------------------------------------------
# statistics


def stats(words, word_bits=8, block_size=8, per_block=False):
    """What EBPC does to ``words``: sizes, ratio, ZNZ / BPC split and the symbol-class histogram.

    Returns a dict of plain Python values (JSON-ready). ``symbols`` counts DBX symbols per class,
    ``codes`` and ``bits`` the codes and their bits (a zero run is one code). With ``per_block``,
    ``blocks`` lists for every BPC block its base, bits and the class of each symbol.
    """
    p = EBPCParams(word_bits, block_size)
    flat = _as_words(words, p)
    znz_v, znz_l = zero_run_codes(flat)
    blocks = nonzero_blocks(flat, p)
    base, deltas = block_deltas(blocks, p)
    planes = bit_planes(deltas, p)
    cls, _, length = symbol_codes(dbx(planes), planes, p)
    znz_bits, bpc_bits = int(znz_l.sum(dtype=np.int64)), int(length.sum()) + len(base) * p.word_bits
    znz_bytes = padded_bits(znz_bits, p.word_bits) // 8
    bpc_bytes = padded_bits(bpc_bits, p.word_bits) // 8
    raw_bytes = flat.size * p.word_bytes
    out = {
        "word_bits": p.word_bits, "block_size": p.block_size, "n": int(flat.size),
        "zeros": int(np.count_nonzero(flat == 0)), "blocks": len(base),
        "raw_bytes": raw_bytes, "znz_bits": znz_bits, "bpc_bits": bpc_bits,
        "znz_bytes": znz_bytes, "bpc_bytes": bpc_bytes,
        "ratio": raw_bytes / (znz_bytes + bpc_bytes),
        "bits_per_word": (znz_bytes + bpc_bytes) * 8 / flat.size,
        "symbols": {}, "codes": {}, "bits": {"base": len(base) * p.word_bits},
    }
    for c in SymbolClass:
        sel = cls == c
        out["symbols"][c.name.lower()] = int(np.count_nonzero(sel))
        out["codes"][c.name.lower()] = int(np.count_nonzero(sel & (length > 0)))
        out["bits"][c.name.lower()] = int(length[sel].sum())
    if per_block:
        letters = "Z1PTSR"      # zero, all ones, plane zero, two ones, single one, raw
        bits = length.sum(axis=1) + p.word_bits
        sign = 1 << (p.word_bits - 1)
        out["per_block"] = [
            {"block": i, "base": int(b) - 2 * sign if b >= sign else int(b), "bits": int(k),
             "classes": "".join(letters[c] for c in row)}
            for i, (b, k, row) in enumerate(zip(base.tolist(), bits.tolist(), cls.tolist()))]
    return out
