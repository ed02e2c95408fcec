"""The ``.ebpc`` and ``.hcp`` containers: CRC-32, old versions still read, transfers of at most
2**24 words, and corrupted files refused through the real command line."""

import struct
import zlib

import numpy as np
import pytest

from dnnpress import cli
from golden import dict_codec, dict_file, ebpc, ebpc_file


def fmap(shape=(3, 8, 8), seed=0):
    return np.maximum(np.random.default_rng(seed).normal(0, 20, shape), 0).astype(np.int8)


def weights(shape=(6, 3, 3), seed=0):
    w = np.random.default_rng(seed).normal(0, 1, shape).astype(np.float32)
    w[np.abs(w) < 0.5] = 0
    q, scale = dict_codec.quantise(w)
    return q, scale, dict_codec.encode(q.reshape(-1), 0).stream


def ebpc_v1(x, block_size=8):
    """A version-1 ``.ebpc`` file as the version-1 writer laid it out (no CRC, one transfer)."""
    bits = {np.dtype(np.int8): 8, np.dtype(np.int16): 16}[x.dtype]
    znz, bpc = ebpc.encode(x, bits, block_size)
    return (struct.pack("<4sBBBB", b"EBPC", 1, bits, block_size, x.ndim)
            + struct.pack(f"<{x.ndim}QQQQ", *x.shape, x.size, len(znz), len(bpc)) + znz + bpc)


def test_ebpc_version_2_ends_with_the_crc_of_the_rest():
    data = ebpc_file.pack(ebpc_file.EBPCFile.compress(fmap()))
    assert data[4] == ebpc_file.VERSION == 2
    assert struct.unpack("<I", data[-4:])[0] == zlib.crc32(data[:-4])
    assert np.array_equal(ebpc_file.unpack(data).decompress(), fmap())


def test_ebpc_version_1_files_still_read():
    for x in (fmap(), fmap((5, 7), 1).astype(np.int16) - 3):
        f = ebpc_file.unpack(ebpc_v1(x))
        assert f.transfers == ebpc_file.EBPCFile.compress(x).transfers
        assert np.array_equal(f.decompress(), x) and f.decompress().dtype == x.dtype
    with pytest.raises(ValueError, match="bytes after the BPC stream, from"):
        ebpc_file.unpack(ebpc_v1(fmap()) + b"\0")


def test_hcp_version_2_ends_with_the_crc_and_versions_1_and_0_still_read():
    q, scale, stream = weights()
    data = dict_file.pack(q.shape, scale, stream)
    assert data[:4] == b"HCP2" and struct.unpack("<I", data[-4:])[0] == zlib.crc32(data[:-4])
    head = struct.pack(f"<B{q.ndim}Qd", q.ndim, *q.shape, scale)
    v1 = b"HCP1" + head + stream
    v1 += struct.pack("<I", zlib.crc32(v1))
    for blob in (data, v1, b"HCP0" + head + stream):
        shape, s, values, _ = dict_file.unpack(blob)
        assert shape == q.shape and s == scale and np.array_equal(values, q)
    with pytest.raises(ValueError, match="scale must be a finite number > 0, not nan"):
        dict_file.pack(q.shape, float("nan"), stream)


def test_hcp_per_channel_scales_travel_beside_the_stream():
    w = np.random.default_rng(3).normal(0, 1, (6, 2, 3)) * np.arange(1, 7)[:, None, None]
    for axis in (0, 2, -1):
        q, scales = dict_codec.quantise(w, axis=axis)
        stream = dict_codec.encode(q.reshape(-1), 0, version=1).stream
        shape, s, values, head = dict_file.unpack(dict_file.pack(w.shape, scales, stream, axis))
        assert head.version == 1 and np.array_equal(values, q)
        assert s.shape == tuple(n if d == axis % 3 else 1 for d, n in enumerate(w.shape))
        assert np.abs(values * s - w).max() <= scales.max() / 2 + 1e-12
    with pytest.raises(ValueError, match="5 scales for axis 0 of length 6"):
        dict_file.pack(w.shape, np.ones(5), stream, 0)
    with pytest.raises(ValueError, match="axis 3 is outside a shape of 3 dimensions"):
        dict_file.pack(w.shape, np.ones(6), stream, 3)
    with pytest.raises(ValueError, match="6 scales need an axis"):
        dict_file.pack(w.shape, np.ones(6), stream)
    with pytest.raises(ValueError, match="not -1.0"):
        dict_file.pack(w.shape, -np.ones(6), stream, 0)


