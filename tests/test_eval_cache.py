"""``dnnpress eval cache`` on a small slice (skips, naming the package, without `make eval`)."""

import pytest

from dnnpress.evaluation import cache_eval


def test_proxies_follow_the_spec():
    e, c = cache_eval.proxies(dram_bytes=10, cache_bytes=100, macs=1000, misses=2,
                              setting="memory-bound")
    assert e == pytest.approx(20 * 80 + 0.16 * 800 + 1.5 * 1000)
    s = cache_eval.SETTINGS["memory-bound"]
    assert c == pytest.approx(2 * s["miss_latency"] + 10 / s["bytes_per_cycle"]
                              + 1000 / s["pes"])


def test_lenet_slice(tmp_path):
    for m in ("torch", "h5py", "matplotlib", "tqdm"):
        pytest.importorskip(m, reason=f"{m} not installed: `make eval` installs the evaluation "
                                      "packages")
    try:
        r = cache_eval.main(images=500, trace_images=5, out=tmp_path, progress=False)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    assert r["float_top1"] > 0.95 and r["clustered_top1"] > 0.95
    soft = [t for t in r["per_tau"] if t["rule"] == "softmax"]
    assert all(a["mean_rounds"] <= b["mean_rounds"] for a, b in zip(soft, soft[1:]))
    rows = {x["config"]: x for x in r["rows"]}
    assert rows["no cache, entries"]["memory-bound"]["speedup"] == 1.0
    assert rows["4096 B pinned"]["hit_rate"] >= rows["512 B pinned"]["hit_rate"]
    assert rows["65536 B pinned"]["memory-bound"]["speedup"] > 1
    assert (tmp_path / "cache_lenet5.png").stat().st_size > 1000
