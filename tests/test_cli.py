"""The dnnpress command line: EBPC file round trip, stats, and clear errors with exit status 2."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dnnpress import cli, cores
from golden import dict_codec, dict_file, ebpc_file


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
    (znz, bpc), = f.transfers
    bad = ebpc_file.EBPCFile(f.word_bits, f.block_size, f.shape, ((znz[:-1], bpc),))
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
    assert code == 0 and f"{len(cores.CORES)} core(s) and their AXI4-Stream tops emitted" in out
    assert {p.name for p in (tmp_path / "verilog").iterdir()} == \
        {f"{cores.module(c, axis)}.v" for c in cores.CORES.values() for axis in (False, True)}


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


def test_dict_v1_per_channel_scales(capsys, tmp_path):
    """``--format`` v0 / v1 and ``--scales channel --axis``: the .hcp decodes to the per-channel
    quantised, trimmed weights, and ``--dequantise`` multiplies each channel by its scale."""
    from golden import dict_codec
    w = np.random.default_rng(4).laplace(0, 1, (6, 40, 9)) * np.arange(1, 7)[:, None, None]
    np.save(tmp_path / "w.npy", w.astype(np.float32))
    bits = {}
    for fmt in ("v0", "v1"):
        code, out, _ = run(capsys, "dict", "encode", str(tmp_path / "w.npy"), "-o",
                           str(tmp_path / f"{fmt}.hcp"), "--k", "2", "--format", fmt,
                           "--scales", "channel", "--axis", "0")
        assert code == 0 and f"HC-P {fmt}" in out and "6 scales along axis 0" in out
        code, out, _ = run(capsys, "dict", "decode", str(tmp_path / f"{fmt}.hcp"), "-o",
                           str(tmp_path / "t.npy"), "--dequantise")
        q, s = dict_codec.quantise(w.astype(np.float32), axis=0)
        want = dict_codec.trim(q, 2).astype(np.float32) * s[:, None, None].astype(np.float32)
        assert code == 0 and f"HC-P {fmt}" in out
        assert np.array_equal(np.load(tmp_path / "t.npy"), want)
        code, out, _ = run(capsys, "dict", "stats", str(tmp_path / "w.npy"), "--k", "2",
                           "--format", fmt, "--scales", "channel", "--json")
        bits[fmt] = json.loads(out)[0]["bits"]
    assert bits["v1"] < bits["v0"]
    np.save(tmp_path / "q.npy", np.ones(4, np.int8))
    code, _, err = run(capsys, "dict", "encode", str(tmp_path / "w.npy"), "-o",
                       str(tmp_path / "x.hcp"), "--scales", "channel", "--axis", "3")
    assert code == 2 and "--axis 3 is outside the input's 3 dimensions" in err
    assert not (tmp_path / "x.hcp").exists()
    code, _, err = run(capsys, "dict", "encode", str(tmp_path / "q.npy"), "-o",
                       str(tmp_path / "x.hcp"), "--scales", "channel")
    assert code == 2 and "int8 input is already quantised" in err


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


def files(folder):
    """Every path under ``folder`` with its bytes: what a refused command must leave as it was."""
    return {p: p.read_bytes() if p.is_file() else None for p in folder.rglob("*")}


def refused(capsys, argv, message, folder):
    """Run ``argv``; it must exit 2 with one error line holding ``message`` and change nothing
    under ``folder``."""
    before = files(folder)
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and err.count("\n") == 1, (argv, err)
    assert err.startswith("dnnpress: error: ") and message in err, (argv, err)
    assert "Traceback" not in err and files(folder) == before, argv


@pytest.fixture
def inputs(tmp_path, fmap):
    """An .npy feature map, its .ebpc, float weights and their .hcp in ``tmp_path``."""
    x, path = fmap
    (tmp_path / "x.ebpc").write_bytes(ebpc_file.pack(ebpc_file.EBPCFile.compress(x)))
    w = np.random.default_rng(3).normal(0, 1, (4, 9)).astype(np.float32)
    np.save(tmp_path / "w.npy", w)
    q, scale = dict_codec.quantise(w)
    (tmp_path / "w.hcp").write_bytes(
        dict_file.pack(w.shape, scale, dict_codec.encode(q.reshape(-1), 0).stream))
    (tmp_path / "file.txt").write_text("a file\n")
    return {"ebpc encode": "x.npy", "ebpc decode": "x.ebpc", "dict encode": "w.npy",
            "dict decode": "w.hcp"}


@pytest.mark.parametrize("command", ["ebpc decode", "dict decode"])
def test_decode_writes_exactly_the_path_given(capsys, tmp_path, inputs, command):
    code, _, _ = run(capsys, *command.split(), str(tmp_path / inputs[command]), "-o",
                     str(tmp_path / "out.bin"))
    assert code == 0 and not (tmp_path / "out.bin.npy").exists()
    y = np.load(tmp_path / "out.bin")
    assert y.dtype == np.int8 and y.shape in {(3, 8, 8), (4, 9)}
    assert not list(tmp_path.glob(".*"))                # no temporary file left behind


@pytest.mark.parametrize("command", ["ebpc encode", "ebpc decode", "dict encode",
                                     "dict decode"])
@pytest.mark.parametrize("output,message", [
    ("missing/out", "folder {tmp}/missing does not exist"),
    (".", "is a folder; give the name of the file to write"),
    ("file.txt/out", "file.txt is not a folder"),
    ("/dev/full", "/dev/full: cannot write: No space left on device"),
    ("/sys/out", "/sys/out: "),          # not writable (Permission denied even for root)
    ("INPUT", "is the input file"),
])
def test_bad_output_paths_are_refused(capsys, tmp_path, inputs, command, output, message):
    src = str(tmp_path / inputs[command])
    output = src if output == "INPUT" else output
    if not output.startswith("/"):
        output = str(tmp_path / output)
    refused(capsys, [*command.split(), src, "-o", output], message.format(tmp=tmp_path),
            tmp_path)


def test_output_through_a_symlink_and_to_a_device(capsys, tmp_path, inputs):
    (tmp_path / "link.npy").symlink_to(tmp_path / "target.npy")
    assert run(capsys, "ebpc", "decode", str(tmp_path / "x.ebpc"), "-o",
               str(tmp_path / "link.npy"))[0] == 0
    assert (tmp_path / "link.npy").is_symlink() and np.load(tmp_path / "target.npy").size == 192
    assert run(capsys, "ebpc", "decode", str(tmp_path / "x.ebpc"), "-o", "/dev/null")[0] == 0
    (tmp_path / "in.ebpc").symlink_to(tmp_path / "x.ebpc")
    refused(capsys, ["ebpc", "decode", str(tmp_path / "in.ebpc"), "-o",
                     str(tmp_path / "x.ebpc")], "is the input file", tmp_path)


@pytest.mark.parametrize("command", ["emit ebpc-encoder", "build"])
@pytest.mark.parametrize("output,message", [
    ("file.txt", "file.txt: is a file, not a folder"),
    ("file.txt/sub", "file.txt is not a folder"),
    ("/dev/full", "/dev/full"),
    ("/sys/dnnpress", "/sys/dnnpress"),
])
def test_bad_output_folders_are_refused(capsys, tmp_path, command, output, message):
    (tmp_path / "file.txt").write_text("a file\n")
    if not output.startswith("/"):
        output = str(tmp_path / output)
    refused(capsys, [*command.split(), "-o", output], message, tmp_path)


def test_emit_makes_missing_folders(capsys, tmp_path):
    code, out, _ = run(capsys, "emit", "ebpc-decoder", "-o", str(tmp_path / "a" / "b"))
    assert code == 0 and (tmp_path / "a" / "b" / "ebpc_decoder.v").is_file()
    assert [p.name for p in tmp_path.rglob("*")] == ["a", "b", "ebpc_decoder.v"]


def test_failed_write_leaves_nothing(tmp_path):
    from dnnpress import outputs

    target = tmp_path / "out.npy"
    target.write_bytes(b"old")

    def half(f_or_folder):
        if isinstance(f_or_folder, Path):
            (f_or_folder / "a.v").write_text("half")
        else:
            f_or_folder.write(b"half")
        raise ValueError("stopped")

    with pytest.raises(ValueError, match="stopped"):
        outputs.write_file(target, half)
    with pytest.raises(ValueError, match="stopped"):
        outputs.write_folder(tmp_path / "new", half)
    assert files(tmp_path) == {target: b"old"}


def npy_header(path, descr, shape, data=b""):
    """A .npy file with a hand-made header: what a broken or hostile writer leaves."""
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": descr, "fortran_order": False,
                                                 "shape": shape})
        f.write(data)


@pytest.mark.parametrize("command", ["ebpc encode", "ebpc stats", "dict encode", "dict stats"])
def test_bad_npy_inputs_are_refused(capsys, tmp_path, command):
    (tmp_path / "empty.npy").write_bytes(b"")
    (tmp_path / "text.npy").write_text("not numpy\n")
    npy_header(tmp_path / "huge.npy", "|i1", (10**12,), bytes(64))
    npy_header(tmp_path / "wide.npy", "<i2", (2**40, 2**40), bytes(64))
    np.save(tmp_path / "objects.npy", np.array([1, None], object), allow_pickle=True)
    cases = {"empty.npy": "empty file, not a .npy array",
             "text.npy": "not a .npy array (",
             "huge.npy": "header says shape (1000000000000,) of int8 (1000000000000 bytes of "
                         "data), the file holds 64 after the header",
             "wide.npy": f"shape (1099511627776, 1099511627776) of int16 ({2 * 2**80} bytes",
             "objects.npy": "holds Python objects (object), not numbers",
             "none.npy": "none.npy: no such file"}
    for name, message in cases.items():
        out = [] if "stats" in command else ["-o", str(tmp_path / "out")]
        refused(capsys, [*command.split(), str(tmp_path / name), *out], message, tmp_path)


def test_big_endian_input_is_read_as_native(capsys, tmp_path):
    x = np.random.default_rng(4).integers(-300, 300, (6, 5)).astype(">i2")
    np.save(tmp_path / "be.npy", x)
    assert run(capsys, "ebpc", "encode", str(tmp_path / "be.npy"), "-o",
               str(tmp_path / "be.ebpc"))[0] == 0
    assert run(capsys, "ebpc", "decode", str(tmp_path / "be.ebpc"), "-o",
               str(tmp_path / "le.npy"))[0] == 0
    y = np.load(tmp_path / "le.npy")
    assert y.dtype == np.int16 and np.array_equal(y, x)
    np.save(tmp_path / "w.npy", np.linspace(-1, 1, 24, dtype=">f4"))
    assert run(capsys, "dict", "stats", str(tmp_path / "w.npy"), "--k", "0")[0] == 0


@pytest.mark.parametrize("command", ["dict encode", "dict stats"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_dict_refuses_non_finite_weights(capsys, tmp_path, command, bad):
    w = np.ones((3, 4), np.float32)
    w[1, 2] = bad
    np.save(tmp_path / "w.npy", w)
    out = [] if "stats" in command else ["-o", str(tmp_path / "w.hcp")]
    refused(capsys, [*command.split(), str(tmp_path / "w.npy"), *out],
            "weights must be finite numbers, not NaN or inf (1 of them, the first at index "
            "(1, 2))",
            tmp_path)


@pytest.mark.parametrize("scale", [np.nan, np.inf, 0.0, -0.5])
@pytest.mark.parametrize("version", [0, 2])
def test_hcp_with_a_bad_scale_is_refused(capsys, tmp_path, inputs, scale, version):
    from golden import crc

    blob = (tmp_path / "w.hcp").read_bytes()[:-4]
    at = 5 + 8 * blob[4]                 # version 2: the axis byte, then the scale
    body = blob if version else b"HCP0" + blob[4:at] + blob[at + 1:]
    at += 1 if version else 0
    body = body[:at] + np.float64(scale).tobytes() + body[at + 8:]
    (tmp_path / "s.hcp").write_bytes(crc.seal(body) if version else body)
    refused(capsys, ["dict", "decode", str(tmp_path / "s.hcp"), "-o", str(tmp_path / "o.npy"),
                     "--dequantise"], ".hcp scale must be a finite number > 0", tmp_path)


def test_dict_encode_warns_when_the_engine_cannot_take_the_stream(capsys, tmp_path, inputs):
    engine = {p.name: p.choices for p in cores.core("dict-decoder").params}
    for g in (3, 16):
        assert g not in engine["G"]
        code, _, err = run(capsys, "dict", "encode", str(tmp_path / "w.npy"), "-o",
                           str(tmp_path / f"g{g}.hcp"), "--G", str(g))
        assert code == 0 and (tmp_path / f"g{g}.hcp").is_file()
        takes = ", ".join(map(str, engine["G"]))
        assert err == (f"dnnpress: warning: the dict-decoder core cannot decode streams with "
                       f"G={g} (it takes G in {takes}); only the golden model can\n")
    for g in engine["G"]:
        code, _, err = run(capsys, "dict", "encode", str(tmp_path / "w.npy"), "-o",
                           str(tmp_path / "ok.hcp"), "--G", str(g), "--B", "8", "--R", "8")
        assert code == 0 and err == ""


def test_stats_into_a_closed_pipe_is_quiet(tmp_path, fmap):
    _, path = fmap
    proc = subprocess.Popen([sys.executable, "-m", "dnnpress.cli", "ebpc", "stats", str(path),
                             "--blocks"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()                         # `| head` that has already read its lines
    err = proc.stderr.read().decode()
    assert proc.wait() == 141 and err == ""