def test_a_map_is_split_into_transfers_and_joined_again(tmp_path):
    x = fmap((7, 11, 13), 2)
    f = ebpc_file.EBPCFile.compress(x, transfer_words=100)
    assert len(f.transfers) == -(-x.size // 100) == 11
    assert f.transfers[3] == ebpc.encode(x.reshape(-1)[300:400])
    (tmp_path / "t.ebpc").write_bytes(ebpc_file.pack(f))
    assert cli.main(["ebpc", "decode", str(tmp_path / "t.ebpc"), "-o",
                     str(tmp_path / "t.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "t.npy"), x)
    whole = ebpc_file.stats(x)
    split = ebpc_file.stats(x, transfer_words=100, per_block=True)
    assert split["transfers"] == 11 and whole["transfers"] == 1
    assert split["n"] == whole["n"] == x.size and split["zeros"] == whole["zeros"]
    assert split["znz_bytes"] + split["bpc_bytes"] == f.stream_bytes
    assert [b["block"] for b in split["per_block"]] == list(range(split["blocks"]))
    bad = ebpc_file.EBPCFile(f.word_bits, f.block_size, f.shape,
                             (*f.transfers[:5], (f.transfers[5][0][:-1], f.transfers[5][1]),
                              *f.transfers[6:]), 100)
    with pytest.raises(ValueError, match=r"^transfer 5 of 11 \(words 500\.\.599\): ZNZ stream"):
        bad.decompress()
    with pytest.raises(ValueError, match="words per transfer must be 1..16777216, not 0"):
        ebpc_file.EBPCFile.compress(x, transfer_words=0)


@pytest.mark.regress
def test_cli_encodes_a_map_over_2_24_words(tmp_path):
    x = np.zeros(ebpc.MAX_WORDS + 1000, np.int8)
    x[::7] = np.arange(x.size // 7 + 1, dtype=np.int64)[:x[::7].size] % 100
    np.save(tmp_path / "big.npy", x)
    assert cli.main(["ebpc", "encode", str(tmp_path / "big.npy"), "-o",
                     str(tmp_path / "big.ebpc")]) == 0
    assert len(ebpc_file.unpack((tmp_path / "big.ebpc").read_bytes()).transfers) == 2
    assert cli.main(["ebpc", "decode", str(tmp_path / "big.ebpc"), "-o",
                     str(tmp_path / "out.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "out.npy"), x)


def mutants(data, count, seed):
    """``count`` seeded corruptions of ``data``: flipped bits, a byte set, truncation,
    bytes appended, inserted or removed."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        b = bytearray(data)
        kind = i % 6
        at = int(rng.integers(len(b)))
        if kind == 0:
            for j in rng.choice(len(b), int(rng.integers(1, 4)), replace=False):
                b[j] ^= 1 << int(rng.integers(8))
        elif kind == 1:
            b[at] = (b[at] + int(rng.integers(1, 256))) % 256
        elif kind == 2:
            del b[at:]
        elif kind == 3:
            b += rng.integers(0, 256, int(rng.integers(1, 9)), dtype=np.uint8).tobytes()
        elif kind == 4:
            b.insert(at, int(rng.integers(256)))
        else:
            del b[at]
        yield bytes(b)


@pytest.mark.parametrize("container", ["ebpc", "dict"])
def test_mutated_files_decode_exactly_or_are_refused(capsys, tmp_path, container):
    """Every corrupted file either decodes to the original or is refused with exit status 2
    and one error line: never exit 0 with other data, never a traceback."""
    if container == "ebpc":
        original = fmap((4, 16, 16), 5)
        data = ebpc_file.pack(ebpc_file.EBPCFile.compress(original, transfer_words=300))
    else:
        original, scale, stream = weights((8, 4, 3, 3), 5)
        data = dict_file.pack(original.shape, scale, stream)
    outcomes = {"refused": 0, "exact": 0}
    for i, blob in enumerate(mutants(data, 300, seed=16)):
        src, out = tmp_path / f"m.{container}", tmp_path / "m.npy"
        src.write_bytes(blob)
        out.unlink(missing_ok=True)
        code = cli.main([container, "decode", str(src), "-o", str(out)])
        err = capsys.readouterr().err
        if code == 0:
            assert np.array_equal(np.load(out), original), (i, blob)
            outcomes["exact"] += 1
        else:
            assert code == 2 and err.startswith("dnnpress: error: ") and err.count("\n") == 1
            assert not out.exists(), i
            outcomes["refused"] += 1
    assert outcomes == {"refused": 300, "exact": 0}     # the CRC-32 catches every one
