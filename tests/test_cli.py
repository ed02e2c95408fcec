"""The dnnpress command line: EBPC file round trip, stats, and clear errors with exit status 2."""

import json
import subprocess
import sys

import numpy as np
import pytest

from dnnpress import cli, cores
from golden import ebpc_file


def run(capsys, *argv):
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def fmap(tmp_path):
    x = np.maximum(np.random.default_rng(0).normal(0, 20, (3, 8, 8)), 0).astype(np.int8)
    path = tmp_path / "x.npy"
    np.save(path, x)
    return x, path


@pytest.mark.parametrize("dtype,block", [(np.int8, 8), (np.int8, 16), (np.int16, 16)])
def test_encode_decode_round_trip(capsys, tmp_path, dtype, block):
    x = np.random.default_rng(1).integers(-50, 50, (5, 7)).astype(dtype)
    np.save(tmp_path / "a.npy", x)
    code, out, _ = run(capsys, "ebpc", "encode", str(tmp_path / "a.npy"), "-o",
                       str(tmp_path / "a.ebpc"), "--block-size", str(block))
    assert code == 0 and "ratio" in out
    assert run(capsys, "ebpc", "decode", str(tmp_path / "a.ebpc"), "-o",
               str(tmp_path / "b.npy"))[0] == 0
    y = np.load(tmp_path / "b.npy")
    assert y.dtype == x.dtype and np.array_equal(y, x)


def test_stats_text_json_and_blocks(capsys, fmap):
    x, path = fmap
    code, out, _ = run(capsys, "ebpc", "stats", str(path), "--blocks")
    assert code == 0 and "ratio" in out and "raw" in out and "classes" in out
    code, out, _ = run(capsys, "ebpc", "stats", str(path), "--json")
    s = json.loads(out)
    assert s["n"] == x.size and s["zeros"] == int((x == 0).sum())
    assert sum(s["symbols"].values()) == s["blocks"] * 9


@pytest.mark.parametrize("make_file,message", [
    (lambda d: np.save(d / "f.npy", np.zeros(3, np.float32)), "dtype must be int8 or int16"),
])
def test_encode_rejects_wrong_dtype(capsys, tmp_path, make_file, message):
    make_file(tmp_path)
    code, _, err = run(capsys, "ebpc", "encode", str(tmp_path / "f.npy"), "-o",
                       str(tmp_path / "f.ebpc"))
    assert code == 2 and message in err and "Traceback" not in err


