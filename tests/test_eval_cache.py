"""``dnnpress eval cache`` on a small slice (skips, naming the package, without `make eval`)."""

import numpy as np
import pytest

from dnnpress.evaluation import cache_eval, nets
from golden import cluster


def test_proxies_follow_the_spec():
    e, c = cache_eval.proxies(dram_bytes=10, cache_bytes=100, macs=1000, misses=2,
                              setting="memory-bound")
    assert e == pytest.approx(20 * 80 + 0.16 * 800 + 1.5 * 1000)
    s = cache_eval.SETTINGS["memory-bound"]
    assert c == pytest.approx(2 * s["miss_latency"] + 10 / s["bytes_per_cycle"]
                              + 1000 / s["pes"])
    # once per cluster: adds and multiplies at their own energies; hits and partial sums
    e2, c2 = cache_eval.proxies(10, 100, 1000, 2, "memory-bound", hits=7, mults=30,
                                psum_bytes=400)
    assert e2 == pytest.approx(e - 1.5 * 1000 + 0.4 * 1000 + 1.1 * 30 + 0.16 * 8 * 400)
    assert c2 == pytest.approx(c + 7 + 400 / 4 / s["pes"])
    e3, c3 = cache_eval.proxies(10, 100, 1000, 2, "memory-bound", psum_bytes=400,
                                psum_on_chip=False)
    assert e3 == pytest.approx(e + 20 * 8 * 400)
    assert c3 == pytest.approx(c + 400 / s["bytes_per_cycle"])


def _needs_eval_packages():
    for m in ("torch", "h5py", "matplotlib", "tqdm"):
        pytest.importorskip(m, reason=f"{m} not installed: `make eval` installs the evaluation "
                                      "packages")


def test_staged_forward_is_the_network():
    _needs_eval_packages()
    import torch

    try:
        kernels = nets.lenet5_kernels()
        x, _ = nets.mnist_test(200)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    layers = {n: cluster.cluster_layer(w) for n, w in kernels.items()}
    m = nets.lenet5()
    biases = dict(zip(layers, (m.conv1.bias, m.conv2.bias, m.dense1.bias, m.dense2.bias,
                               m.dense3.bias)))
    with torch.no_grad():
        want = np.stack([nets.lenet5({n: cluster.masked(cl, r) for n, cl in layers.items()})(x)
                         .numpy() for r in range(1, 5)])
    got = cache_eval.staged_logits(layers, biases, x, chunk=64)
    assert np.abs(got - want).max() < 1e-4
    once = cache_eval.staged_logits(layers, biases, x, per_cluster=True, chunk=64)
    assert np.abs(once - want).max() < 1e-3                # exact but for float32 rounding
    psum = cache_eval.staged_logits(layers, biases, x, partial_sums=True, chunk=64)
    assert np.abs(psum[0] - want[0]).max() < 1e-4          # round 1 is the same computation
    assert np.abs(psum[3] - want[3]).max() > 1             # later rounds are not


def test_lenet_slice(tmp_path):
    _needs_eval_packages()
    try:
        r = cache_eval.main(images=500, trace_images=5, out=tmp_path, progress=False, batch=4,
                            jobs=1)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    assert r["float_top1"] > 0.95 and r["clustered_top1"] > 0.95
    soft = [t for t in r["per_tau"] if t["rule"] == "softmax"]
    assert all(a["mean_rounds"] <= b["mean_rounds"] for a, b in zip(soft, soft[1:]))
    acc = r["accuracy"]
    assert acc["batch"]["top1"] == acc["per-input"]["top1"]
    assert abs(acc["compute once"]["top1"] - acc["per-input"]["top1"]) <= 0.002
    assert not acc["partial sums"]["exact"] and acc["batch + compute once"]["exact"]
    rows = {(x["schedule"], x["size"], x["policy"]): x for x in r["rows"]}
    base = rows["per-input", 0, "-"]
    assert base["memory-bound"]["speedup"] == pytest.approx(1.0)
    assert base["memory-bound"]["energy_gain"] == pytest.approx(1.0)
    assert rows["per-input", 4096, "pinned"]["hit_rate"] >= \
        rows["per-input", 512, "pinned"]["hit_rate"]
    assert rows["per-input", 65536, "pinned"]["memory-bound"]["speedup"] > 1
    # the batch schedule's cache is what saves: without one it costs what per-input costs
    assert rows["batch", 0, "-"]["dram_bytes"] == base["dram_bytes"]
    assert rows["batch", 4096, "lru"]["hit_rate"] > rows["per-input", 4096, "lru"]["hit_rate"]
    assert rows["partial sums", 0, "-"]["accesses"] < base["accesses"]
    assert rows["compute once", 0, "-"]["memory-bound"]["energy_gain"] > 1
    sweep = [x for x in r["batch_sweep"] if x["schedule"] == "batch"]
    assert [x["batch"] for x in sweep] == sorted(set(cache_eval.BATCH_SWEEP) | {4})
    assert all(a["hit_rate"] <= b["hit_rate"] for a, b in zip(sweep, sweep[1:]))
    assert (tmp_path / "cache_lenet5.png").stat().st_size > 1000
    assert "Goal (5.8x, 9x)" in (tmp_path / "cache_lenet5.md").read_text()
