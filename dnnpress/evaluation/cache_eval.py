"""``dnnpress eval cache``: iterative inference on LeNet-5 with a cluster-index cache.

Every LeNet-5 kernel is clustered (15 clusters, 4 importance groups; :mod:`golden.cluster`);
round r of the iterative inference runs the network with groups 0..r-1 and an input stops at the
first round whose top-1 softmax probability reaches tau. The accuracy and mean rounds per tau
come from the 10,000 MNIST test images; the memory side replays the line-access trace of the
first ``--trace-images`` images (default 500; the cache is warm across inputs) through
:class:`golden.cluster_cache.CacheModel` for every cache size and policy.

Proxies (parameters in :data:`ENERGY` and :data:`SETTINGS`): energy = 20 pJ/bit DRAM + 0.16
pJ/bit cache read + 1.5 pJ/MAC (45 nm, Horowitz ISSCC 2014); cycles = misses x miss latency +
DRAM bytes / bandwidth + MACs / PEs, in a memory-bound and a balanced setting. Baselines: the
same iterative scheme without a cache (every line from DRAM), and without a cache with
uncompressed weights (each round fetches the layer's dense 16-bit weights).
"""


import numpy as np

from golden import cluster, cluster_blocks, cluster_trace
from golden.cluster_cache import POLICIES, CacheModel

from . import nets, reports

__all__ = ["TAUS", "SIZES", "ENERGY", "SETTINGS", "collect", "render_markdown", "plot", "main"]

TAUS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999)
SIZES = (512, 1024, 2048, 4096)          # cache bytes (the spec's)
#: larger caches, to show what it takes (LeNet-5's entries are about 62 KB)
LARGE = (16384, 65536)
WAYS, LINE = 4, 16
ADDR_BITS = 16       # line-address width of the cluster-cache core (valid + tag + group + age)
ENERGY = {"dram_pj_per_bit": 20.0, "cache_pj_per_bit": 0.16, "mac_pj": 1.5}
SETTINGS = {"memory-bound": {"miss_latency": 100, "bytes_per_cycle": 4, "pes": 256},
            "balanced": {"miss_latency": 20, "bytes_per_cycle": 16, "pes": 16}}
#: output positions per weight (MACs per weight per inference) of LeNet-5's layers
POSITIONS = {"conv2d_1": 28 * 28, "conv2d_2": 10 * 10, "dense_1": 1, "dense_2": 1,
             "dense_3": 1}


def _rounds(layers, run, groups):
    """Logits of every round: (rounds, images, classes)."""
    return np.stack([run({n: cluster.masked(cl, r) for n, cl in layers.items()})
                     for r in range(1, groups + 1)])


def _macs(layers, rounds):
    """MACs of an input that stops after ``rounds`` (active weights x positions per round)."""
    total = 0
    for n, cl in layers.items():
        g = cl.group().reshape(-1)
        per_round = [int((g < r).sum()) * POSITIONS[n] for r in range(1, cl.groups + 1)]
        total += sum(per_round[:rounds])
    return total


def proxies(dram_bytes, cache_bytes, macs, misses, setting):
    s = SETTINGS[setting]
    energy = (ENERGY["dram_pj_per_bit"] * 8 * dram_bytes
              + ENERGY["cache_pj_per_bit"] * 8 * cache_bytes + ENERGY["mac_pj"] * macs)
    cycles = misses * s["miss_latency"] + dram_bytes / s["bytes_per_cycle"] + macs / s["pes"]
    return energy, cycles


