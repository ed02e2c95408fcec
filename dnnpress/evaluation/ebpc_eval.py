"""``dnnpress eval ebpc``: EBPC and its baselines on the real feature maps of real networks.

Captures every ReLU / ReLU6 output of MobileNetV2 (ImageNet photos) or LeNet-5 (MNIST test
set), quantises each layer as the EBPC authors' code does (max of |x| over the whole batch,
x / max * 0.75 * 127, truncated toward zero to int8), compresses every (layer, image) map, NCHW
flattened, with the golden EBPC and the baselines of :mod:`golden.baselines`, and writes JSON,
Markdown and plots. Ratios are sums: total raw bits / total compressed bits.
"""


import numpy as np

from golden import baselines

from . import nets, reports

__all__ = ["PAPER", "METHODS", "quantise", "capture", "evaluate", "render_markdown", "plot",
           "main"]

#: the EBPC paper's ratios (8-bit post-ReLU maps, torchvision models, ImageNet)
PAPER = {"mobilenetv2": 2.2}
#: the maintainers' own figure for MobileNetV2 with this quantisation on the 20 photos
REFERENCE = {"mobilenetv2": 1.96}
SAFETY = 0.75

#: method -> (label, bits function of an int8 map, of its int16 quantisation, of NHWC order)
METHODS = {
    "ebpc": "EBPC (8-bit, block 8)",
    "zvc": "ZVC",
    "zero_rle": "zero RLE (max run 16)",
    "bpc": "BPC without zero stream",
    "zlib9": "zlib level 9",
    "zstd19": "zstd level 19",
    "ebpc_b16": "EBPC, block 16",
    "ebpc_w16": "EBPC, 16-bit words (16-bit quantisation)",
    "ebpc_nhwc": "EBPC, NHWC order",
}


def quantise(x, bits=8):
    """The authors' quantisation of one layer's activations ``x`` (float array, whole batch)."""
    top = float(np.abs(x).max())
    scale = (SAFETY * ((1 << (bits - 1)) - 1) / top) if top > 0 else 0.0
    return np.trunc(x * scale).astype(np.int8 if bits == 8 else np.int16)


def capture(model, images, batch=50):
    """``(names, maps, logits)``: every ReLU / ReLU6 output, float32, one array per layer with
    the image axis first, and the model's outputs."""
    torch = nets.require("torch", "torch")
    acts = {}
    names = [n for n, m in model.named_modules() if isinstance(m, (torch.nn.ReLU,
                                                                   torch.nn.ReLU6))]
    hooks = [m.register_forward_hook(lambda mod, inp, out, n=n: acts.setdefault(n, []).append(
        out.detach().numpy().copy())) for n, m in model.named_modules() if n in names]
    logits = []
    with torch.no_grad():
        for i in range(0, len(images), batch):
            logits.append(model(images[i:i + batch]).numpy())
    for h in hooks:
        h.remove()
    return names, [np.concatenate(acts[n]) for n in names], np.concatenate(logits)


def _bits(method, q8, q16):
    if method == "ebpc_b16":
        return baselines.ebpc(q8, 8, 16)
    if method == "ebpc_w16":
        return baselines.ebpc(q16, 16, 8)
    if method == "ebpc_nhwc":
        return baselines.ebpc(np.moveaxis(q8, 0, -1) if q8.ndim == 3 else q8)
    if method in ("ebpc", "bpc"):
        return baselines.BASELINES[method](q8, 8, 8)
    return baselines.BASELINES[method](q8, 8)


def evaluate(model_name, images=None, progress=True):
    """Run the evaluation; return the result dict (see :func:`render_markdown`)."""
    if model_name == "mobilenetv2":
        model, (x, labels) = nets.mobilenet_v2(), nets.imagenet_photos(images or 20)
    elif model_name == "lenet5":
        model, (x, labels) = nets.lenet5(), nets.mnist_test(images or 10000)
    else:
        raise ValueError(f"--model must be mobilenetv2 or lenet5, not {model_name!r}")
    names, acts, logits = capture(model, x)
    top5 = np.argsort(-logits, axis=1)[:, :5]
    accuracy = {"images": len(labels), "top1": float((top5[:, 0] == labels).mean()),
                "top5": float((top5 == labels[:, None]).any(1).mean())}
    tqdm = nets.require("tqdm", "tqdm").tqdm
    n_img = len(labels)
    raw = np.zeros((len(names), n_img))
    bits = {m: np.zeros((len(names), n_img)) for m in METHODS}
    zeros = np.zeros(len(names))
    with tqdm(total=len(names) * n_img, desc=f"{model_name} maps", unit="map",
              disable=not progress) as bar:
        for k, a in enumerate(acts):
            q8, q16 = quantise(a, 8), quantise(a, 16)
            zeros[k] = float((q8 == 0).mean())
            for i in range(n_img):
                raw[k, i] = q8[i].size * 8
                for m in METHODS:
                    bits[m][k, i] = _bits(m, q8[i], q16[i]) * (0.5 if m == "ebpc_w16" else 1)
                bar.update()
    # 16-bit words hold twice the raw bits: halving their size compares like with like

    def ratio(b, axis=None):
        return (raw.sum(axis) / b.sum(axis)).tolist() if axis is not None else float(
            raw.sum() / b.sum())

    return {
        "model": model_name, "accuracy": accuracy,
        "quantisation": "per layer: |x| max over the batch, x / max * 0.75 * 127, truncated",
        "order": "NCHW, one map per (layer, image)",
        "paper": PAPER.get(model_name), "reference": REFERENCE.get(model_name),
        "methods": METHODS,
        "total": {m: ratio(b) for m, b in bits.items()},
        "layers": [{"name": n, "shape": list(a.shape[1:]), "words": int(a[0].size),
                    "zeros": zeros[k], **{m: ratio(b, 1)[k] for m, b in bits.items()}}
                   for k, (n, a) in enumerate(zip(names, acts))],
        "images": {m: ratio(b, 0) for m, b in bits.items()},
        "zeros": float(sum(z * a.size for z, a in zip(zeros, acts)) / sum(a.size for a in acts)),
    }


