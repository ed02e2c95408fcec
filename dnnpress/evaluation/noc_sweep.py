"""``dnnpress noc sweep``: accuracy vs NoC latency / energy of trend-run weight compression.

Every configuration compresses some kernels of LeNet-5 and encodes them as the hardware decoder
reads them (:mod:`golden.noc_stream`); the network then runs on the MNIST test images with the
weights that decoder delivers (the fixed-point stream decoded and scaled back), and the per-layer
compression ratio (raw 16-bit weights / encoded bits, headers included) drives the NoC latency /
energy model (:mod:`golden.noc_model`).

Schemes (:data:`SCHEMES`):

- ``paper``: the authors' rule (delta bounds step reversals), stored order, 16-bit weights;
- ``fit16``: delta bounds the error of the fitted line instead, 16-bit weights, stored order;
- ``paper8``: the authors' rule with 8-bit weights, a 4-bit length field and filter-major order
  (what the narrower stream alone buys);
- ``fit8``: the fit bound with the same stream and order;
- ``fit8-sens``: ``fit8`` with one P per layer, chosen from each layer's measured sensitivity
  (its top-1 loss when compressed alone) to spend a top-1 loss budget where it buys the most
  latency.

``paper`` and ``fit8`` run over the P grid on all layers and on one layer at a time.
"""


import numpy as np

from golden import noc_model
from golden.noc_compress import reorder, restore
from golden.noc_stream import StreamParams, decode, dequantise, encode

from . import nets, reports

__all__ = ["PAPER_GRID", "SCHEMES", "BUDGETS", "Sweep", "configurations", "allocate",
           "render_markdown", "plot", "main"]