def collect(images=10000, trace_images=500, tau=0.9, progress=True):
    torch = nets.require("torch", "torch")
    tqdm = nets.require("tqdm", "tqdm").tqdm
    kernels = nets.lenet5_kernels()
    x, labels = nets.mnist_test(images)

    def run(ws):
        with torch.no_grad():
            return nets.lenet5(ws)(x).numpy()

    float_top1 = float((run(kernels).argmax(1) == labels).mean())
    layers = {n: cluster.cluster_layer(w) for n, w in kernels.items()}
    logits = _rounds(layers, run, 4)
    per_tau = []
    for t in TAUS:
        for rule in ("softmax",):
            stop = cluster.stop_iteration(logits, t, rule)
            pred = logits[stop - 1, np.arange(len(labels))].argmax(1)
            per_tau.append({"tau": t, "rule": rule, "top1": float((pred == labels).mean()),
                            "mean_rounds": float(stop.mean()),
                            "rounds_hist": np.bincount(stop, minlength=5)[1:].tolist()})
    margin_stop = cluster.stop_iteration(logits, 4.0, "margin")
    pred = logits[margin_stop - 1, np.arange(len(labels))].argmax(1)
    per_tau.append({"tau": 4.0, "rule": "margin", "top1": float((pred == labels).mean()),
                    "mean_rounds": float(margin_stop.mean()),
                    "rounds_hist": np.bincount(margin_stop, minlength=5)[1:].tolist()})

    stop = cluster.stop_iteration(logits, tau)
    order = list(layers)
    lay = cluster_blocks.layout([layers[n] for n in order], LINE)
    sample = stop[:trace_images]
    trace = cluster_trace.accesses(lay, len(order), sample)
    macs = sum(_macs(layers, int(k)) for k in sample)
    dense_bytes = sum(2 * w.size for w in kernels.values())
    base_rows = {
        "no cache, entries": {"dram_bytes": len(trace) * LINE, "cache_bytes": 0,
                              "misses": len(trace)},
        "no cache, dense 16-bit": {"dram_bytes": int(sample.sum()) * dense_bytes,
                                   "cache_bytes": 0, "misses": int(sample.sum())
                                   * -(-dense_bytes // LINE)},
        "one pass, dense 16-bit": {"dram_bytes": len(sample) * dense_bytes, "cache_bytes": 0,
                                   "misses": len(sample) * -(-dense_bytes // LINE)},
    }
    full_macs = len(sample) * _macs(layers, 4)
    rows = []
    for name, b in base_rows.items():
        m = full_macs if name.startswith("one pass") else macs
        rows.append({"config": name, "size": 0, "policy": "-", **b, "hits": 0,
                     "bypasses": 0, "macs": m})
    configs = [(size, policy) for size in SIZES + LARGE for policy in POLICIES]
    for size, policy in tqdm(configs, desc="cache", unit="config", disable=not progress):
        cache = CacheModel(size // (WAYS * LINE), WAYS, LINE, policy)
        for line, g, _ in trace:
            cache.access(line, g)
        c = cache.counters
        sets = size // (WAYS * LINE)
        tag_bits = sets * WAYS * (1 + ADDR_BITS - (sets - 1).bit_length() + 2 + 2)
        rows.append({"config": f"{size} B {policy}", "size": size, "policy": policy,
                     "data_bits": 8 * size, "tag_bits": tag_bits,
                     "dram_bytes": c.memory_bytes, "cache_bytes": c.hits * LINE,
                     "misses": c.misses + c.bypasses, "hits": c.hits, "bypasses": c.bypasses,
                     "macs": macs})
    n = len(sample)
    ref, dense = rows[0], rows[1]
    for r in rows:
        r["hit_rate"] = r["hits"] / len(trace) if r["size"] else 0.0
        r["dram_bytes_per_inference"] = r["dram_bytes"] / n
        for setting in SETTINGS:
            e, cyc = proxies(r["dram_bytes"], r["cache_bytes"], r["macs"], r["misses"], setting)
            e0, c0 = proxies(ref["dram_bytes"], 0, ref["macs"], ref["misses"], setting)
            e1, c1 = proxies(dense["dram_bytes"], 0, dense["macs"], dense["misses"], setting)
            r[setting] = {"energy_uj_per_inference": e / n * 1e-6,
                          "cycles_per_inference": cyc / n, "energy_gain": e0 / e,
                          "speedup": c0 / cyc, "energy_gain_vs_dense": e1 / e,
                          "speedup_vs_dense": c1 / cyc}
    return {"model": "lenet5", "images": len(labels), "trace_images": n, "tau": tau,
            "float_top1": float_top1,
            "clustered_top1": float((logits[-1].argmax(1) == labels).mean()),
            "per_tau": per_tau, "accesses": len(trace), "entry_bytes": len(lay.memory),
            "dense_bytes": dense_bytes, "energy": ENERGY, "settings": SETTINGS, "rows": rows}


def render_markdown(r):
    pct = lambda v: f"{100 * v:.2f}"  # noqa: E731
    out = ["## Cluster-index cache: iterative LeNet-5", "",
           f"Float top-1 {pct(r['float_top1'])} %; clustered (15 clusters per layer, all 4 "
           f"groups) {pct(r['clustered_top1'])} %. Entry blocks {r['entry_bytes']:,} bytes "
           f"against {r['dense_bytes']:,} bytes of dense 16-bit weights.", "",
           "### Accuracy and rounds per stopping threshold (10,000 test images)", "",
           "| rule | tau | top-1 | loss vs float | mean rounds | inputs stopping at 1/2/3/4 |",
           "|---|---:|---:|---:|---:|---|"]
    for t in r["per_tau"]:
        out.append(f"| {t['rule']} | {t['tau']:g} | {pct(t['top1'])} | "
                   f"{100 * (r['float_top1'] - t['top1']):.2f} | {t['mean_rounds']:.3f} | "
                   f"{'/'.join(map(str, t['rounds_hist']))} |")
    out += ["", f"### Memory side at tau = {r['tau']} (trace of the first {r['trace_images']} "
            f"images, {r['accesses']:,} line accesses, cache warm across inputs)", "",
            "| configuration | data + tag bits | hit rate | DRAM bytes / inference | "
            "energy uJ (mem-bound) | "
            "energy gain | speedup (mem-bound) | speedup (balanced) | vs dense no cache: "
            "speedup / energy gain (mem-bound) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for x in r["rows"]:
        bits = f"{x['data_bits']:,} + {x['tag_bits']:,}" if x["size"] else "-"
        out.append(f"| {x['config']} | {bits} | {pct(x['hit_rate'])} % | "
                   f"{x['dram_bytes_per_inference']:,.0f} | "
                   f"{x['memory-bound']['energy_uj_per_inference']:.3f} | "
                   f"{x['memory-bound']['energy_gain']:.2f}x | "
                   f"{x['memory-bound']['speedup']:.2f}x | {x['balanced']['speedup']:.2f}x | "
                   f"{x['memory-bound']['speedup_vs_dense']:.2f}x / "
                   f"{x['memory-bound']['energy_gain_vs_dense']:.2f}x |")
    spec = [x for x in r["rows"] if x["size"] in SIZES]
    best = max(spec, key=lambda x: x["memory-bound"]["speedup"])
    out += ["", f"Gains are against the iterative scheme without a cache (first row); the last "
            f"column against it with dense 16-bit weights. Best of the spec's sizes: "
            f"{best['config']}, {best['memory-bound']['speedup']:.2f}x fewer cycles and "
            f"{best['memory-bound']['energy_gain']:.2f}x less energy "
            f"({best['memory-bound']['speedup_vs_dense']:.2f}x / "
            f"{best['memory-bound']['energy_gain_vs_dense']:.2f}x with the compression counted); "
            "the paper reports 5.8x and 9x."]
    return "\n".join(out)


def plot(r, out):
    plt = reports.pyplot()

    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    soft = [t for t in r["per_tau"] if t["rule"] == "softmax"]
    a.plot([t["mean_rounds"] for t in soft], [100 * t["top1"] for t in soft], marker="o")
    for t in soft:
        a.annotate(f"{t['tau']:g}", (t["mean_rounds"], 100 * t["top1"]), fontsize=7)
    a.axhline(100 * r["float_top1"] - 1, color="gray", ls=":", lw=0.8, label="float - 1 point")
    a.set_xlabel("mean rounds per input")
    a.set_ylabel("top-1 (%)")
    a.set_title("iterative LeNet-5: accuracy vs rounds (tau)", fontsize=9)
    a.legend(fontsize=7)
    for policy in POLICIES:
        xs = [x for x in r["rows"] if x["policy"] == policy]
        b.plot([x["size"] for x in xs], [x["memory-bound"]["speedup"] for x in xs], marker="o",
               label=f"{policy}: speedup")
        b.plot([x["size"] for x in xs], [x["memory-bound"]["energy_gain"] for x in xs],
               marker="x", ls="--", label=f"{policy}: energy gain")
    b.set_xscale("log", base=2)
    b.set_xlabel("cache bytes")
    b.set_ylabel("gain against no cache (memory-bound)")
    b.set_title(f"cache size and policy, tau = {r['tau']}", fontsize=9)
    b.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "cache_lenet5.png", dpi=120)
    plt.close(fig)


def main(images=10000, trace_images=500, tau=0.9, out=None, progress=True):
    r = collect(images, trace_images, tau, progress)
    return reports.write(r, "cache_lenet5", render_markdown(r), plot, out)
