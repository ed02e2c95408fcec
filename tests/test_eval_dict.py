"""``dnnpress eval dict`` on a small slice (skips, naming the package, without `make eval`)."""

import numpy as np
import pytest

from golden import dict_codec as dc


def test_huffman_lengths_and_literal_estimate():
    assert dc.huffman_lengths([5, 0, 1, 1, 10]).tolist() == [2, 0, 3, 3, 1]
    assert dc.huffman_lengths([0, 7]).tolist() == [0, 1]
    t = np.array([0, 0, 0, 16, 0, 0, -16, 0] * 3 + [112, 0, 0, 0], np.int8)
    e = dc.encode(t, 4, g=4, b=1, r=0)
    assert e.literals > 0 and e.huffman_literal_bits() != e.bits
    assert dc.load_order(np.arange(6).reshape(1, 3, 2)).tolist() == [0, 2, 4, 1, 3, 5]


def test_lenet_slice(tmp_path):
    for m in ("torch", "h5py", "zstandard", "matplotlib", "tqdm"):
        pytest.importorskip(m, reason=f"{m} not installed: `make eval` installs the evaluation "
                                      "packages")
    from dnnpress.evaluation import dict_eval

    try:
        r = dict_eval.main("lenet5", images=300, out=tmp_path, progress=False)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    sweep = [x for x in r["rows"] if x["kind"] == "k sweep" and x["scope"] == "layer"]
    assert [x["k"]["dense_1"] for x in sweep] == list(range(7))
    assert all(a["bits"] > b["bits"] for a, b in zip(sweep, sweep[1:]))   # more trim, fewer bits
    assert sweep[0]["top1"] > 0.95 and r["weights"] == 61470
    assert len([x for x in r["rows"] if x["kind"] == "G x B x R"]) == 7 * 4 * 7 * 3
    assert (tmp_path / "dict_lenet5.png").stat().st_size > 1000
    assert "zstd" in (tmp_path / "dict_lenet5.md").read_text()