def render_markdown(r):
    t = r["total"]
    lines = [f"## EBPC on {r['model']} feature maps", "",
             f"{r['accuracy']['images']} images; top-1 {100 * r['accuracy']['top1']:.2f} %, "
             f"top-5 {100 * r['accuracy']['top5']:.2f} % (the real model). {len(r['layers'])} "
             f"ReLU outputs, {100 * r['zeros']:.1f} % zeros after quantisation "
             f"({r['quantisation']}; {r['order']}).", "",
             "| method | ratio |", "|---|---:|"]
    lines += [f"| {label} | {t[m]:.3f} |" for m, label in r["methods"].items()]
    if r["paper"]:
        lines += ["", f"EBPC total {t['ebpc']:.3f}x; the paper reports {r['paper']}x "
                      f"(250 images); our reference with this quantisation on these 20 images "
                      f"{r['reference']}x."]
    else:
        lines += ["", f"EBPC total {t['ebpc']:.3f}x; the EBPC paper gives no figure for this "
                      f"network."]
    spread = np.array(r["images"]["ebpc"])
    lines += ["", f"Per image EBPC ratio: min {spread.min():.3f}, median "
                  f"{np.median(spread):.3f}, max {spread.max():.3f}.", "",
              "| layer | shape | zeros | EBPC | ZVC | zero RLE | BPC | zstd | EBPC b16 | "
              "EBPC NHWC |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {x['name']} | {'x'.join(map(str, x['shape']))} | {100 * x['zeros']:.1f} % | "
              f"{x['ebpc']:.2f} | {x['zvc']:.2f} | {x['zero_rle']:.2f} | {x['bpc']:.2f} | "
              f"{x['zstd19']:.2f} | {x['ebpc_b16']:.2f} | {x['ebpc_nhwc']:.2f} |"
              for x in r["layers"]]
    return "\n".join(lines)


def plot(r, out):
    """Two PNGs: per-layer ratios with sparsity, per-image spread of each method."""
    plt = reports.pyplot()

    layers = r["layers"]
    fig, ax = plt.subplots(figsize=(max(6, 0.35 * len(layers)), 4))
    xs = np.arange(len(layers))
    for m in ("ebpc", "zvc", "bpc", "zstd19"):
        ax.plot(xs, [x[m] for x in layers], marker="o", ms=3, label=r["methods"][m])
    ax.set_xticks(xs, [x["name"] for x in layers], rotation=90, fontsize=6)
    ax.set_ylabel("compression ratio")
    ax2 = ax.twinx()
    ax2.bar(xs, [100 * x["zeros"] for x in layers], alpha=0.15, color="gray")
    ax2.set_ylabel("zeros (%)")
    ax.legend(fontsize=7)
    ax.set_title(f"{r['model']}: ratio per layer (bars: sparsity)")
    fig.tight_layout()
    fig.savefig(out / f"ebpc_{r['model']}_layers.png", dpi=120)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4))
    methods = list(r["methods"])
    ax.boxplot([r["images"][m] for m in methods], showfliers=True)
    ax.set_xticks(range(1, len(methods) + 1), methods, rotation=45, fontsize=7)
    ax.set_ylabel("compression ratio per image")
    ax.set_title(f"{r['model']}: spread over {r['accuracy']['images']} images")
    fig.tight_layout()
    fig.savefig(out / f"ebpc_{r['model']}_images.png", dpi=120)
    plt.close(fig)


def main(model, images=None, out=None, progress=True):
    """Evaluate, print the summary and write ``ebpc_<model>.{json,md}`` and plots to ``out``."""
    r = evaluate(model, images, progress)
    text = render_markdown(r)
    return reports.write(r, f"ebpc_{model}", text, plot, out, text.split("\n| layer")[0])
