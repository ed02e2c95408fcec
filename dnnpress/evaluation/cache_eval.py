"""``dnnpress eval cache``: iterative inference on LeNet-5 with a cluster-index cache, under
schedules that use its temporal and spatial reuse.

Every LeNet-5 kernel is clustered (15 clusters, 4 importance groups; :mod:`golden.cluster`);
round r of the iterative inference runs the network with groups 0..r-1 and an input stops at the
first round whose top-1 softmax probability reaches tau. The accuracy and mean rounds per tau
come from the 10,000 MNIST test images; the memory side replays the line-access trace of the
first ``--trace-images`` images (default 500) through
:class:`golden.cluster_cache.CacheModel` for every schedule, cache size and policy.

Schedules (:data:`SCHEDULES`; the trace options of :func:`golden.cluster_trace.accesses`):

- per input (the issue's baseline when run without a cache): input after input, round r
  re-fetches groups 0..r-1 of every layer; the cache stays warm across inputs;
- batch: ``--batch`` inputs layer by layer, each layer's active lines in tiles of the cache's
  capacity, every running input walking the tile (the first misses, the others can hit). Exact:
  the same arithmetic per input, reordered;
- partial sums: round r + 1 fetches and computes only group r and adds it to the layer's stored
  pre-activation sums. Not exact beyond the first layer (a layer's input changes between
  rounds); its accuracy is measured with a torch forward doing exactly that;
- compute once per cluster: per output, sum the inputs of each cluster, then one multiply per
  cluster. Same lines; exact in exact arithmetic (its float32 forward is measured too).

Proxies (parameters in :data:`ENERGY`, :data:`PSUM` and :data:`SETTINGS`): energy = 20 pJ/bit
DRAM + 0.16 pJ/bit cache read + 1.5 pJ/MAC, or 0.4 pJ per add + 1.1 pJ per multiply computing
once per cluster (45 nm, Horowitz ISSCC 2014: 16-bit float add 0.4 pJ, multiply 1.1 pJ, 8 KB
SRAM 10 pJ per 64-bit read) + partial-sum traffic (on chip at the cache's pJ/bit, off chip at
DRAM's when the batch's sums exceed the :data:`PSUM` buffer); cycles = misses x miss latency +
DRAM bytes / bandwidth + MACs / PEs + hits (one per cycle) + partial-sum traffic, in a
memory-bound and a balanced setting. Baselines: (a) the per-input scheme without a cache
(every line from DRAM), (b) the same with dense 16-bit weights (each round fetches every
layer's dense weights).
"""

import multiprocessing
import os
from dataclasses import asdict, dataclass

import numpy as np

from golden import cluster, cluster_blocks, cluster_trace
from golden.cluster_cache import POLICIES, CacheModel
from hw.cluster.cache import storage_bits

from . import nets, reports

__all__ = ["TAUS", "SIZES", "LARGE", "BATCH", "ENERGY", "PSUM", "SETTINGS", "Schedule",
           "SCHEDULES", "proxies", "staged_logits", "collect", "render_markdown", "plot",
           "main"]

TAUS = (0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999)
SIZES = (512, 1024, 2048, 4096)          # cache bytes (the spec's)
#: larger caches, to show what it takes (LeNet-5's entries are about 62 KB)
LARGE = (16384, 65536)
WAYS, LINE = 4, 16
BATCH = 32           # inputs per batch of the batch schedules (--batch)
#: batch sizes measured beside --batch, at one cache size and policy
BATCH_SWEEP, SWEEP = (1, 4, 8, 16, 32, 64), (4096, "lru")
ADDR_BITS = 16       # line-address width of the cluster-cache core
GROUP_BITS = 2       # importance-group width of the cluster-cache core (4 groups)
ENERGY = {"dram_pj_per_bit": 20.0, "cache_pj_per_bit": 0.16, "mac_pj": 1.5, "add_pj": 0.4,
          "mul_pj": 1.1}
