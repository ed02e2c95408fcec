"""``dnnpress eval dict``: HC-P dictionary compression of real weights, accuracy vs compression.

Every conv / dense weight tensor of the model (biases and batch-norm parameters stay float) is
quantised to int8 (one scale per layer, or one for the whole network), trimmed by k, read in
filter-major load order and encoded with :mod:`golden.dict_codec`; the network then runs with
the trimmed weights (exactly what the decoder engine delivers, times the scale). Compression
counts every bit of every layer's stream (headers, dictionaries, padding) against int8 and fp32
weights. Accuracy depends on k (and the quantisation scope) only; G, B and R change the bits.

Sweeps: every k 0..6 at G, B, R defaults; the cross product of G (1, 2, 4, 8), B (2..8) and
R (0, 4, 8) for every k (LeNet-5) or for the best k within the loss budget (MobileNetV2); per-
layer k chosen by sensitivity (the largest k whose single-layer top-1 loss stays within a share
of the budget) with per-layer best B and R at the engine's G. zstd level 19 on the same int8
weights is the baseline a user would reach for.
"""

from itertools import product

import numpy as np

from golden import dict_codec as dc

from . import nets, reports

__all__ = ["PAPER", "K_RANGE", "G_RANGE", "B_RANGE", "R_RANGE", "model_weights", "Evaluation",
           "collect", "render_markdown", "plot", "main"]

PAPER = {"ratio": 137.0, "saving": 0.9927}
K_RANGE, G_RANGE, B_RANGE, R_RANGE = range(7), (1, 2, 4, 8), range(2, 9), (0, 4, 8)
DEFAULT = {"g": 4, "b": 4, "r": 4}
BUDGET = 1.0      # top-1 points


def model_weights(name, images):
    """``(weights {layer: float array}, layout, run(weights) -> logits, labels, note)``."""
    torch = nets.require("torch", "torch")
    if name == "lenet5":
        x, labels = nets.mnist_test(images)
        weights = {k: v.astype(np.float32) for k, v in nets.lenet5_kernels().items()}

        def run(ws):
            with torch.no_grad():
                return nets.lenet5(ws)(x).numpy()
        return weights, "keras", run, labels, f"{len(labels):,} MNIST test images"
    if name == "mobilenetv2":
        model = nets.mobilenet_v2()
        x, labels = nets.imagenet_photos(images)
        params = dict(model.named_parameters())
        weights = {n: p.detach().numpy().copy() for n, p in params.items()
                   if n.endswith("weight") and p.dim() in (2, 4)}

        def run(ws):
            with torch.no_grad():
                for n, w in ws.items():
                    params[n].copy_(torch.from_numpy(np.asarray(w, np.float32)))
                return model(x).numpy()
        return (weights, "torch", run, labels,
                f"{len(labels)} ImageNet photos (a small sample: one photo is 5 points)")
    raise ValueError(f"model must be lenet5 or mobilenetv2, not {name!r}")


def _top(logits, labels):
    top5 = np.argsort(-logits, axis=1)[:, :5]
    return float((top5[:, 0] == labels).mean()), float((top5 == labels[:, None]).any(1).mean())


class Evaluation:
    """Quantised layers of one model; encodings and accuracies cached by configuration."""

    def __init__(self, name, images):
        self.name = name
        self.weights, layout, self._run, self.labels, self.note = model_weights(name, images)
        self.n = sum(w.size for w in self.weights.values())
        top = max(float(np.abs(w).max()) for w in self.weights.values()) / 127
        self.quant = {scope: {n: dc.quantise(w, top if scope == "network" else None)
                              for n, w in self.weights.items()}
                      for scope in ("layer", "network")}
        self.order = {n: dc.load_order(np.arange(w.size).reshape(w.shape), layout)
                      for n, w in self.weights.items()}
        self.float_top1, self.float_top5 = _top(self._run(self.weights), self.labels)
        self._acc = {}

    def trimmed(self, name, k, scope="layer"):
        q, s = self.quant[scope][name]
        return dc.trim(q, k), s

    def accuracy(self, ks, scope="layer"):
        """Top-1 / top-5 with layer ``n`` trimmed by ``ks[n]`` (a layer missing: float)."""
        key = (scope, tuple(sorted(ks.items())))
        if key not in self._acc:
            used = dict(self.weights)
            for n, k in ks.items():
                t, s = self.trimmed(n, k, scope)
                used[n] = t.astype(np.float32) * np.float32(s)
            self._acc[key] = _top(self._run(used), self.labels)
        return self._acc[key]

    def encode(self, name, k, g, b, r, scope="layer"):
        t, _ = self.trimmed(name, k, scope)
        return dc.encode(t.reshape(-1)[self.order[name]], k, g, b, r)

    def bits(self, ks, g, b, r, scope="layer"):
        """Every layer's encoding, by layer."""
        return {n: self.encode(n, ks[n], g, b, r, scope) for n in self.weights}

    def zstd_bits(self, k, scope="layer"):
        zstd = nets.require("zstandard", "zstandard")
        c = zstd.ZstdCompressor(level=19)
        return sum(8 * len(c.compress(self.trimmed(n, k, scope)[0].reshape(-1)[self.order[n]]
                                      .tobytes())) for n in self.weights)


