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
:func:`decode` chain them, a bounded piece of the transfer at a time (:data:`CHUNK_WORDS`,
:data:`CHUNK_BYTES`, :data:`ZNZ_CHUNK_BYTES`), so that memory is the input, the output and a few
bytes per word (``make bench-golden`` measures it), whatever the transfer's size. Decoding a
malformed stream raises :class:`ValueError` naming the fault and its byte and bit.
"""

from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np

from .bitstream import CodePacker, bit_location, bit_windows, padded_bits, windows

__all__ = [
    "EBPCParams", "MAX_WORDS", "ZNZ_MAX_RUN", "SymbolClass",
    "CHUNK_WORDS", "CHUNK_BYTES", "ZNZ_CHUNK_BYTES",
    "zero_run_codes", "nonzero_blocks", "block_deltas", "bit_planes", "dbx", "symbol_codes",
    "block_codes", "encode", "encoded_bits",
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
# pieces: encode and decode work on bounded pieces of a transfer, so that their memory is the
# input, the output, one flag per word and temporaries for one piece

#: words per encoder piece, at least ZNZ_MAX_RUN (a piece ends where no ZNZ code spans the
#: cut, so it may be up to 15 words shorter)
CHUNK_WORDS = 1 << 16
#: BPC stream bytes per decoder piece
CHUNK_BYTES = 1 << 15
#: ZNZ stream bytes per decoder piece (up to 8 flags a byte, 25 in zero runs)
ZNZ_CHUNK_BYTES = 1 << 14
#: stream bytes a decoder piece reads past its end: more than a block of the widest format
_MARGIN = 48


def _wide(p):
    """The narrowest signed dtype holding a (word_bits + 1)-bit delta."""
    return np.dtype(np.int16 if p.word_bits == 8 else np.int32)


def _unsigned(bits):
    """The narrowest unsigned dtype of at least ``bits`` bits (at most 32)."""
    return np.dtype(np.uint8 if bits <= 8 else np.uint16 if bits <= 16 else np.uint32)


# Hacker's Delight 7-3: the three swap steps that transpose an 8 x 8 bit matrix held in a uint64
_TRANSPOSE8 = [(np.uint64(7), np.uint64(0x00AA00AA00AA00AA)),
               (np.uint64(14), np.uint64(0x0000CCCC0000CCCC)),
               (np.uint64(28), np.uint64(0x00000000F0F0F0F0))]


def _transpose_bits(a, width):
    """Bit-matrix transpose of each row of ``a`` (``(B, K)`` values of ``width`` bits).

    Returns ``(B, width)``: column b holds bit b of ``a[:, 0]``, ..., ``a[:, K-1]``, the first at
    the MSB. Works on 8 x 8 tiles of bits, each transposed inside one uint64.
    """
    a = np.asarray(a)
    nrows, k = a.shape
    kp, nbytes = -(-k // 8) * 8, -(-width // 8)
    rows = np.zeros((nrows, kp), _unsigned(8 * nbytes).newbyteorder("<"))
    rows[:, kp - k:] = a[:, ::-1]                  # row 0 last: it ends up at the MSB
    by = rows.view(np.uint8).reshape(nrows, kp, rows.itemsize)
    out = np.zeros((nrows, width), _unsigned(k))
    for g in range(kp // 8):
        for h in range(nbytes):
            tile = np.ascontiguousarray(by[:, 8 * g:8 * g + 8, h]).view("<u8").reshape(-1)
            for shift, mask in _TRANSPOSE8:
                t = (tile ^ (tile >> shift)) & mask
                tile ^= t ^ (t << shift)
            cols = tile.view(np.uint8).reshape(nrows, 8)[:, :min(8, width - 8 * h)]
            out[:, 8 * h:8 * h + 8] |= cols.astype(out.dtype) << (8 * g)
    out >>= kp - k
    return out


# ------------------------------------------------------------------------------------------------
# encoder stages


def _as_words(words, p):
    """Flatten ``words`` (C order, no copy when contiguous), checking dtype, length and range."""
    arr = np.asarray(words)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"words must be an integer array, not dtype {arr.dtype}")
    if not 1 <= arr.size <= MAX_WORDS:
        raise ValueError(f"a transfer must hold 1..{MAX_WORDS} words, not {arr.size}")
    lo, hi = -(1 << (p.word_bits - 1)), (1 << (p.word_bits - 1)) - 1
    found = int(arr.min()), int(arr.max())
    if found[0] < lo or found[1] > hi:
        raise ValueError(f"words must be signed {p.word_bits}-bit values in {lo}..{hi}, "
                         f"found {found[0]}..{found[1]}")
    return arr.reshape(-1)


def _znz_codes(nonzero):
    """:func:`zero_run_codes` of the words whose non-zero mask is ``nonzero``."""
    values = nonzero.astype(np.uint8)
    lengths = values.copy()
    edges = np.diff(nonzero.view(np.int8), prepend=np.int8(1), append=np.int8(1))
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


def zero_run_codes(words):
    """ZNZ stage: one code per word position, ``(values, lengths)``, in word order.

    A non-zero word gives ``1`` (1 bit); the word that opens a zero run, and every 16th zero of
    it, gives ``0`` + (k - 1) on 4 bits (5 bits) for the k <= 16 zeros it covers; the other zeros
    give nothing (length 0).
    """
    return _znz_codes(np.asarray(words).reshape(-1) != 0)


def _blocks(nonzero, p):
    """Non-zero words padded with zero values to whole blocks, ``(B, block_size)``."""
    nblocks = -(-nonzero.size // p.block_size)
    out = np.zeros(nblocks * p.block_size, dtype=_wide(p))
    out[:nonzero.size] = nonzero
    return out.reshape(nblocks, p.block_size)


def nonzero_blocks(words, p):
    """The non-zero words in order, padded with zero values to whole blocks: ``(B, block_size)``,
    int16 (int32 for 16-bit words) so that deltas fit."""
    flat = np.asarray(words).reshape(-1)
    return _blocks(flat[flat != 0], p)


def block_deltas(blocks, p):
    """Base and deltas of each block: ``(base, deltas)``.

    ``base`` is word 0 as an unsigned ``word_bits`` pattern; ``deltas[:, i-1]`` is x_i - x_(i-1)
    computed exactly and stored as an unsigned (word_bits + 1)-bit two's complement pattern.
    """
    blocks = np.asarray(blocks).astype(_wide(p), copy=False)
    base = blocks[:, 0] & ((1 << p.word_bits) - 1)
    deltas = np.diff(blocks, axis=1) & ((1 << (p.word_bits + 1)) - 1)
    return base, deltas


def bit_planes(deltas, p):
    """Delta bit-planes ``(B, word_bits + 1)``: plane b holds bit b of d1..d(n-1), d1 at the MSB."""
    return _transpose_bits(deltas, p.planes)


def dbx(planes):
    """DBX symbols: X_0 = P_0, X_j = P_j XOR P_(j-1)."""
    planes = np.asarray(planes)
    x = planes.copy()
    x[:, 1:] ^= planes[:, :-1]
    return x


def _symbol_tables(p):
    """Per value of X: the class, code value and code length of a non-zero symbol, and per zero
    run length k (0 for no run): its code value and length (computed once per format,
    read-only)."""
    return _symbol_tables_for(p.plane_bits, p.pos_bits, p.run_bits, p.planes)


@cache
def _symbol_tables_for(plane_bits, pos_bits, run_bits, planes):
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
    k = np.arange(planes + 1)
    run_value = np.where(k == 1, 0b01, (0b001 << run_bits) | np.maximum(k - 2, 0)) * (k > 0)
    run_length = np.where(k == 1, 2, 3 + run_bits) * (k > 0)
    tables = (cls.astype(np.uint8), value.astype(np.uint16), length.astype(np.uint8),
              run_value.astype(np.uint16), run_length.astype(np.uint8))
    for table in tables:
        table.flags.writeable = False
    return tables


def symbol_codes(x, planes, p):
    """Symbol coder: ``(classes, values, lengths)`` of shape ``(B, word_bits + 1)``.

    Zero symbols are merged into runs: the first symbol of a run carries its code (``01`` for a
    run of 1, ``001`` + (k - 2) on ``run_bits`` bits otherwise), the others have length 0.
    """
    x = np.asarray(x)
    planes = np.asarray(planes)
    t_cls, t_val, t_len, t_run_val, t_run_len = _symbol_tables(p)
    cls, val, length = t_cls[x], t_val[x], t_len[x]
    # row 3 of the code table: P = 0, unless row 1 or 2 (X = 0, X = all ones) matched first
    plane_zero = (planes == 0) & (x != 0) & (x != (1 << p.plane_bits) - 1)
    cls[plane_zero] = SymbolClass.PLANE_ZERO
    val[plane_zero] = 0b00001
    length[plane_zero] = 5
    # zero runs, never crossing a block: k = zero symbols from here to the run's end, kept at
    # the symbol that opens the run
    zero = x == 0
    k = np.empty(x.shape, np.uint8)
    run = np.zeros(len(x), np.uint8)
    for j in range(x.shape[1] - 1, -1, -1):
        run = (run + 1) * zero[:, j]
        k[:, j] = run
    k[:, 1:] *= ~zero[:, :-1]
    val = np.where(zero, t_run_val[k], val)
    length = np.where(zero, t_run_len[k], length)
    return cls, val, length


def block_codes(blocks, p):
    """All codes of the BPC stream, ``(values, lengths)`` of shape ``(B, word_bits + 2)``."""
    base, deltas = block_deltas(blocks, p)
    planes = bit_planes(deltas, p)
    _, val, length = symbol_codes(dbx(planes), planes, p)
    values = np.concatenate([base[:, None], val], axis=1)
    lengths = np.concatenate([np.full((len(base), 1), p.word_bits, np.uint8), length], axis=1)
    return values, lengths


def _pieces(flat):
    """The encoder's pieces of ``flat``: ``(start, nonzero mask)`` of about CHUNK_WORDS words
    each, cut after a non-zero word or a multiple of 16 zeros into a zero run, so that no ZNZ
    code spans a cut and each piece's codes are those of the whole transfer."""
    start = 0
    while start < flat.size:
        end = min(start + CHUNK_WORDS, flat.size)
        nonzero = flat[start:end] != 0
        if end < flat.size:
            back = int(nonzero[::-1].argmax())          # zeros after the last non-zero word
            run_start = nonzero.size - back if nonzero[-1 - back] else 0
            nonzero = nonzero[:run_start + (nonzero.size - run_start) // ZNZ_MAX_RUN * ZNZ_MAX_RUN]
        yield start, nonzero
        start += nonzero.size


def _piece_codes(flat, p):
    """Per piece of ``flat`` (:func:`_pieces`): its ZNZ codes and the BPC codes of the blocks it
    completes (``None`` when it completes none), ``(values, lengths)`` each; the non-zero words
    short of a whole block wait for the next piece, the last piece pads them."""
    held = np.zeros(0, _wide(p))                  # non-zero words short of a whole block
    for start, nonzero in _pieces(flat):
        end = start + nonzero.size
        words = np.concatenate([held, flat[start:end][nonzero]])
        whole = words.size if end == flat.size else words.size - words.size % p.block_size
        held = words[whole:]
        yield (_znz_codes(nonzero),
               block_codes(_blocks(words[:whole], p), p) if whole else None)


def encode(words, word_bits=8, block_size=8):
    """Compress ``words`` (any shape, flattened in C order) into ``(znz, bpc)`` byte strings.

    The transfer is coded a piece at a time (:data:`CHUNK_WORDS`), so memory is the two streams
    and temporaries for one piece.

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
        For a parameter out of range, a non-integer array, a length out of 1..2**24 or a value
        out of range.
    """
    p = EBPCParams(word_bits, block_size)
    znz, bpc = CodePacker(p.word_bits), CodePacker(p.word_bits)
    for znz_codes, bpc_codes in _piece_codes(_as_words(words, p), p):
        znz.add(*znz_codes)
        if bpc_codes is not None:
            bpc.add(*bpc_codes)
    return znz.getvalue(), bpc.getvalue()


def encoded_bits(words, word_bits=8, block_size=8):
    """``8 * (len(znz) + len(bpc))`` of :func:`encode`'s streams, from the code lengths alone
    (no stream is packed): each stream is its codes padded to whole words, the BPC stream empty
    when every word is zero. Same checks as :func:`encode`; about twice as fast."""
    p = EBPCParams(word_bits, block_size)
    znz_bits = bits = 0
    for znz_codes, bpc_codes in _piece_codes(_as_words(words, p), p):
        znz_bits += int(znz_codes[1].sum(dtype=np.int64))
        if bpc_codes is not None:
            bits += int(bpc_codes[1].sum(dtype=np.int64))
    return padded_bits(znz_bits, p.word_bits) + padded_bits(bits, p.word_bits)


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

    The stream is parsed a piece at a time (:data:`ZNZ_CHUNK_BYTES`).

    Raises
    ------
    ValueError
        If the stream ends before ``n`` flags, a zero run runs past ``n``, or words are left over.
    """
    znz = bytes(znz)
    nbits = len(znz) * 8
    flags = np.zeros(n, dtype=bool)
    pos = done = 0                          # the next code's bit, the flags decoded before it
    while pos < nbits:
        first, skip = pos >> 3, pos & 7
        size = min(ZNZ_CHUNK_BYTES + 1, len(znz) - first)      # a byte more for a run's field
        piece = znz[first:first + size]
        bits = np.unpackbits(np.frombuffer(piece, np.uint8))[skip:]
        starts = _znz_code_starts(bits)
        starts = starts[:np.searchsorted(starts, min(8 * ZNZ_CHUNK_BYTES, nbits - 8 * first)
                                         - skip)]
        is_one = bits[starts] == 1
        count = np.where(is_one, 1, windows(piece, starts + (skip + 1), ZNZ_RUN_BITS) + 1)
        upto = np.cumsum(count) + done                  # flags decoded once each code is done
        last = int(np.searchsorted(upto, n))            # first code reaching n flags
        if last < len(starts):
            at = pos + int(starts[last])
            end = at + (1 if is_one[last] else 1 + ZNZ_RUN_BITS)
            if end > nbits:
                raise ValueError(f"ZNZ stream cut off inside the code at {bit_location(at)}")
            if upto[last] > n:
                raise ValueError(f"ZNZ zero run at {bit_location(at)} runs {int(upto[last]) - n} "
                                 f"word(s) past N = {n}")
            _check_trailing(znz, end, p, "ZNZ")
            flags[done:] = np.repeat(is_one[:last + 1], count[:last + 1])
            return flags, end
        flags[done:upto[-1]] = np.repeat(is_one, count)
        done = int(upto[-1])
        pos += int(starts[-1]) + (1 if is_one[-1] else 1 + ZNZ_RUN_BITS)
    raise ValueError(f"ZNZ stream ends after {done} of {n} words, at {bit_location(nbits)}")


_PREFIX_BITS = 8   # enough to know a code's length and symbol count for every parameter set


@cache
def _code_tables(p):
    """Length in bits and symbols covered of the code whose first 8 bits are the index: two
    256-entry uint8 tables."""
    w = np.arange(1 << _PREFIX_BITS)
    top5 = w >> 3
    run = ((w >> (_PREFIX_BITS - 3 - p.run_bits)) & ((1 << p.run_bits) - 1)) + 2
    length = np.select(
        [w >> 7 == 1, w >> 6 == 0b01, w >> 5 == 0b001, top5 <= 0b00001],
        [1 + p.plane_bits, 2, 3 + p.run_bits, 5], 5 + p.pos_bits).astype(np.uint8)
    symbols = np.where(w >> 5 == 0b001, run, 1).astype(np.uint8)
    return length, symbols


def _code_at_every_bit(stream, size, p):
    """Length and symbols (uint8 arrays, :func:`_code_tables`) of the code that would start at
    each of the first ``8 * size`` bits of ``stream`` (bits past its end read as 0)."""
    t_len, t_sym = _code_tables(p)
    prefix = bit_windows(stream, _PREFIX_BITS, 8 * size)
    return t_len[prefix], t_sym[prefix]


class _Piece(NamedTuple):
    """Part of a BPC stream and the bit positions of its blocks' bases and codes, counted from
    ``bit0`` (the first bit of ``stream``); ``end`` is where the piece's last block ends."""
    stream: bytes
    bit0: int
    base_pos: np.ndarray
    code_pos: np.ndarray
    end: int


def _code_positions(base_pos, clen, csym, p):
    """The code positions of the blocks at ``base_pos``, listed in lockstep across blocks."""
    code_pos = np.empty((len(base_pos), p.planes), np.int64)
    used = np.empty((len(base_pos), p.planes), bool)
    pos, count = base_pos + p.word_bits, np.zeros(len(base_pos), np.int64)
    for k in range(p.planes):
        live = count < p.planes
        code_pos[:, k] = pos
        used[:, k] = live
        count += csym[pos] * live
        pos += clen[pos] * live
    return code_pos[used]


def _bpc_pieces(bpc, nblocks, p):
    """Code parser, a piece of :data:`CHUNK_BYTES` at a time: yields a :class:`_Piece` for the
    blocks that start in each; raises as :func:`parse_bpc` does, before the piece at fault."""
    bpc = bytes(bpc)
    nbits = len(bpc) * 8
    if nblocks == 0:
        _check_trailing(bpc, 0, p, "BPC")
        return
    m, planes = p.word_bits, p.planes
    q = found = j = 0
    while True:
        first = q >> 3
        bit0, stream = 8 * first, bpc[first:first + CHUNK_BYTES + _MARGIN]
        clen, csym = _code_at_every_bit(stream, len(stream) + _MARGIN, p)
        c1, s1 = clen.tobytes(), csym.tobytes()
        stop, size = min(8 * CHUNK_BYTES, nbits - bit0), nbits - bit0
        base_pos = []
        add = base_pos.append
        r = q - bit0
        for _ in range(nblocks - found):
            if r >= stop:
                break
            add(r)
            r += m
            j = 0
            while j < planes:
                j += s1[r]
                r += c1[r]
            if j > planes or r > size:
                break
        found, q = found + len(base_pos), bit0 + r
        base = np.asarray(base_pos, np.int64)
        code_pos = _code_positions(base, clen, csym, p)
        if j > planes:
            raise ValueError(f"BPC zero run at {bit_location(bit0 + int(code_pos[-1]))} "
                             f"(block {found - 1}) covers {j - planes} symbol(s) past the "
                             f"end of the block")
        if q > nbits or (found < nblocks and q >= nbits):
            whole = found - (1 if q > nbits else 0)
            raise ValueError(f"BPC stream ends after {whole} of {nblocks} blocks, inside block "
                             f"{whole}, at {bit_location(nbits)}")
        yield _Piece(stream, bit0, base, code_pos, q)
        if found == nblocks:
            _check_trailing(bpc, q, p, "BPC")
            return


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
    pieces = list(_bpc_pieces(bpc, nblocks, p))
    if not pieces:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), 0
    return (np.concatenate([c.bit0 + c.base_pos for c in pieces]),
            np.concatenate([c.bit0 + c.code_pos for c in pieces]), pieces[-1].end)