#: partial sums: bits per stored pre-activation sum; the on-chip buffer that holds a batch's
#: sums (at the cache's pJ/bit), beyond which they go off chip (DRAM pJ/bit and bandwidth)
PSUM = {"bits": 32, "buffer_bytes": 65536}
#: activations are stored with this many bits between layers (the batch's storage)
ACT_BITS = 16
SETTINGS = {"memory-bound": {"miss_latency": 100, "bytes_per_cycle": 4, "pes": 256,
                             "hits_per_cycle": 1},
            "balanced": {"miss_latency": 20, "bytes_per_cycle": 16, "pes": 16,
                         "hits_per_cycle": 1}}
#: per LeNet-5 layer: output positions per weight, input activations, pre-activation sums and
#: (pooled) output activations of one input
LAYERS = {"conv2d_1": (28 * 28, 1 * 32 * 32, 6 * 28 * 28, 6 * 14 * 14),
          "conv2d_2": (10 * 10, 6 * 14 * 14, 16 * 10 * 10, 16 * 5 * 5),
          "dense_1": (1, 400, 120, 120), "dense_2": (1, 120, 84, 84), "dense_3": (1, 84, 10, 10)}
#: pre-activation sums of one input, all layers (what partial-sum reuse stores)
SUMS_PER_INPUT = sum(v[2] for v in LAYERS.values())


@dataclass(frozen=True)
class Schedule:
    """One schedule: ``batch`` (layer by layer over a batch, tiled), ``partial_sums`` (round
    r + 1 adds only group r) and ``per_cluster`` (compute once per cluster)."""
    name: str
    batch: bool = False
    partial_sums: bool = False
    per_cluster: bool = False

    @property
    def exact(self):
        return not self.partial_sums


SCHEDULES = (Schedule("per-input"), Schedule("compute once", per_cluster=True),
             Schedule("partial sums", partial_sums=True),
             Schedule("partial sums + compute once", partial_sums=True, per_cluster=True),
             Schedule("batch", batch=True),
             Schedule("batch + compute once", batch=True, per_cluster=True),
             Schedule("batch + partial sums", batch=True, partial_sums=True),
             Schedule("batch + partial sums + compute once", batch=True, partial_sums=True,
                      per_cluster=True))


def _rounds(layers, run, groups):
    """Logits of every round: (rounds, images, classes)."""
    return np.stack([run({n: cluster.masked(cl, r) for n, cl in layers.items()})
                     for r in range(1, groups + 1)])


def staged_logits(layers, biases, x, partial_sums=False, per_cluster=False, chunk=500):
    """Logits of every round ``(rounds, images, classes)`` of LeNet-5 run layer by layer as a
    schedule computes it: ``partial_sums`` adds only group r-1's contribution (with round r's
    input) to the layer's sums of round r-1; ``per_cluster`` computes each contribution as the
    sum of the inputs of each cluster times its centroid. ``layers``: Keras name ->
    :class:`golden.cluster.ClusteredLayer` in network order; ``biases``: name -> tensor."""
    torch = nets.require("torch", "torch")
    F = torch.nn.functional

    def kernel_op(a, kernel):                     # Keras layout: conv (kh, kw, cin, cout)
        conv = kernel.ndim == 4
        w = np.ascontiguousarray(kernel.transpose(3, 2, 0, 1) if conv else kernel.T)
        return (F.conv2d if conv else F.linear)(a, torch.from_numpy(w.astype(np.float32)))

    def contribution(a, cl, groups):
        if not per_cluster:
            on = np.isin(cl.group(), list(groups))
            return kernel_op(a, np.where(on, cl.centroids[cl.cidx], 0))
        ks = [k for k in range(len(cl.centroids)) if cl.group_of[k] in groups]
        masks = np.stack([cl.cidx == k for k in ks], -2)        # (..., clusters, outputs)
        bins = kernel_op(a, masks.reshape(*cl.cidx.shape[:-1], -1))
        bins = bins.reshape(len(a), len(ks), cl.cidx.shape[-1], *bins.shape[2:])
        c = torch.from_numpy(cl.centroids[ks]).reshape(1, -1, *[1] * (bins.ndim - 2))
        return (bins * c).sum(1)

    names = list(layers)
    out = []
    with torch.no_grad():
        for s in range(0, len(x), chunk):
            sums, per_round = {}, []
            for r in range(1, layers[names[0]].groups + 1):
                a = x[s:s + chunk]
                for i, n in enumerate(names):
                    if layers[n].cidx.ndim == 2 and a.ndim == 4:
                        a = a.permute(0, 2, 3, 1).reshape(len(a), -1)   # Keras flattens H, W, C
                    c = contribution(a, layers[n], cluster_trace.round_groups(r, partial_sums))
                    sums[n] = sums[n] + c if partial_sums and r > 1 else c
                    b = biases[n]
                    a = sums[n] + (b[:, None, None] if c.ndim == 4 else b)
                    if i < len(names) - 1:
                        a = torch.relu(a)
                        if a.ndim == 4:
                            a = F.avg_pool2d(a, 2)
                per_round.append(a)
            out.append(torch.stack(per_round))
    return torch.cat(out, 1).numpy()


