"""``dnnpress noc sweep`` on a small slice (skips, naming the package, without `make eval`)."""

import json

import numpy as np
import pytest

from golden.noc_compress import reorder, restore


def test_filter_major_order_round_trips():
    w = np.arange(5 * 5 * 2 * 3).reshape(5, 5, 2, 3)
    seq = reorder(w, "filter")
    assert seq[:50].tolist() == w[..., 0].reshape(-1).tolist()        # filter 0 first, whole
    assert (restore(seq, w.shape, "filter") == w).all()
    assert (restore(reorder(w), w.shape) == w).all()
    with pytest.raises(ValueError, match="order must be one of stored, filter"):
        reorder(w, "random")


def test_sweep_slice(tmp_path):
    for m in ("torch", "h5py", "matplotlib", "tqdm"):
        pytest.importorskip(m, reason=f"{m} not installed: `make eval` installs the evaluation "
                                      "packages")
    from dnnpress.evaluation import noc_sweep

    try:
        r = noc_sweep.main(images=400, out=tmp_path, progress=False, grid=(0, 10),
                           budgets=(1.0,))
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    rows = r["rows"]
    assert len(rows) == 2 * 6 + 2 * 6 + 2 + 2 + 1
    assert r["baseline"]["top1"] > 0.95
    paper = {x["percent"]: x for x in rows if x["scheme"] == "paper" and x["scope"] == "all"}
    assert paper[10]["cr"] > paper[0]["cr"] > 1 and paper[10]["latency_reduction"] > 0
    sens = rows[-1]
    assert sens["scheme"] == "fit8-sens" and set(sens["percents"]) == set(noc_sweep.LAYERS)
    for x in rows:                     # bits moved are the encoded bits, headers included
        assert x["weight_dram_bits"] == pytest.approx(x["bits"])
    saved = json.loads((tmp_path / "noc_lenet5.json").read_text())
    assert saved["noc_model"]["uniform_cr"]["2"]["latency_reduction"] == pytest.approx(0.49,
                                                                                       abs=0.01)
    assert (tmp_path / "noc_lenet5_latency.png").stat().st_size > 1000
    assert "| paper | all | 10 |" in (tmp_path / "noc_lenet5.md").read_text()