@cache
def _symbol_decode_tables(p):
    """Per 16-bit window starting at a code: the class, the X it gives (0 for runs and for
    ``PLANE_ZERO``), the symbols it covers and its position field (every code fits in 16 bits)."""
    w = np.arange(1 << 16, dtype=np.int64)
    head = lambda k: w >> (16 - k)    # noqa: E731 - the first k bits of each code
    field = lambda k, width: (w >> (16 - k - width)) & ((1 << width) - 1)  # noqa: E731
    pos = field(5, p.pos_bits)
    full = (1 << p.plane_bits) - 1
    conds = [head(1) == 1, head(2) == 0b01, head(3) == 0b001, head(5) == 0b00000,
             head(5) == 0b00001, head(5) == 0b00010]
    cls = np.select(conds, [SymbolClass.RAW, SymbolClass.ZERO_RUN, SymbolClass.ZERO_RUN,
                            SymbolClass.ALL_ONES, SymbolClass.PLANE_ZERO, SymbolClass.TWO_ONES],
                    SymbolClass.SINGLE_ONE)
    bad = ((cls == SymbolClass.TWO_ONES) & (pos > p.plane_bits - 2)) | \
          ((cls == SymbolClass.SINGLE_ONE) & (pos > p.plane_bits - 1))
    shift = np.clip(p.plane_bits - 1 - pos, 0, None)
    x = np.select(
        [cls == SymbolClass.RAW, cls == SymbolClass.ALL_ONES, cls == SymbolClass.TWO_ONES,
         cls == SymbolClass.SINGLE_ONE],
        [field(1, p.plane_bits), full, (0b11 << shift) >> 1, 1 << shift], 0)
    symbols = np.where(head(3) == 0b001, field(3, p.run_bits) + 2, 1)
    tables = (cls.astype(np.uint8), x.astype(_unsigned(p.plane_bits)), symbols.astype(np.uint8),
              np.where(bad, pos, -1).astype(np.int8))
    for table in tables:
        table.flags.writeable = False
    return tables