def _row(ev, kind, ks, g, b, r, bits, scope="layer", **extra):
    """A result row; ``bits``: the layers' encodings."""
    top1, top5 = ev.accuracy(ks, scope)
    total = sum(e.bits for e in bits.values())
    huff = sum(e.huffman_literal_bits() for e in bits.values())
    return {"kind": kind, "scope": scope, "k": ks, "G": g, "B": b, "R": r, "bits": total,
            "ratio_int8": 8 * ev.n / total, "ratio_fp32": 32 * ev.n / total,
            "huffman_ratio_int8": 8 * ev.n / huff,
            "top1": top1, "top5": top5, "loss": 100 * (ev.float_top1 - top1), **extra}


def collect(name, images=None, progress=True, budget=BUDGET):
    tqdm = nets.require("tqdm", "tqdm").tqdm
    ev = Evaluation(name, images or (10000 if name == "lenet5" else 20))
    layers = list(ev.weights)
    uniform = lambda k: {n: k for n in layers}  # noqa: E731
    rows = []
    for scope in ("layer", "network"):
        for k in K_RANGE:
            rows.append(_row(ev, "k sweep", uniform(k), **DEFAULT, scope=scope,
                             bits=ev.bits(uniform(k), **DEFAULT, scope=scope)))
            rows[-1]["zstd_ratio_int8"] = 8 * ev.n / ev.zstd_bits(k, scope)
    ok = [x["k"][layers[0]] for x in rows if x["scope"] == "layer" and x["loss"] <= budget]
    cross_ks = list(K_RANGE) if name == "lenet5" else [max(ok, default=0)]
    grid = list(product(cross_ks, G_RANGE, B_RANGE, R_RANGE))
    for k, g, b, r in tqdm(grid, desc=f"dict {name}", unit="config", disable=not progress):
        rows.append(_row(ev, "G x B x R", uniform(k), g, b, r, ev.bits(uniform(k), g, b, r)))
    rows += _sensitivity_rows(ev, budget, G_RANGE if name == "lenet5" else (DEFAULT["g"],))
    return {"model": name, "images": len(ev.labels), "note": ev.note, "weights": ev.n,
            "layers": {n: list(w.shape) for n, w in ev.weights.items()},
            "float": {"top1": ev.float_top1, "top5": ev.float_top5},
            "paper": PAPER, "budget": budget, "rows": rows}


def _sensitivity_rows(ev, budget, lanes):
    """Per-layer k: the largest whose single-layer loss <= budget / layers; per-layer best B, R
    for each engine G in ``lanes``."""
    layers = list(ev.weights)
    share = budget / len(layers)
    ks = {}
    for n in layers:
        fine = [k for k in K_RANGE
                if 100 * (ev.float_top1 - ev.accuracy({n: k})[0]) <= share]
        ks[n] = max(fine, default=0)
    out = []
    for g in lanes:
        bits, choice = {}, {}
        for n in layers:
            best = min(((ev.encode(n, ks[n], g, b, r).bits, b, r)
                        for b, r in product(B_RANGE, R_RANGE)))
            bits[n] = ev.encode(n, ks[n], g, best[1], best[2])
            choice[n] = {"B": best[1], "R": best[2]}
        out.append(_row(ev, "per-layer k (sensitivity)", ks, g, "per layer", "per layer", bits,
                        per_layer=choice))
    return out


def _fmt_k(ks):
    vals = list(ks.values())
    return str(vals[0]) if len(set(vals)) == 1 else "/".join(map(str, vals))


def best_within(rows, budget):
    ok = [x for x in rows if x["loss"] <= budget]
    return max(ok, key=lambda x: x["ratio_int8"]) if ok else None


