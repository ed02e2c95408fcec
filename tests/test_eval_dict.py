"""``dnnpress eval dict`` on small slices (skips, naming the package, without `make eval`)."""

import numpy as np
import pytest

from golden import dict_codec as dc

EVAL = ("torch", "h5py", "zstandard", "matplotlib", "tqdm")


def _need(*modules):
    for m in modules:
        pytest.importorskip(m, reason=f"{m} not installed: `make eval` installs the evaluation "
                                      "packages")


def _run(name, tmp_path, **kwargs):
    from dnnpress.evaluation import dict_eval, nets

    try:
        return dict_eval.main(name, out=tmp_path, progress=False, **kwargs)
    except (FileNotFoundError, nets.MissingPackage) as exc:
        pytest.skip(str(exc))


def test_huffman_lengths_and_literal_estimate():
    assert dc.huffman_lengths([5, 0, 1, 1, 10]).tolist() == [2, 0, 3, 3, 1]
    assert dc.huffman_lengths([0, 7]).tolist() == [0, 1]
    t = np.array([0, 0, 0, 16, 0, 0, -16, 0] * 3 + [112, 0, 0, 0], np.int8)
    e = dc.encode(t, 4, g=4, b=1, r=0)
    assert e.literals > 0 and e.huffman_literal_bits() != e.bits
    assert dc.load_order(np.arange(6).reshape(1, 3, 2)).tolist() == [0, 2, 4, 1, 3, 5]


def test_quantisers_and_scale_bits():
    """Per-channel and nearest-level quantisers give valid trimmed weights; scales are
    charged 16 bits per output channel or 32 per layer; the load order is filter-major."""
    _need("zstandard")
    from dnnpress.evaluation import dict_eval

    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 4, 5)) * np.array([1, 10, 0.1, 0, 2])      # out axis last
    ev = dict_eval.Evaluation("x", weights={"a": (w, 2), "b": (w.T.copy(), 0)})
    assert ev.scale_bits == {"channel": 2 * 16 * 5, "layer": 64, "channel nearest": 160,
                             "layer nearest": 64}
    assert ev.order["a"][:3].tolist() == [0, 5, 10]                  # channel 0 first
    for k in (0, 3, 5):
        for q in dict_eval.QUANTISERS:
            t, s = ev.trimmed("a", k, q)
            assert np.array_equal(dc.trim(t, k), t) and np.abs(t).max() <= 127 >> k << k
            err = np.abs(ev.dequantised("a", k, q) - w)
            step = (s * (1 << k)) if np.ndim(s) == 0 else (s * (1 << k))[None, None, :]
            if q.endswith("nearest"):
                assert (err <= step / 2 + 1e-6).all()                # rounded, not truncated
            else:
                assert (err < step + 1e-6).all()
        assert np.abs(ev.trimmed("a", k, "channel nearest")[0][..., 1]).max() == 127 >> k << k
    c = ev.coders({"a": 4, "b": 4}, "channel")
    assert set(c) == {"v1", "v0", "zstd", "entropy"}
    assert c["v1"]["ratio_int8"] == 8 * w.size * 2 / (c["v1"]["bits"] + 160)


def test_lenet_slice(tmp_path):
    _need(*EVAL)
    from dnnpress.evaluation import dict_eval

    ranges = dict_eval.Ranges(k=(0, 3, 4, 5), g=(2, 4), b=(4, 6), r=(0, 4))
    r = _run("lenet5", tmp_path, images=400, ranges=ranges)
    assert r["weights"] == 61470 and r["items"] == 400 and r["metric"] == "top-1"
    for q in dict_eval.QUANTISERS:
        sweep = [x for x in r["rows"] if x["kind"] == "k sweep" and x["scope"] == q]
        assert [x["k"]["dense_1"] for x in sweep] == [0, 3, 4, 5]
        bits = [x["coders"]["v1"]["bits"] for x in sweep]
        assert bits == sorted(bits, reverse=True)                     # more trim, fewer bits
        assert all(x["coders"]["v1"]["bits"] < x["coders"]["v0"]["bits"] for x in sweep)
        assert sweep[0]["score"] > 0.95
    assert len([x for x in r["rows"] if x["kind"] == "G x B x R"]) == 4 * 4 * 2 * 2 * 2
    per = [x for x in r["rows"] if x["kind"] == "per-layer k"]
    assert {x["method"] for x in per} == {"sensitivity", "greedy", "uniform",
                                          "greedy, quantiser and k per layer"}
    assert all(x["calibration_loss"] is not None and x["loss"] is not None for x in per)
    assert (tmp_path / "dict_lenet5.png").stat().st_size > 1000
    text = (tmp_path / "dict_lenet5.md").read_text()
    assert "zstd" in text and "Goal: >= 3.5x" in text and "Runtime" in text


def test_ten_crop_views():
    _need("PIL", "torch")
    from dnnpress.evaluation import nets

    try:
        files = nets.photo_files(1)
    except nets.MissingPackage as exc:
        pytest.skip(str(exc))
    pre = nets.Preprocess()
    v = pre.ten_crop(files[0])
    assert v.shape == (10, 3, 224, 224) and len(nets.TEN_CROP) == 10
    assert np.array_equal(v[0], pre.image(files[0]))                  # centre = the 20-photo crop
    assert np.array_equal(v[5], v[0][..., ::-1])                      # mirrored
    assert not np.array_equal(v[1], v[4])
    views, labels = nets.imagenet_views(1)
    assert views.shape == (10, 3, 224, 224) and labels.tolist() == [243]


def test_mobilenet_slice(tmp_path):
    """Two photos (20 views), k 0 and 1, one G/B/R, no greedy raise: agreement is 100 % with
    the float model at k = 0, and the report names the goal."""
    _need(*EVAL, "PIL")
    from dnnpress.evaluation import dict_eval

    ranges = dict_eval.Ranges(k=(0, 1), quantisers=("channel",), g=(4,), b=(4,), r=(4,))
    r = _run("mobilenetv2", tmp_path, images=2, ranges=ranges, levels=0)
    assert r["items"] == 20 and r["metric"] == "agreement" and r["weights"] == 3469760
    k0 = next(x for x in r["rows"] if x["kind"] == "k sweep" and x["k"]["classifier.1.weight"] == 0)
    assert k0["score"] >= 0.9 and "photo_top1" in k0
    assert "Goal: >= 1.5x" in (tmp_path / "dict_mobilenetv2.md").read_text()


def test_resnet50_ratios(tmp_path):
    _need("onnx", "zstandard", "matplotlib", "tqdm", "torch")
    from dnnpress.evaluation import dict_eval

    ranges = dict_eval.Ranges(k=(4,), quantisers=("channel",), g=(4,), b=(4,), r=(4,))
    r = _run("resnet50", tmp_path, ranges=ranges)
    assert r["weights"] == 5877952 and len(r["layers"]) == 54
    c = r["rows"][0]["coders"]
    assert c["v1"]["ratio_int8"] > c["v0"]["ratio_int8"] > 1
    assert "ratios only" in (tmp_path / "dict_resnet50.md").read_text()