def _decode_symbols(stream, code_pos, bit0, p):
    """:func:`decode_symbols` of the codes at ``code_pos`` of ``stream``, whose first bit is bit
    ``bit0`` of the whole stream (for the messages)."""
    w = windows(stream, code_pos, 16)
    t_cls, t_x, t_sym, t_bad = _symbol_decode_tables(p)
    bad = t_bad[w]
    if (bad >= 0).any():
        i = int(np.argmax(bad >= 0))
        raise ValueError(f"BPC position {int(bad[i])} at "
                         f"{bit_location(bit0 + int(code_pos[i]) + 5)} is outside the "
                         f"{p.plane_bits}-bit plane")
    return t_cls[w], t_x[w], t_sym[w]


def decode_symbols(bpc, code_pos, p):
    """Symbol decoder: per code ``(classes, x, symbols)``: the class, the X it gives (0 for runs
    and for ``PLANE_ZERO``) and the number of symbols it covers.

    Raises
    ------
    ValueError
        If a position field points outside the plane.
    """
    return _decode_symbols(bpc, np.asarray(code_pos, np.int64), 0, p)


def planes_from_symbols(cls, x, symbols, p):
    """Plane rebuilder: expand runs and undo DBX, ``(B, word_bits + 1)`` planes."""
    xs = np.repeat(x, symbols).reshape(-1, p.planes)
    keep = np.repeat(cls != SymbolClass.PLANE_ZERO, symbols).reshape(-1, p.planes)
    planes = np.empty_like(xs)
    prev = np.zeros(len(xs), dtype=xs.dtype)
    for j in range(p.planes):
        prev = (xs[:, j] ^ prev) * keep[:, j]
        planes[:, j] = prev
    return planes