def render_markdown(r):
    pct = lambda v: f"{100 * v:.2f}"  # noqa: E731
    rows = r["rows"]
    out = [f"## HC-P dictionary compression: {r['model']}", "",
           f"{r['weights']:,} weights in {len(r['layers'])} conv / dense layers; accuracy on "
           f"{r['note']}: float top-1 {pct(r['float']['top1'])} %. Ratios count every bit of "
           "every stream (headers, dictionaries, padding). \"Huffman literals\": the same codes "
           "with literal lanes Huffman coded by a per-layer table (a format change measured "
           "here, not implemented).", "",
           "### k sweep (G = 4, B = 4, R = 4), zstd -19 on the same int8 weights", "",
           "| quantisation | k | bits | vs int8 | vs fp32 | top-1 | loss (points) | zstd vs int8 "
           "| Huffman literals vs int8 |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for x in rows:
        if x["kind"] == "k sweep":
            out.append(f"| per {x['scope']} | {_fmt_k(x['k'])} | {x['bits']:,} | "
                       f"{x['ratio_int8']:.2f} | {x['ratio_fp32']:.2f} | {pct(x['top1'])} | "
                       f"{x['loss']:.2f} | {x['zstd_ratio_int8']:.2f} | "
                       f"{x['huffman_ratio_int8']:.2f} |")
    cross = [x for x in rows if x["kind"] == "G x B x R"]
    out += ["", "### Best G, B, R per k (full table in the JSON)", "",
            "| k | G | B | R | vs int8 | vs fp32 | top-1 | best with Huffman literals vs int8 |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for k in sorted({_fmt_k(x["k"]) for x in cross}, key=int):
        b = max((x for x in cross if _fmt_k(x["k"]) == k), key=lambda x: x["ratio_int8"])
        zm = max(x["huffman_ratio_int8"] for x in cross if _fmt_k(x["k"]) == k)
        out.append(f"| {k} | {b['G']} | {b['B']} | {b['R']} | {b['ratio_int8']:.2f} | "
                   f"{b['ratio_fp32']:.2f} | {pct(b['top1'])} | {zm:.2f} |")
    out += ["", "### Per-layer k chosen by sensitivity, per-layer best B and R", "",
            "| G | k per layer | vs int8 | vs fp32 | top-1 | loss |",
            "|---:|---|---:|---:|---:|---:|"]
    for x in rows:
        if x["kind"].startswith("per-layer"):
            out.append(f"| {x['G']} | {_fmt_k(x['k'])} | {x['ratio_int8']:.2f} | "
                       f"{x['ratio_fp32']:.2f} | {pct(x['top1'])} | {x['loss']:.2f} |")
    best = best_within(rows, r["budget"])
    top = max(rows, key=lambda x: x["ratio_int8"])
    out += ["", f"Largest compression within {r['budget']:g} point(s) of top-1: "
            + (f"{best['ratio_int8']:.2f}x against int8, {best['ratio_fp32']:.2f}x against "
               f"fp32 ({best['kind']}, k {_fmt_k(best['k'])}, G {best['G']}, B {best['B']}, "
               f"R {best['R']}; top-1 {pct(best['top1'])} %)." if best else "none."),
            f"Largest at any accuracy: {top['ratio_fp32']:.1f}x against fp32 "
            f"({top['ratio_int8']:.2f}x against int8) at top-1 {pct(top['top1'])} %. The paper "
            f"reports up to {PAPER['ratio']:g}x ({100 * PAPER['saving']:.2f} % saving) on large "
            "DNNs."]
    return "\n".join(out)


def plot(r, out):
    plt = reports.pyplot()

    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    rows = r["rows"]
    for kind, style in (("G x B x R", {"marker": ".", "ls": "none", "alpha": 0.4}),
                        ("k sweep", {"marker": "o", "ls": "-"}),
                        ("per-layer k (sensitivity)", {"marker": "*", "ms": 11, "ls": "none"})):
        xs = [x for x in rows if x["kind"] == kind and x["scope"] == "layer"]
        ax.plot([x["ratio_int8"] for x in xs], [100 * x["top1"] for x in xs],
                label=f"HC-P: {kind}", **style)
    zs = [x for x in rows if x["kind"] == "k sweep" and x["scope"] == "layer"]
    ax.plot([x["zstd_ratio_int8"] for x in zs], [100 * x["top1"] for x in zs], marker="s",
            ls="--", label="zstd -19 on the trimmed int8 weights")
    ax.axhline(100 * r["float"]["top1"] - r["budget"], color="gray", lw=0.8, ls=":",
               label=f"float top-1 - {r['budget']:g} point")
    ax.axvline(3, color="gray", lw=0.8, ls="-.")
    ax.set_xscale("log")
    ax.set_xlabel("compression against int8 (every stream bit counted)")
    ax.set_ylabel("top-1 (%)")
    ax.set_title(f"{r['model']}: accuracy vs compression ({r['note']})", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    fig.savefig(out / f"dict_{r['model']}.png", dpi=120)
    plt.close(fig)


def main(name, images=None, out=None, progress=True):
    r = collect(name, images, progress)
    return reports.write(r, f"dict_{name}", render_markdown(r), plot, out)