PAPER_GRID = (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
RAW_BITS = 16
SCHEMES = {
    "paper": {"method": "step", "weight_bits": 16, "len_bits": 6, "order": "stored"},
    "fit16": {"method": "fit", "weight_bits": 16, "len_bits": 6, "order": "stored"},
    "paper8": {"method": "step", "weight_bits": 8, "len_bits": 4, "order": "filter"},
    "fit8": {"method": "fit", "weight_bits": 8, "len_bits": 4, "order": "filter"},
}
#: top-1 loss budgets (points) for the sensitivity-chosen per-layer P
BUDGETS = (0.5, 1.0, 1.5, 2.0)
LAYERS = nets.LENET5_LAYERS


def configurations(grid=PAPER_GRID):
    """(scheme, {layer: P}) of the fixed-P sweeps: ``paper`` and ``fit8`` on all layers and one
    layer at a time, the others on all layers."""
    out = []
    for scheme in SCHEMES:
        scopes = [LAYERS] + ([(n,) for n in LAYERS] if scheme in ("paper", "fit8") else [])
        out += [(scheme, {n: p for n in scope}) for scope in scopes for p in grid]
    return out


class Sweep:
    """Runs configurations on LeNet-5; every (scheme, layer, P) is encoded once."""

    def __init__(self, images=10000, noc_config=None):
        self.kernels = nets.lenet5_kernels()
        self.x, self.labels = nets.mnist_test(images)
        self.noc_config = noc_config or noc_model.load_config()
        self.noc_layers = noc_model.lenet5_layers()
        self._encoded, self._latency = {}, {}
        self._base = noc_model.estimate(self.noc_layers, None, self.noc_config)
        self.baseline = {**self._accuracy(self.kernels),
                         **self._noc({}), "bits": sum(k.size * RAW_BITS
                                                      for k in self.kernels.values())}

    def _layer(self, scheme, name, percent):
        key = (scheme, name, percent)
        if key not in self._encoded:
            s = SCHEMES[scheme]
            params = StreamParams(s["weight_bits"], s["len_bits"])
            w = self.kernels[name]
            e = encode(reorder(w, s["order"]), percent=percent, params=params,
                       method=s["method"])
            fixed, frac = decode(e.stream, params)
            weights = restore(dequantise(fixed, frac), w.shape, s["order"]).astype(np.float32)
            self._encoded[key] = (weights, {"bits": e.bits, "cr": w.size * RAW_BITS / e.bits,
                                            "raw_records": e.raw_records,
                                            "run_records": e.run_records})
        return self._encoded[key]

    def _accuracy(self, kernels):
        torch = nets.require("torch", "torch")
        with torch.no_grad():
            logits = nets.lenet5(kernels)(self.x).numpy()
        top5 = np.argsort(-logits, axis=1)[:, :5]
        hit = top5[:, 0] == self.labels
        half = len(hit) // 2
        return {"top1": float(hit.mean()), "top5": float((top5 == self.labels[:, None]).any(1)
                                                         .mean()),
                "top1_calibration": float(hit[:half].mean()),
                "top1_heldout": float(hit[half:].mean())}

    def _noc(self, crs):
        est, base = noc_model.estimate(self.noc_layers, crs, self.noc_config), self._base
        return {"latency_cycles": est["latency"], "energy_j": est["energy"],
                "weight_dram_bits": 8 * est["weight_dram_bytes"],
                "weight_noc_bit_hops": 8 * est["weight_noc_byte_hops"],
                "latency_reduction": 1 - est["latency"] / base["latency"],
                "energy_reduction": 1 - est["energy"] / base["energy"]}

    def run(self, scheme, percents):
        """The row of ``scheme`` with P ``percents`` ({layer: P}; other layers uncompressed)."""
        used, layers = dict(self.kernels), []
        for name in LAYERS:
            raw = self.kernels[name].size * RAW_BITS
            if name in percents:
                used[name], stats = self._layer(scheme, name, percents[name])
            else:
                stats = {"bits": raw, "cr": 1.0, "raw_records": None, "run_records": None}
            layers.append({"layer": name, "percent": percents.get(name), **stats})
        scope = ("all" if len(percents) == len(LAYERS) else ",".join(percents))
        uniform = len(set(percents.values())) == 1
        return {"scheme": scheme, **SCHEMES[scheme], "scope": scope,
                "percent": next(iter(percents.values())) if uniform else None,
                "percents": percents, **self._accuracy(used),
                "cr": sum(x["bits"] * x["cr"] for x in layers) / sum(x["bits"] for x in layers),
                "bits": sum(x["bits"] for x in layers), "layers": layers,
                **self._noc({x["layer"]: x["cr"] for x in layers})}


def allocate(sweep, single, budget, grid):
    """Per-layer P for a top-1 loss ``budget`` (points): greedy on each layer's sensitivity.

    ``single[layer][P]`` is the row of that layer compressed alone at P. Starting from P = 0
    everywhere, repeatedly raise the one layer whose next P gains the most latency reduction
    per point of its own (single-layer) top-1 loss, while the sum of those losses stays within
    the budget. Losses are measured on the first half of the test images only (calibration), so
    the second half stays a held-out check of the choice.
    """
    base = sweep.baseline["top1_calibration"]

    def loss(name, p):
        return max(0.0, 100 * (base - single[name][p]["top1_calibration"]))

    def latency(ps):
        crs = {n: sweep._layer("fit8", n, p)[1]["cr"] for n, p in ps.items()}
        return sweep._noc(crs)["latency_reduction"]

    ps = {n: grid[0] for n in LAYERS}
    while True:
        spent, now, best = sum(loss(n, p) for n, p in ps.items()), latency(ps), None
        for n in LAYERS:
            higher = [p for p in grid if p > ps[n]]
            for p in higher:
                cost = loss(n, p) - loss(n, ps[n])
                if spent + cost > budget:
                    continue
                gain = latency({**ps, n: p}) - now
                score = gain / max(cost, 1e-3)
                if gain > 0 and (best is None or score > best[0]):
                    best = (score, n, p)
        if best is None:
            return ps
        ps[best[1]] = best[2]


def collect(images=10000, grid=PAPER_GRID, budgets=BUDGETS, noc_config=None, progress=True):
    tqdm = nets.require("tqdm", "tqdm").tqdm
    sweep = Sweep(images, noc_config)
    configs = configurations(grid)
    rows = [sweep.run(s, ps) for s, ps in tqdm(configs, desc="noc sweep", unit="config",
                                                disable=not progress)]
    single = {}
    for r in rows:
        if r["scheme"] == "fit8" and r["scope"] in LAYERS:
            single.setdefault(r["scope"], {})[r["percent"]] = r
    for b in budgets:
        row = sweep.run("fit8", allocate(sweep, single, b, list(grid)))
        rows.append({**row, "scheme": "fit8-sens", "scope": f"all (budget {b:g} pt)"})
    model_check = {}
    for cr in (1.5, 2, 3, 4):
        lat, en = noc_model.reduction(sweep.noc_layers, [cr] * len(LAYERS), sweep.noc_config)
        model_check[f"{cr:g}"] = {"latency_reduction": lat, "energy_reduction": en}
    base_est = noc_model.estimate(sweep.noc_layers, None, sweep.noc_config)
    dram_share = (sum(r["latency"]["dram"] for r in base_est["layers"]) / base_est["latency"])
    return {"model": "lenet5", "images": len(sweep.labels), "baseline": sweep.baseline,
            "schemes": SCHEMES, "rows": rows,
            "noc_model": {"uniform_cr": model_check, "authors": AUTHORS_CHECK,
                          "dram_share_of_latency": dram_share, "layers": base_est["layers"]}}


#: the authors' estimator on LeNet-5 at uniform CR (issue text): latency / energy reduction
AUTHORS_CHECK = {"1.5": (0.33, 0.32), "2": (0.49, 0.48), "3": (0.66, 0.65), "4": (0.74, 0.73)}


def goal_rows(r, loss=2.0, latency=0.60):
    """Rows with top-1 loss <= ``loss`` points and latency reduction >= ``latency``."""
    base = r["baseline"]["top1"]
    return [x for x in r["rows"] if x["scope"].startswith("all")
            and 100 * (base - x["top1"]) <= loss and x["latency_reduction"] >= latency]


def render_markdown(r):
    base = r["baseline"]
    pct = lambda v: f"{100 * v:.2f}"  # noqa: E731
    change = lambda v: f"{-100 * v:+.1f} %"  # noqa: E731
    out = ["## Trend-run weight compression on LeNet-5 (NoC accelerator model)", "",
           f"{r['images']:,} MNIST test images; uncompressed top-1 {pct(base['top1'])} %, top-5 "
           f"{pct(base['top5'])} % (top-1 {pct(base['top1_calibration'])} % on the first half, "
           f"used to choose per-layer P; {pct(base['top1_heldout'])} % on the held-out second "
           f"half); weights {base['bits']:,} bits at 16 bit; latency "
           f"{base['latency_cycles']:,.0f} cycles, energy {1e6 * base['energy_j']:.1f} uJ.", "",
           "### NoC model check (uniform compression ratio on every layer)", "",
           "| CR | latency ours | latency authors | energy ours | energy authors |",
           "|---:|---:|---:|---:|---:|"]
    for cr, v in r["noc_model"]["uniform_cr"].items():
        a = AUTHORS_CHECK[cr]
        out.append(f"| {cr} | {change(v['latency_reduction'])} | {change(a[0])} | "
                   f"{change(v['energy_reduction'])} | {change(a[1])} |")
    out += ["", f"DRAM time is {100 * r['noc_model']['dram_share_of_latency']:.1f} % of the "
            "uncompressed latency.", "",
            "### Sweep", "",
            "Schemes: " + "; ".join(f"`{k}` = {v['method']}, {v['weight_bits']}-bit weights, "
                                    f"{v['len_bits']}-bit lengths, {v['order']} order"
                                    for k, v in r["schemes"].items())
            + "; `fit8-sens` = `fit8` with per-layer P chosen by sensitivity.", "",
            "| scheme | layers | P | CR | top-1 | top-5 | top-1 held-out | DRAM->MI bits | "
            "MI->PE bit-hops | latency | energy | CR per layer |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for x in r["rows"]:
        p = (x["percent"] if x["percent"] is not None
             else "/".join(str(x["percents"][n]) for n in LAYERS))
        out.append(f"| {x['scheme']} | {x['scope']} | {p} | {x['cr']:.2f} | {pct(x['top1'])} | "
                   f"{pct(x['top5'])} | {pct(x['top1_heldout'])} | {x['weight_dram_bits']:,.0f} | "
                   f"{x['weight_noc_bit_hops']:,.0f} | {change(x['latency_reduction'])} | "
                   f"{change(x['energy_reduction'])} | "
                   + " ".join(f"{layer['cr']:.2f}" for layer in x["layers"]) + " |")
    ok = goal_rows(r)
    out += ["", "### Goal: >= 60 % latency reduction at <= 2 points top-1 loss", ""]
    if ok:
        best = max(ok, key=lambda x: x["latency_reduction"])
        out.append(f"Met by {len(ok)} configuration(s); best: {best['scheme']} "
                   f"{best['scope']} P {best['percents']}: top-1 {pct(best['top1'])} % "
                   f"(held-out half {pct(best['top1_heldout'])} % vs "
                   f"{pct(base['top1_heldout'])} % uncompressed), "
                   f"latency -{100 * best['latency_reduction']:.1f} %, energy "
                   f"-{100 * best['energy_reduction']:.1f} %, CR {best['cr']:.2f}.")
    else:
        out.append("Not met by any configuration.")
    paper = [x for x in r["rows"] if x["scheme"] == "paper" and x["scope"] == "all"
             and 100 * (base["top1"] - x["top1"]) <= 2]
    if paper:
        b = max(paper, key=lambda x: x["latency_reduction"])
        out.append(f"The paper's method within 2 points: best P = {b['percent']}, latency "
                   f"-{100 * b['latency_reduction']:.1f} % (top-1 {pct(b['top1'])} %).")
    return "\n".join(out)


def plot(r, out):
    plt = reports.pyplot()

    curves = {}
    for x in r["rows"]:
        if x["scope"].startswith("all"):
            curves.setdefault(x["scheme"], []).append(x)
    for key, name in (("latency_reduction", "latency"), ("energy_reduction", "energy")):
        fig, ax = plt.subplots(figsize=(7.5, 4.8))
        for scheme, rows in curves.items():
            rows = sorted(rows, key=lambda x: x[key])
            style = {"ls": "none"} if scheme == "fit8-sens" else {}
            ax.plot([100 * x[key] for x in rows], [100 * x["top1"] for x in rows], marker="o",
                    ms=4, label=f"{scheme} top-1", **style)
            if scheme == "paper":
                ax.plot([100 * x[key] for x in rows], [100 * x["top5"] for x in rows], ls="--",
                        marker=".", label="paper top-5")
        ax.axhline(100 * r["baseline"]["top1"] - 2, color="gray", lw=0.8, ls=":",
                   label="uncompressed top-1 - 2 points")
        ax.axvline(60, color="gray", lw=0.8, ls="-.")
        ax.set_xlabel(f"{name} reduction (%)")
        ax.set_ylabel("accuracy on 10,000 MNIST test images (%)")
        ax.set_title(f"LeNet-5, all layers compressed: accuracy vs {name} reduction")
        ax.set_ylim(bottom=max(0, ax.get_ylim()[0]))
        ax.legend(fontsize=7, loc="lower left")
        fig.tight_layout()
        fig.savefig(out / f"noc_lenet5_{name}.png", dpi=120)
        plt.close(fig)


def main(images=10000, out=None, progress=True, grid=PAPER_GRID, budgets=BUDGETS,
         noc_config=None):
    r = collect(images, grid, budgets, noc_config, progress)
    return reports.write(r, "noc_lenet5", render_markdown(r), plot, out)