def test_decode_rejects_bad_files(capsys, tmp_path, fmap):
    x, path = fmap
    good = ebpc_file.pack(ebpc_file.EBPCFile.compress(x))
    cases = {
        "magic.ebpc": (b"XXXX" + good[4:], "not an .ebpc file"),
        "short.ebpc": (good[:-3], "truncated .ebpc file"),
        "tail.ebpc": (good + b"\0", "bytes after the BPC stream"),
        "head.ebpc": (good[:6], "truncated .ebpc file"),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        code, _, err = run(capsys, "ebpc", "decode", str(tmp_path / name), "-o",
                           str(tmp_path / "o.npy"))
        assert code == 2 and message in err, name
    code, _, err = run(capsys, "ebpc", "decode", str(tmp_path / "none.ebpc"), "-o", "o.npy")
    assert code == 2 and "no such file" in err.lower()


def test_corrupt_stream_in_file_is_an_error(capsys, tmp_path, fmap):
    x, _ = fmap
    f = ebpc_file.EBPCFile.compress(x)
    bad = ebpc_file.EBPCFile(f.word_bits, f.block_size, f.shape, f.znz[:-1], f.bpc)
    (tmp_path / "c.ebpc").write_bytes(ebpc_file.pack(bad))
    code, _, err = run(capsys, "ebpc", "decode", str(tmp_path / "c.ebpc"), "-o",
                       str(tmp_path / "o.npy"))
    assert code == 2 and "ZNZ stream" in err


def test_console_script_exit_status():
    proc = subprocess.run([sys.executable, "-m", "dnnpress.cli", "emit", "no-such-core"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "unknown core 'no-such-core'" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "dnnpress.cli", "frobnicate"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr


def test_emit_list_names_cores_and_parameters(capsys):
    code, out, _ = run(capsys, "emit", "--list")
    assert code == 0
    for text in ("ebpc-encoder", "ebpc_encoder", "ebpc-decoder", "word_bits=8", "[8|16]",
                 "bpc_words=1"):
        assert text in out


@pytest.mark.parametrize("core,module,ports", [
    ("ebpc-encoder", "ebpc_encoder", ["i_words__payload", "o_znz__payload", "o_bpc__ready"]),
    ("ebpc-decoder", "ebpc_decoder", ["i_count__payload", "i_bpc__valid", "o_words__payload"]),
])
def test_emit_writes_the_module(capsys, tmp_path, core, module, ports):
    code, out, _ = run(capsys, "emit", core, "-o", str(tmp_path))
    text = (tmp_path / f"{module}.v").read_text()
    assert code == 0 and f"module {module}(" in text
    assert all(port in text for port in ports)
    assert "src = " not in text                     # emitted with emit_src=False


@pytest.mark.parametrize("argv,message", [
    (["emit", "ebpc-encoder", "--set", "word_bits=12"], "word_bits must be one of 8, 16, not 12"),
    (["emit", "ebpc-encoder", "--set", "nope=1"], "has no parameter 'nope'; parameters: word_"),
    (["emit", "ebpc-encoder", "--set", "word_bits"], "--set takes NAME=VALUE"),
    (["emit", "ebpc-decoder", "--set", "block_size=x"], "block_size must be one of 8, 16, not 'x'"),
    (["emit"], "emit needs a CORE"),
])
def test_emit_rejects_bad_arguments(capsys, tmp_path, argv, message):
    code, _, err = run(capsys, *argv, "-o", str(tmp_path))
    assert code == 2 and message in err


def test_build_emits_every_core(capsys, tmp_path):
    code, out, _ = run(capsys, "build", "-o", str(tmp_path))
    assert code == 0 and f"{len(cores.CORES)} core(s) emitted" in out
    assert {p.name for p in (tmp_path / "verilog").iterdir()} == \
        {f"{c.module}.v" for c in cores.CORES.values()}


def test_noc_model_prints_breakdown_and_json(capsys):
    code, out, _ = run(capsys, "noc", "model", "--cr", "2")
    assert code == 0 and "dense_1" in out and "latency -49.2 %" in out
    code, out, _ = run(capsys, "noc", "model", "--cr", "1,1,4,1,1", "--json")
    r = json.loads(out)
    assert code == 0 and 0.5 < r["latency_reduction"] < 0.6


@pytest.mark.parametrize("argv,message", [
    (["noc", "model", "--cr", "2,2"], "--cr takes one ratio or 5 (conv2d_1, conv2d_2, dense_1"),
    (["noc", "model", "--cr", "0"], "--cr must lie in 0.001..1e+06; got 0"),
    (["noc", "model", "--cr", "two"], "--cr must be comma-separated numbers, not 'two'"),
    (["noc", "model", "--noc-config", "/no/such.toml"], "NoC config /no/such.toml"),
    (["noc", "sweep", "--grid", "0,101"], "--grid must lie in 0..100; got 101"),
    (["noc", "sweep", "--images", "1"], "--images must lie in 2..10000, not 1"),
])
def test_noc_rejects_bad_arguments(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err


def test_dict_encode_decode_stats(capsys, tmp_path):
    w = np.random.default_rng(2).normal(0, 1, (16, 3, 3)).astype(np.float32)
    w[w < 0.3] = 0
    np.save(tmp_path / "w.npy", w)
    code, out, _ = run(capsys, "dict", "encode", str(tmp_path / "w.npy"), "-o",
                       str(tmp_path / "w.hcp"), "--k", "1", "--G", "2")
    assert code == 0 and "against int8" in out
    code, _, _ = run(capsys, "dict", "decode", str(tmp_path / "w.hcp"), "-o",
                     str(tmp_path / "t.npy"))
    t = np.load(tmp_path / "t.npy")
    from golden import dict_codec
    assert code == 0 and t.shape == w.shape
    assert (t == dict_codec.trim(dict_codec.quantise(w)[0], 1)).all()
    code, out, _ = run(capsys, "dict", "stats", str(tmp_path / "w.npy"), "--k", "0", "3",
                       "--json")
    rows = json.loads(out)
    assert code == 0 and [r["k"] for r in rows] == [0, 3] and rows[1]["bits"] < rows[0]["bits"]


def test_dict_rejects_bad_input(capsys, tmp_path):
    np.save(tmp_path / "i.npy", np.array([1, 2], np.int32))
    np.save(tmp_path / "m.npy", np.array([-128, 2], np.int8))
    (tmp_path / "bad.hcp").write_bytes(b"HCP0\x01" + bytes(8) + bytes(8) + bytes(8))
    for argv, message in [
        (["encode", str(tmp_path / "i.npy"), "-o", str(tmp_path / "x")], "float (quantised"),
        (["encode", str(tmp_path / "m.npy"), "-o", str(tmp_path / "x")], "-127..127"),
        (["decode", str(tmp_path / "i.npy"), "-o", str(tmp_path / "x")], "not an .hcp file"),
        (["decode", str(tmp_path / "bad.hcp"), "-o", str(tmp_path / "x")], "header: N = 0"),
    ]:
        code, _, err = run(capsys, "dict", *argv)
        assert code == 2 and message in err, err


def test_noc_config_errors_name_the_file(capsys, tmp_path):
    cases = {"big.toml": ("mesh = [100000, 100000]\n", "integers in 1..256, got [100000, 100000]"),
             "int.toml": ("mesh = 5\n", "mesh must be a list of integers, got 5"),
             "mi.toml": ("memory_interfaces = [[0.5, 0]]\n", "memory_interfaces must be"),
             "bad.toml": ("mesh = [8\n", "NoC config"),
             "bin.toml": (b"\x89PNG\r\n\x1a\n\xff\xfe", "not UTF-8 text (byte 0 is b'\\x89')")}
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        code, out, err = run(capsys, "noc", "model", "--noc-config", str(path))
        assert code == 2 and out == "" and err.count("\n") == 1, name
        assert err.startswith(f"dnnpress: error: NoC config {path}: ") and message in err, err
    code, _, err = run(capsys, "noc", "model", "--cr", "")
    assert code == 2 and "--cr must be comma-separated numbers, not ''" in err


def test_noc_mesh_bound(tmp_path):
    from golden import noc_model

    f = tmp_path / "noc.toml"
    f.write_text(f"mesh = [{noc_model.MAX_MESH}, {noc_model.MAX_MESH}]\n")
    assert noc_model.load_config(f).mesh == (256, 256)
    f.write_text(f"mesh = [{noc_model.MAX_MESH + 1}, 1]\nmemory_interfaces = [[0, 0]]\n")
    with pytest.raises(ValueError, match=r"noc.toml: mesh must be \[width, height\], integers"):
        noc_model.load_config(f)


def test_stats_into_a_closed_pipe_is_quiet(tmp_path, fmap):
    _, path = fmap
    proc = subprocess.Popen([sys.executable, "-m", "dnnpress.cli", "ebpc", "stats", str(path),
                             "--blocks"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()                         # `| head` that has already read its lines
    err = proc.stderr.read().decode()
    assert proc.wait() == 141 and err == ""