def _per_tau(logits, labels, taus=TAUS, rule="softmax"):
    rows = []
    for t in taus:
        stop = cluster.stop_iteration(logits, t, rule)
        pred = logits[stop - 1, np.arange(len(labels))].argmax(1)
        rows.append({"tau": t, "rule": rule, "top1": float((pred == labels).mean()),
                     "mean_rounds": float(stop.mean()),
                     "rounds_hist": np.bincount(stop, minlength=5)[1:].tolist()})
    return rows


def _ops(layers, schedule):
    """Per layer and group: (adds, multiplies) of one input (per cluster or MACs)."""
    return np.array([[cluster_trace.compute_ops(cl, [g], LAYERS[n][0], schedule.per_cluster)
                      for g in range(cl.groups)] for n, cl in layers.items()])


def _schedule_compute(layers, schedule, stops):
    """Adds (= MACs), multiplies and partial-sum bytes of ``stops``' inputs."""
    ops = _ops(layers, schedule)                   # (layers, groups, 2)
    adds = mults = 0
    for k in stops:
        for r in range(1, int(k) + 1):
            g = list(cluster_trace.round_groups(r, schedule.partial_sums))
            adds += int(ops[:, g, 0].sum())
            mults += int(ops[:, g, 1].sum())
    psum = (PSUM["bits"] // 8 * SUMS_PER_INPUT * int((2 * np.asarray(stops) - 1).sum())
            if schedule.partial_sums else 0)
    return adds, mults, psum


def proxies(dram_bytes, cache_bytes, macs, misses, setting, *, hits=0, mults=None,
            psum_bytes=0, psum_on_chip=True):
    """``(energy pJ, cycles)``. ``macs``: multiply-accumulates, or with ``mults`` (computing
    once per cluster) the adds, each PE having an adder and a multiplier working side by side
    (cycles: adds / PEs); ``psum_bytes``: partial sums read and written, on chip (the cache's
    pJ/bit, one sum per PE per cycle) or off chip (DRAM's pJ/bit and bandwidth)."""
    s = SETTINGS[setting]
    compute = (ENERGY["mac_pj"] * macs if mults is None
               else ENERGY["add_pj"] * macs + ENERGY["mul_pj"] * mults)
    psum_pj = ENERGY["cache_pj_per_bit" if psum_on_chip else "dram_pj_per_bit"]
    energy = (ENERGY["dram_pj_per_bit"] * 8 * dram_bytes
              + ENERGY["cache_pj_per_bit"] * 8 * cache_bytes + compute
              + psum_pj * 8 * psum_bytes)
    psum_cycles = (psum_bytes / (PSUM["bits"] // 8) / s["pes"] if psum_on_chip
                   else psum_bytes / s["bytes_per_cycle"])
    cycles = (misses * s["miss_latency"] + dram_bytes / s["bytes_per_cycle"] + macs / s["pes"]
              + hits / s["hits_per_cycle"] + psum_cycles)
    return energy, cycles


_JOB = {}      # the replay jobs' shared inputs (set before the worker processes fork)


def _trace(batch, partial_sums, size):
    j = _JOB
    return cluster_trace.accesses(j["layout"], j["n_layers"], j["stops"][partial_sums],
                                  batch=batch, tile_lines=size // LINE if batch else None,
                                  partial_sums=partial_sums)


def _replay(task):
    batch, partial_sums, size, policy = task
    cache = CacheModel(size // (WAYS * LINE), WAYS, LINE, policy)
    for line, g, _ in _trace(batch, partial_sums, size):
        cache.access(line, g)
    return task, asdict(cache.counters)


def _run_replays(tasks, jobs, progress):
    tqdm = nets.require("tqdm", "tqdm").tqdm
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(tasks)))
    bar = tqdm(total=len(tasks), desc="cache", unit="config", disable=not progress)
    out = {}
    with bar:
        if jobs == 1:
            results = map(_replay, tasks)
            pool = None
        else:
            pool = multiprocessing.get_context("fork").Pool(jobs)
            results = pool.imap_unordered(_replay, tasks)
        try:
            for task, counters in results:
                out[task] = counters
                bar.update()
        finally:
            if pool is not None:
                pool.terminate()
    return out