def deltas_from_planes(planes, p):
    """Signed deltas ``(B, block_size - 1)`` from the bit-planes."""
    d = _transpose_bits(np.asarray(planes)[:, ::-1], p.plane_bits)[:, ::-1].astype(_wide(p))
    return np.where(d >= 1 << p.word_bits, d - (1 << (p.word_bits + 1)), d)


def words_from_deltas(base, deltas, p):
    """Delta reverse: blocks of signed words, x_0 = base, x_i = x_(i-1) + d_i wrapping."""
    acc = np.empty((len(base), p.block_size), _unsigned(p.word_bits))
    acc[:, 0] = base                   # modulo 2**word_bits: unsigned arithmetic wraps
    acc[:, 1:] = deltas
    return np.cumsum(acc, axis=1, out=acc).view(p.dtype)


def merge(flags, values, p):
    """Zero-run decoder output merge: 0 where a flag is clear, the next value where it is set."""
    out = np.zeros(len(flags), dtype=p.dtype)
    out[flags] = values[:int(np.count_nonzero(flags))]
    return out


def decode(znz, bpc, n, word_bits=8, block_size=8):
    """Decompress ``n`` words from the ``(znz, bpc)`` streams of :func:`encode`.

    The BPC stream is decoded a piece at a time (:data:`CHUNK_BYTES`), so memory is the output,
    one flag and one non-zero value per word, and temporaries for one piece.

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
    values = np.empty(nblocks * p.block_size, p.dtype)
    at, fault = 0, None
    for piece in _bpc_pieces(bpc, nblocks, p):
        if fault is not None:
            continue                  # a parse fault further on is reported before this one
        try:
            cls, x, symbols = _decode_symbols(piece.stream, piece.code_pos, piece.bit0, p)
        except ValueError as error:
            fault = error
            continue
        planes = planes_from_symbols(cls, x, symbols, p)
        base = windows(piece.stream, piece.base_pos, p.word_bits)
        words = words_from_deltas(base, deltas_from_planes(planes, p), p).reshape(-1)
        values[at:at + words.size] = words
        at += words.size
    if fault is not None:
        raise fault
    return merge(flags, values, p)


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