def _activation_bytes(lay, names, size):
    """Activation storage of one input of a batch at cache ``size``: the largest layer's
    input activations plus, when its active lines span more than one tile, its pre-activation
    sums (kept between tiles), else its pooled outputs."""
    worst = 0
    for i, n in enumerate(names):
        _, inputs, sums, outputs = LAYERS[n]
        lines = sum(len(lay.lines(i, g)) for g in range(4))
        held = sums * PSUM["bits"] if lines > size // LINE else outputs * ACT_BITS
        worst = max(worst, (inputs * ACT_BITS + held) // 8)
    return worst


def collect(images=10000, trace_images=500, tau=0.9, progress=True, batch=BATCH, jobs=None):
    torch = nets.require("torch", "torch")
    kernels = nets.lenet5_kernels()
    x, labels = nets.mnist_test(images)
    model = nets.lenet5()

    def run(ws):
        with torch.no_grad():
            return nets.lenet5(ws)(x).numpy()

    float_top1 = float((run(kernels).argmax(1) == labels).mean())
    layers = {n: cluster.cluster_layer(w) for n, w in kernels.items()}
    biases = dict(zip(layers, (model.conv1.bias, model.conv2.bias, model.dense1.bias,
                               model.dense2.bias, model.dense3.bias)))
    logits = {(False, False): _rounds(layers, run, 4)}
    for ps, pc in ((False, True), (True, False), (True, True)):
        logits[ps, pc] = staged_logits(layers, biases, x, ps, pc)
    per_tau = _per_tau(logits[False, False], labels)
    per_tau += _per_tau(logits[False, False], labels, (4.0,), "margin")
    psum_per_tau = _per_tau(logits[True, False], labels)

    order = list(layers)
    lay = cluster_blocks.layout([layers[n] for n in order], LINE)
    stops = {ps: cluster.stop_iteration(logits[ps, False], tau)[:trace_images]
             for ps in (False, True)}
    n = trace_images = len(stops[False])
    accuracy = {}
    for s in SCHEDULES:
        lg = logits[s.partial_sums, s.per_cluster]
        stop = cluster.stop_iteration(lg, tau)
        accuracy[s.name] = {
            "top1": float((lg[stop - 1, np.arange(len(labels))].argmax(1) == labels).mean()),
            "mean_rounds": float(stop.mean()), "exact": s.exact,
            "max_logit_diff": float(np.abs(lg - logits[s.partial_sums, False]).max())}

    _JOB.update(layout=lay, n_layers=len(order), stops=stops)
    sizes = SIZES + LARGE
    tasks = [(b, ps, size, policy) for b in (None, batch) for ps in (False, True)
             for size in sizes for policy in POLICIES]
    sweep = [b for b in BATCH_SWEEP if b != batch]
    tasks += [(b, False, SWEEP[0], SWEEP[1]) for b in sweep]
    counters = _run_replays(tasks, jobs, progress)
    accesses = {ps: len(_trace(None, ps, 0)) for ps in (False, True)}

    dense_bytes = sum(2 * w.size for w in kernels.values())
    compute = {s: _schedule_compute(layers, s, stops[s.partial_sums]) for s in SCHEDULES}
    base_macs = compute[SCHEDULES[0]][0]
    rounds = int(stops[False].sum())
    baselines = [
        {"config": "no cache, entries", "dram_bytes": accesses[False] * LINE,
         "misses": accesses[False], "macs": base_macs},
        {"config": "no cache, dense 16-bit", "dram_bytes": rounds * dense_bytes,
         "misses": rounds * -(-dense_bytes // LINE), "macs": base_macs},
        {"config": "one pass, dense 16-bit", "dram_bytes": n * dense_bytes,
         "misses": n * -(-dense_bytes // LINE),
         "macs": n * _schedule_compute(layers, SCHEDULES[0], [4])[0]},
    ]
    refs = {}
    for b in baselines:
        for setting in SETTINGS:
            e, c = proxies(b["dram_bytes"], 0, b["macs"], b["misses"], setting)
            b[setting] = {"energy_uj_per_inference": e / n * 1e-6,
                          "cycles_per_inference": c / n}
            refs[b["config"], setting] = (e, c)

    def row(s, b, size, policy):
        """One (schedule, batch, cache size, policy) row with its proxies and gains."""
        adds, mults, psum = compute[s]
        held = (b or 1) * SUMS_PER_INPUT * PSUM["bits"] // 8
        on_chip = held <= PSUM["buffer_bytes"]
        trace_len = accesses[s.partial_sums]
        # a batch's activations if they do not stay on chip: every layer's outputs written and
        # read back once per round (16-bit), at DRAM's pJ/bit and bandwidth
        spill = (ACT_BITS // 8 * 2 * sum(v[3] for v in LAYERS.values())
                 * int(stops[s.partial_sums].sum()) if b else 0)
        if size:
            c = counters[b, s.partial_sums, size, policy]
            data_bits, tag_bits = storage_bits(LINE, WAYS, size // (WAYS * LINE), ADDR_BITS,
                                               GROUP_BITS)
            r = {"data_bits": data_bits, "tag_bits": tag_bits,
                 "dram_bytes": c["memory_bytes"], "hits": c["hits"],
                 "misses": c["misses"] + c["bypasses"], "bypasses": c["bypasses"]}
        else:
            r = {"data_bits": 0, "tag_bits": 0, "dram_bytes": trace_len * LINE, "hits": 0,
                 "misses": trace_len, "bypasses": 0}
        r = {"schedule": s.name, "batch": b, "size": size, "policy": policy, **r,
             "accesses": trace_len, "hit_rate": r["hits"] / trace_len,
             "macs": adds, "mults": mults if s.per_cluster else None,
             "psum_bytes": psum, "psum_on_chip": on_chip,
             "psum_storage_bytes": held if s.partial_sums else 0,
             "activation_bytes_per_input": (_activation_bytes(lay, order, size or LINE)
                                            if b else None),
             "activation_spill_bytes": spill,
             "dram_bytes_per_inference": r["dram_bytes"] / n}
        for setting in SETTINGS:
            e, cyc = proxies(r["dram_bytes"], r["hits"] * LINE, adds, r["misses"], setting,
                             hits=r["hits"], mults=r["mults"], psum_bytes=psum,
                             psum_on_chip=on_chip)
            e0, c0 = refs["no cache, entries", setting]
            e1, c1 = refs["no cache, dense 16-bit", setting]
            r[setting] = {"energy_uj_per_inference": e / n * 1e-6,
                          "cycles_per_inference": cyc / n, "energy_gain": e0 / e,
                          "speedup": c0 / cyc, "energy_gain_vs_dense": e1 / e,
                          "speedup_vs_dense": c1 / cyc}
            if spill:
                r[setting] |= {
                    "energy_gain_activations_off_chip":
                        e0 / (e + ENERGY["dram_pj_per_bit"] * 8 * spill),
                    "speedup_activations_off_chip":
                        c0 / (cyc + spill / SETTINGS[setting]["bytes_per_cycle"])}
        return r

    rows = [row(s, batch if s.batch else None, size, policy) for s in SCHEDULES
            for size, policy in [(0, "-")] + [(z, p) for z in sizes for p in POLICIES]]
    by_name = {s.name: s for s in SCHEDULES}
    batch_sweep = [row(by_name[name], b, *SWEEP) for name in ("batch", "batch + compute once")
                   for b in sorted(sweep + [batch])]
    return {"model": "lenet5", "images": len(labels), "trace_images": n, "tau": tau,
            "batch": batch, "float_top1": float_top1,
            "clustered_top1": float((logits[False, False][-1].argmax(1) == labels).mean()),
            "per_tau": per_tau, "psum_per_tau": psum_per_tau, "accuracy": accuracy,
            "schedules": [asdict(s) | {"exact": s.exact} for s in SCHEDULES],
            "accesses": accesses[False], "entry_bytes": len(lay.memory),
            "dense_bytes": dense_bytes, "energy": ENERGY, "psum": PSUM,
            "settings": SETTINGS, "baselines": baselines, "rows": rows,
            "batch_sweep": batch_sweep}


def best_rows(r, schedule):
    """The schedule's no-cache row and, per cache size, its row of the best policy (most
    cycles saved, memory-bound)."""
    rows = [x for x in r["rows"] if x["schedule"] == schedule]
    best = [x for x in rows if not x["size"]]
    for size in sorted({x["size"] for x in rows if x["size"]}):
        best.append(max((x for x in rows if x["size"] == size),
                        key=lambda x: x["memory-bound"]["speedup"]))
    return best


def goal_point(r, loss=0.01):
    """The row with the most cycles saved at <= 4 KB among the schedules within ``loss`` of
    the float top-1."""
    ok = {s for s, a in r["accuracy"].items() if r["float_top1"] - a["top1"] <= loss}
    rows = [x for x in r["rows"] if x["schedule"] in ok and x["size"] <= max(SIZES)]
    # ties (the batch schedule's hits do not depend on the size) to the least on-chip storage
    return max(rows, key=lambda x: (round(x["memory-bound"]["speedup"], 6),
                                    round(x["memory-bound"]["energy_gain"], 6),
                                    -x["size"] - (x["batch"] or 0)
                                    * (x["activation_bytes_per_input"] or 0)))


def render_markdown(r):
    pct = lambda v: f"{100 * v:.2f}"  # noqa: E731
    mb = "memory-bound"
    out = ["## Cluster-index cache: iterative LeNet-5", "",
           f"Float top-1 {pct(r['float_top1'])} %; clustered (15 clusters per layer, all 4 "
           f"groups) {pct(r['clustered_top1'])} %. Entry blocks {r['entry_bytes']:,} bytes "
           f"against {r['dense_bytes']:,} bytes of dense 16-bit weights.", ""]
    for title, rows in (("recomputing every round", r["per_tau"]),
                        ("with partial-sum reuse (round r + 1 adds only group r)",
                         r["psum_per_tau"])):
        out += [f"### Accuracy and rounds per stopping threshold, {title} (10,000 test images)",
                "", "| rule | tau | top-1 | loss vs float | mean rounds | inputs stopping at "
                "1/2/3/4 |", "|---|---:|---:|---:|---:|---|"]
        for t in rows:
            out.append(f"| {t['rule']} | {t['tau']:g} | {pct(t['top1'])} | "
                       f"{100 * (r['float_top1'] - t['top1']):.2f} | {t['mean_rounds']:.3f} | "
                       f"{'/'.join(map(str, t['rounds_hist']))} |")
        out.append("")
    out += [f"### Top-1 per schedule at tau = {r['tau']}", "",
            "| schedule | exact | top-1 | loss vs float | mean rounds | max logit change from "
            "its MAC forward |", "|---|---|---:|---:|---:|---:|"]
    for s, a in r["accuracy"].items():
        out.append(f"| {s} | {'yes' if a['exact'] else 'no'} | {pct(a['top1'])} | "
                   f"{100 * (r['float_top1'] - a['top1']):.2f} | {a['mean_rounds']:.3f} | "
                   f"{a['max_logit_diff']:.2g} |")
    out += ["", "Batch schedules compute exactly what the per-input scheme computes (same "
            "arithmetic, reordered), so their top-1 is the per-input one; compute-once rows "
            "come from a float32 forward summing the inputs per cluster first (exact in exact "
            "arithmetic, the last column is float32 rounding).", "",
            f"### Memory side at tau = {r['tau']} (trace of the first {r['trace_images']} "
            f"images, batch {r['batch']}; the best policy per size)", "",
            "Gains against (a) the per-input iterative scheme without a cache (the issue's "
            "baseline) and (b) the same with dense 16-bit weights; memory-bound setting unless "
            "named.", "",
            "| schedule | cache | policy | hit rate | DRAM B / inference | speedup (a) | "
            "energy gain (a) | speedup (b) | energy gain (b) | speedup (a), balanced | "
            "partial sums | (a) with the batch's activations off chip |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for s in r["accuracy"]:
        for x in best_rows(r, s):
            ps = (f"{x['psum_storage_bytes'] / 1024:,.0f} KB "
                  f"{'on' if x['psum_on_chip'] else 'off'} chip" if x["psum_bytes"] else "-")
            out.append(f"| {s} | {_size(x['size'])} | {x['policy']} | "
                       f"{pct(x['hit_rate'])} % | {x['dram_bytes_per_inference']:,.0f} | "
                       f"{x[mb]['speedup']:.2f}x | {x[mb]['energy_gain']:.2f}x | "
                       f"{x[mb]['speedup_vs_dense']:.2f}x | "
                       f"{x[mb]['energy_gain_vs_dense']:.2f}x | "
                       f"{x['balanced']['speedup']:.2f}x | {ps} | {_spilled(x)} |")
    sizes = sorted({x["size"] for x in r["rows"] if x["size"]})
    out += ["", "### Every policy: speedup / energy gain against (a), memory-bound", "",
            "| schedule | policy | " + " | ".join(_size(z) for z in sizes) + " |",
            "|---|---|" + "---:|" * len(sizes)]
    for s in r["accuracy"]:
        for policy in POLICIES:
            cells = [next(x for x in r["rows"] if x["schedule"] == s and x["size"] == z
                          and x["policy"] == policy) for z in sizes]
            out.append(f"| {s} | {policy} | " + " | ".join(
                f"{x[mb]['speedup']:.2f}x / {x[mb]['energy_gain']:.2f}x" for x in cells) + " |")
    act = {x["size"]: x["activation_bytes_per_input"] for x in r["rows"]
           if x["schedule"] == "batch" and x["size"]}
    bits = {x["size"]: (x["data_bits"], x["tag_bits"]) for x in r["rows"] if x["size"]}
    out += ["", "Cache data + tag bits: " + ", ".join(
        f"{_size(z)} {d:,} + {t:,}" for z, (d, t) in bits.items()) + ". Batch storage: "
        "activations per input (largest layer's inputs at 16 bits plus its 32-bit sums when "
        "its lines span several tiles): " + ", ".join(f"{_size(z)} {b:,} B" for z, b in
                                                      act.items())
        + f", times the batch of {r['batch']}."]
    out += ["", f"### Batch size ({_size(SWEEP[0])} {SWEEP[1]}; against (a), memory-bound)",
            "", "| schedule | batch | hit rate | DRAM B / inference | speedup | energy gain | "
            "activation storage of the batch | with activations off chip |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for x in r["batch_sweep"]:
        out.append(f"| {x['schedule']} | {x['batch']} | {pct(x['hit_rate'])} % | "
                   f"{x['dram_bytes_per_inference']:,.0f} | {x[mb]['speedup']:.2f}x | "
                   f"{x[mb]['energy_gain']:.2f}x | "
                   f"{x['batch'] * x['activation_bytes_per_input'] / 1024:,.1f} KB | "
                   f"{_spilled(x)} |")
    g = goal_point(r)
    met = g[mb]["speedup"] >= 5.8 and g[mb]["energy_gain"] >= 9
    out += ["", f"Best point at <= 4 KB within 1 point of float top-1: {g['schedule']}, "
            f"{_size(g['size'])} {g['policy']}: {g[mb]['speedup']:.2f}x fewer cycles and "
            f"{g[mb]['energy_gain']:.2f}x less energy than (a) "
            f"({g[mb]['speedup_vs_dense']:.2f}x / {g[mb]['energy_gain_vs_dense']:.2f}x against "
            f"(b)); top-1 {pct(r['accuracy'][g['schedule']]['top1'])} %. Goal (5.8x, 9x): "
            f"{'met' if met else 'missed'}"
            + (f", with the batch's activations on chip ({_spilled(g)} if they go off chip)"
               if g["activation_spill_bytes"] else "") + "."]
    return "\n".join(out)


def _spilled(x):
    m = x["memory-bound"]
    return (f"{m['speedup_activations_off_chip']:.2f}x / "
            f"{m['energy_gain_activations_off_chip']:.2f}x" if x["activation_spill_bytes"]
            else "-")


def _size(size):
    return "no cache" if not size else f"{size // 1024} KB" if size >= 1024 else f"{size} B"


def plot(r, out):
    plt = reports.pyplot()

    fig, (a, b, c) = plt.subplots(1, 3, figsize=(15, 4.5))
    for rows, label in ((r["per_tau"], "recompute"), (r["psum_per_tau"], "partial sums")):
        soft = [t for t in rows if t["rule"] == "softmax"]
        a.plot([t["mean_rounds"] for t in soft], [100 * t["top1"] for t in soft], marker="o",
               label=label)
        for t in soft:
            a.annotate(f"{t['tau']:g}", (t["mean_rounds"], 100 * t["top1"]), fontsize=7)
    a.axhline(100 * r["float_top1"] - 1, color="gray", ls=":", lw=0.8, label="float - 1 point")
    a.set_xlabel("mean rounds per input")
    a.set_ylabel("top-1 (%)")
    a.set_title("iterative LeNet-5: accuracy vs rounds (tau)", fontsize=9)
    a.legend(fontsize=7)
    for s in r["accuracy"]:
        xs = best_rows(r, s)[1:]
        ls = "-" if r["accuracy"][s]["exact"] else ":"
        for ax, key in ((b, "speedup"), (c, "energy_gain")):
            ax.plot([x["size"] for x in xs], [x["memory-bound"][key] for x in xs], marker="o",
                    ls=ls, label=s)
    for ax, what, goal in ((b, "fewer cycles", 5.8), (c, "less energy", 9)):
        ax.axhline(goal, color="gray", ls="--", lw=0.8, label=f"goal {goal:g}x")
        ax.axvline(max(SIZES), color="gray", ls=":", lw=0.8)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("cache bytes (best policy per size)")
        ax.set_ylabel(f"{what} than the per-input scheme without a cache")
        ax.set_title(f"schedules x sizes, tau = {r['tau']}, batch {r['batch']} "
                     "(dotted: inexact)", fontsize=9)
    c.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out / "cache_lenet5.png", dpi=120)
    plt.close(fig)


def main(images=10000, trace_images=500, tau=0.9, out=None, progress=True, batch=BATCH,
         jobs=None):
    r = collect(images, trace_images, tau, progress, batch, jobs)
    return reports.write(r, "cache_lenet5", render_markdown(r), plot, out)
