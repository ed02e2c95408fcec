"""``dnnpress eval ebpc``: EBPC and its baselines on the real feature maps of any network.

A network's activation outputs (every ReLU / ReLU6, or the module types / ONNX ops asked for)
are captured on a batch of inputs, quantised as the EBPC authors' code does (per layer: max of
|x| over the whole batch, x / max * 0.75 * 127, truncated toward zero to int8), and every
(layer, image) map, NCHW flattened, is compressed with the golden EBPC and the baselines of
:mod:`golden.baselines`, in parallel over processes. Ratios are sums: total raw bits / total
compressed bits. JSON, Markdown and plots go to ``build/reports/ebpc_<name>.*``.

Three ways in, one report:

- :func:`torch_report`: a ``torch.nn.Module`` and an iterable of input batches (forward hooks on
  the module types asked for). The built-in torch networks go through it.
- :func:`onnx_report`: an ONNX file and an input batch (every output of the chosen ops becomes
  a graph output; onnxruntime runs it). The built-in ``resnet50-nsfw`` goes through it.
- :func:`main`: a built-in network by name (:data:`NETWORKS`) on its built-in inputs;
  :func:`table`: every built-in network beside the paper's nearest one.
"""

import dataclasses
import json
import multiprocessing
import os
import time
from pathlib import Path

import numpy as np

from golden import baselines

from . import nets, reports

__all__ = ["PAPER", "PAPER_TABLE", "METHODS", "NETWORKS", "DEFAULT_OPS", "quantise",
           "capture_torch", "capture_onnx", "compress", "evaluate", "torch_report",
           "onnx_report", "render_markdown", "plot", "builtin", "capture_builtin", "main",
           "table"]

#: the EBPC paper's compression ratios (Cavigelli et al., JETCAS 2019, Fig. 8 / Table: 8-bit
#: post-ReLU feature maps of torchvision models on ImageNet)
PAPER_TABLE = {"AlexNet": 5.1, "VGG-16": 4.0, "ResNet-34": 2.4, "SqueezeNet": 2.8,
               "MobileNetV2": 2.2}
SAFETY = 0.75
#: the ONNX ops captured by default; a ``Clip`` counts only with a lower bound of 0 (ReLU6)
DEFAULT_OPS = ("Relu", "Clip")

#: method -> label; every method's bits come from :func:`_bits` on one (layer, image) map
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


@dataclasses.dataclass(frozen=True)
class Network:
    """A built-in network: what it is, where it comes from, its inputs and the paper's nearest
    network (``None``: the paper has none like it)."""

    title: str
    source: str
    inputs: str
    nearest: str | None
    reference: float | None = None      # the maintainers' own figure for these inputs


#: the built-in networks of ``--model`` and ``--table`` (inputs: :mod:`.nets`)
NETWORKS = {
    "mobilenetv2": Network("MobileNetV2", "torchvision's ImageNet checkpoint "
                           f"({nets.MOBILENET_PACKAGE})", "20 ImageNet photos", "MobileNetV2",
                           1.96),
    "resnet50-nsfw": Network("ResNet-50-1by2 (open_nsfw)", f"Yahoo's ONNX file "
                             f"({nets.NSFW_PACKAGE}), through the ONNX path",
                             "20 ImageNet photos", "ResNet-34"),
    "vgg16bn-craft": Network("VGG-16-BN (CRAFT body)", f"CRAFT's checkpoint "
                             f"({nets.CRAFT_PACKAGE})", "20 ImageNet photos", "VGG-16"),
    "vgg16-hed": Network("VGG-16 (HED)", f"HED's Keras weights ({nets.HED_PACKAGE})",
                         "20 ImageNet photos", "VGG-16"),
    "lenet5": Network("LeNet-5", "the NoC authors' Keras weights (../shared/data/lenet5)",
                      "10,000 MNIST test images", None),
}
#: kept for the reports of a single network: the paper's figure where it names this network
PAPER = {"mobilenetv2": PAPER_TABLE["MobileNetV2"]}
QUANTISATION = "per layer: |x| max over the batch, x / max * 0.75 * 127, truncated"


def _scale(top, bits):
    return (SAFETY * ((1 << (bits - 1)) - 1) / top) if top > 0 else 0.0


def quantise(x, bits=8, top=None):
    """The authors' quantisation of one layer's activations ``x`` (float array, whole batch);
    ``top`` is the layer's max of |x| when ``x`` is only part of the batch."""
    top = float(np.abs(x).max()) if top is None else top
    return np.trunc(x * _scale(top, bits)).astype(np.int8 if bits == 8 else np.int16)


# -- capture -------------------------------------------------------------------------------------

def _module_types(types):
    torch = nets.require("torch", "torch")
    return tuple(types) if types else (torch.nn.ReLU, torch.nn.ReLU6)


def capture_torch(module, batches, types=None):
    """``(names, maps, outputs)``: the output of every submodule of ``module`` that is one of
    ``types`` (default ReLU and ReLU6) as float32, one array per layer with the image axis first,
    and the module's outputs, over the input ``batches`` (tensors or arrays, images first)."""
    torch = nets.require("torch", "torch")
    types = _module_types(types)
    acts = {}
    names = [n for n, m in module.named_modules() if isinstance(m, types)]
    if not names:
        raise nets.BadInput(f"{type(module).__name__} has no submodule of the types "
                            f"{', '.join(t.__name__ for t in types)}: nothing to capture")
    hooks = [m.register_forward_hook(lambda mod, inp, out, n=n: acts.setdefault(n, []).append(
        out.detach().float().numpy().copy())) for n, m in module.named_modules() if n in names]
    outputs = []
    try:
        with torch.no_grad():
            for b in batches:
                b = torch.as_tensor(b)
                out = module(b)
                outputs.append(out.numpy() if isinstance(out, torch.Tensor) else None)
    finally:
        for h in hooks:
            h.remove()
    if not outputs:
        raise nets.BadInput("no input batches: nothing to run the network on")
    names = [n for n in names if n in acts]       # a module the forward never calls has no map
    maps = [np.concatenate(acts[n]) for n in names]
    return names, maps, (np.concatenate(outputs) if all(o is not None for o in outputs)
                         else None)


def _onnx_modules():
    return nets.require("onnx", "onnx"), nets.require("onnxruntime", "onnxruntime")


def _constant(graph, name):
    """The value of the initializer or Constant node ``name`` of ``graph`` (``None``: neither)."""
    onnx, _ = _onnx_modules()
    for t in graph.initializer:
        if t.name == name:
            return onnx.numpy_helper.to_array(t)
    for n in graph.node:
        if n.op_type == "Constant" and n.output[0] == name:
            for a in n.attribute:
                if a.name == "value":
                    return onnx.numpy_helper.to_array(a.t)
    return None


def _is_relu6_like(graph, node):
    """A Clip whose lower bound is 0 (attribute before opset 11, second input after)."""
    for a in node.attribute:
        if a.name == "min":
            return a.f == 0
    if len(node.input) > 1 and node.input[1]:
        low = _constant(graph, node.input[1])
        return low is not None and low.size == 1 and float(low) == 0
    return False


def _load_onnx(path):
    onnx, _ = _onnx_modules()
    path = Path(path)
    if not path.is_file():
        raise nets.BadInput(f"{path}: no such ONNX file" + (" (it is a folder)"
                                                              if path.is_dir() else ""))
    try:
        model = onnx.load(str(path))
    except Exception as exc:         # protobuf's DecodeError and friends: not an ONNX file
        raise nets.BadInput(f"{path}: not an ONNX model ({type(exc).__name__})") from None
    if not model.graph.node or not model.graph.input:
        raise nets.BadInput(f"{path}: not an ONNX model (no graph nodes or inputs)")
    return model


def _graph_input(model, path, name):
    init = {t.name for t in model.graph.initializer}
    real = [i for i in model.graph.input if i.name not in init]
    if name is None:
        if len(real) != 1:
            raise nets.BadInput(f"{path}: {len(real)} inputs ({', '.join(i.name for i in real)})"
                                f": choose one with --input")
        return real[0]
    for i in real:
        if i.name == name:
            return i
    raise nets.BadInput(f"{path}: no input {name!r}; inputs: {', '.join(i.name for i in real)}")


def _shape(inp):
    """An ONNX graph input's shape: ints, ``None`` where symbolic."""
    return tuple(d.dim_value if d.HasField("dim_value") else None
                 for d in inp.type.tensor_type.shape.dim)


def onnx_input_shape(path, input_name=None):
    """The chosen input's shape of the ONNX file: ints, ``None`` where symbolic."""
    model = _load_onnx(path)
    return _shape(_graph_input(model, path, input_name))


def capture_onnx(path, x, input_name=None, ops=DEFAULT_OPS, batch=4):
    """``(names, maps, outputs)`` like :func:`capture_torch`, for the ONNX file ``path`` on the
    input batch ``x`` (numpy, images first, already laid out as the model's input): every
    output of a node whose op is in ``ops`` (a ``Clip`` only with lower bound 0) is added to the
    graph outputs and onnxruntime runs the graph on the CPU, ``batch`` images at a time (or the
    model's fixed batch size). The maps keep the graph's layout: ONNX's convolutions and pools
    are NCHW, so the maps after them are NCHW whatever the input's layout."""
    onnx, ort = _onnx_modules()
    model = _load_onnx(path)
    inp = _graph_input(model, path, input_name)
    shape = _shape(inp)
    if len(shape) != x.ndim or any(s is not None and s != g for s, g in zip(shape[1:],
                                                                            x.shape[1:])):
        want = "x".join("N" if s is None else str(s) for s in shape)
        raise nets.BadInput(f"{path}: input {inp.name!r} is {want}, the inputs give "
                            f"{'x'.join(map(str, x.shape))}: check --layout, --size (or the "
                            f".npy batch's shape)")
    dtype = onnx.helper.tensor_dtype_to_np_dtype(inp.type.tensor_type.elem_type)
    if dtype.kind != "f":
        raise nets.BadInput(f"{path}: input {inp.name!r} takes {dtype}; only float inputs "
                            f"(images) are supported")
    graph = model.graph
    want = set(ops)
    nodes = [n for n in graph.node if n.op_type in want
             and (n.op_type != "Clip" or _is_relu6_like(graph, n))]
    if not nodes:
        present = sorted({n.op_type for n in graph.node})
        raise nets.BadInput(f"{path}: no activation of the ops {', '.join(ops)} (a Clip counts "
                            f"only with min 0); its ops: {', '.join(present)}")
    names = [n.output[0] for n in nodes]
    graph_outputs = [o.name for o in graph.output]
    for n in names:
        if n not in graph_outputs:
            graph.output.append(onnx.ValueInfoProto(name=n))
    try:
        session = ort.InferenceSession(model.SerializeToString(),
                                       providers=["CPUExecutionProvider"])
    except Exception as exc:         # onnxruntime's own errors: an invalid graph
        raise nets.BadInput(f"{path}: onnxruntime cannot load it: "
                            f"{str(exc).splitlines()[0][:200]}") from None
    step = shape[0] or batch
    if shape[0] and len(x) % step:
        raise nets.BadInput(f"{path}: the model's batch size is fixed at {step}; give a "
                            f"multiple of {step} inputs, not {len(x)}")
    runs = [session.run(names + graph_outputs[:1], {inp.name: x[i:i + step].astype(dtype)})
            for i in range(0, len(x), step)]
    maps = [np.concatenate([r[k] for r in runs]).astype(np.float32) for k in range(len(names))]
    return names, maps, np.concatenate([r[-1] for r in runs])


# -- compression ---------------------------------------------------------------------------------

def _bits(method, q8, q16):
    if method == "ebpc_b16":
        return baselines.ebpc(q8, 8, 16)
    if method == "ebpc_w16":
        return baselines.ebpc(q16, 16, 8) / 2     # 16-bit words: half their bits, like for like
    if method == "ebpc_nhwc":
        return baselines.ebpc(np.moveaxis(q8, 0, -1) if q8.ndim == 3 else q8)
    if method in ("ebpc", "bpc"):
        return baselines.BASELINES[method](q8, 8, 8)
    return baselines.BASELINES[method](q8, 8)


_MAPS = None        # (maps, tops) of the compression under way: shared with forked workers


def _one_map(task):
    k, i = task
    maps, tops = _MAPS
    q8, q16 = (quantise(maps[k][i], bits, tops[k]) for bits in (8, 16))
    return k, i, int(np.count_nonzero(q8 == 0)), [_bits(m, q8, q16) for m in METHODS]


def compress(maps, jobs=None, progress=True, desc="maps"):
    """``(raw, bits, zeros)`` of every (layer, image) map of ``maps`` (one float array per
    layer, images first): raw bits and each method's bits as (layers x images) arrays, and the
    fraction of zeros per layer after quantisation. ``jobs`` processes (default: every core)."""
    global _MAPS
    tqdm = nets.require("tqdm", "tqdm").tqdm
    n_img = len(maps[0])
    raw = np.array([[m[0].size * 8] * n_img for m in maps], float)
    bits = {m: np.zeros((len(maps), n_img)) for m in METHODS}
    zeros = np.zeros(len(maps))
    # largest maps first, so that the last tasks are short and the processes end together
    tasks = sorted(((k, i) for k in range(len(maps)) for i in range(n_img)),
                   key=lambda t: -maps[t[0]][0].size)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(tasks)))
    _MAPS = (maps, [float(np.abs(m).max()) for m in maps])
    try:
        with tqdm(total=len(tasks), desc=desc, unit="map", disable=not progress) as bar:
            if jobs == 1:
                results = map(_one_map, tasks)
                pool = None
            else:           # fork: the workers see _MAPS without copying it
                pool = multiprocessing.get_context("fork").Pool(jobs)
                results = pool.imap_unordered(_one_map, tasks,
                                              chunksize=max(1, min(64, len(tasks) // (jobs * 64))))
            for k, i, z, b in results:
                zeros[k] += z
                for m, v in zip(METHODS, b):
                    bits[m][k, i] = v
                bar.update()
            if pool:
                pool.close()
                pool.join()
    finally:
        _MAPS = None
    return raw, bits, zeros / np.array([m.size for m in maps])


def _accuracy(outputs, labels):
    if labels is None or outputs is None:
        return None
    top5 = np.argsort(-outputs.reshape(len(outputs), -1), axis=1)[:, :5]
    return {"images": len(labels), "top1": float((top5[:, 0] == labels).mean()),
            "top5": float((top5 == labels[:, None]).any(1).mean())}


def evaluate(name, names, maps, labels=None, outputs=None, jobs=None, progress=True,
             **info):
    """The result dict of the captured ``maps`` (see :func:`render_markdown`); ``info`` is
    stored beside (``source``, ``inputs``, ...)."""
    if not maps:
        raise nets.BadInput("no activation maps were captured")
    bad = [n for n, m in zip(names, maps) if not np.isfinite(m).all()]
    if bad:
        raise nets.BadInput(f"the network's activation {bad[0]!r} holds NaN or infinite values: "
                            f"check the model and its inputs")
    start = time.perf_counter()
    raw, bits, zeros = compress(maps, jobs, progress, f"{name} maps")
    seconds = time.perf_counter() - start
    sizes = np.array([m.size for m in maps])

    def ratio(b, axis=None):
        return (raw.sum(axis) / b.sum(axis)).tolist() if axis is not None else float(
            raw.sum() / b.sum())

    net = NETWORKS.get(name)
    per_layer = {m: ratio(b, 1) for m, b in bits.items()}
    return {
        "model": name, **info, "count": len(maps[0]),
        "accuracy": _accuracy(outputs, labels),
        "quantisation": QUANTISATION, "order": "NCHW, one map per (layer, image)",
        "paper": PAPER.get(name), "reference": net.reference if net else None,
        "nearest": ({"network": net.nearest, "ratio": PAPER_TABLE[net.nearest]}
                    if net and net.nearest else None),
        "methods": METHODS,
        "total": {m: ratio(b) for m, b in bits.items()},
        "layers": [{"name": n, "shape": list(a.shape[1:]), "words": int(a[0].size),
                    "zeros": float(zeros[k]), **{m: r[k] for m, r in per_layer.items()}}
                   for k, (n, a) in enumerate(zip(names, maps))],
        "images": {m: ratio(b, 0) for m, b in bits.items()},
        "zeros": float((zeros * sizes).sum() / sizes.sum()),
        "seconds": {"compress": round(seconds, 1), "jobs": jobs or os.cpu_count()},
    }


def _batches(x, size=10):
    return (x[i:i + size] for i in range(0, len(x), size))


def torch_report(module, batches, name, *, types=None, labels=None, out=None, jobs=None,
                 progress=True, started=None, **info):
    """EBPC and the baselines on the feature maps of a torch model, reported like the built-in
    networks: JSON, Markdown and plots ``ebpc_<name>.*`` in ``out`` (default build/reports).

    Parameters
    ----------
    module : torch.nn.Module
        The network, in eval mode (dropout and batch norm as at inference).
    batches : iterable of tensors
        Input batches, images first, already preprocessed.
    name : str
        The report's name.
    types : tuple of module classes, optional
        Whose outputs are captured (forward hooks); default ``(torch.nn.ReLU, torch.nn.ReLU6)``.
    labels : array of int, optional
        Class indices of the inputs: top-1 / top-5 of the model's outputs are reported.
    jobs : int, optional
        Processes for the compression (default: every core).
    started : float, optional
        ``time.perf_counter()`` when the run began (loading the model): the report gives the
        seconds since as ``seconds.total``.

    Returns
    -------
    dict
        The result (the JSON's content); ``total["ebpc"]`` is the headline ratio.
    """
    names, maps, outputs = capture_torch(module, batches, types)
    r = evaluate(name, names, maps, labels, outputs, jobs, progress, **info)
    return _write(r, out, started)


def onnx_report(path, x, name=None, *, input_name=None, ops=DEFAULT_OPS, labels=None, out=None,
                jobs=None, progress=True, started=None, **info):
    """:func:`torch_report` for an ONNX file ``path`` and an input batch ``x`` (numpy)."""
    names, maps, outputs = capture_onnx(path, x, input_name, ops)
    r = evaluate(name or Path(path).stem, names, maps, labels, outputs, jobs, progress,
                 source=info.pop("source", str(path)), **info)
    return _write(r, out, started)


def _write(r, out, started=None):
    if started is not None:     # the whole run, from loading the model
        r["seconds"]["total"] = round(time.perf_counter() - started, 1)
    text = render_markdown(r)
    return reports.write(r, f"ebpc_{r['model']}", text, plot, out, text.split("\n| layer")[0])


# -- the built-in networks ------------------------------------------------------------------------

#: open_nsfw's preprocessing (Yahoo's classify_nsfw.py): 256, centre 224, BGR minus the means
NSFW_PRE = nets.Preprocess(mean=(104.0, 117.0, 123.0), std=(1.0,), bgr=True, layout="nhwc")
#: HED's: BGR minus its means, no scaling
HED_PRE = nets.Preprocess(mean=(104.00699, 116.66877, 122.67892), std=(1.0,), bgr=True)


def builtin(model, images=None):
    """The built-in network ``model`` (see :data:`NETWORKS`) and its inputs: ``("torch", module,
    batches, labels)`` or ``("onnx", path, inputs, None)``; labels ``None`` where the network is
    not an ImageNet / MNIST classifier."""
    if model not in NETWORKS:
        raise ValueError(f"--model must be one of {', '.join(NETWORKS)}, not {model!r}")
    if model == "lenet5":
        x, labels = nets.mnist_test(images or 10000)
        return "torch", nets.lenet5(), list(_batches(x, 500)), labels
    if model == "resnet50-nsfw":
        x = np.stack([NSFW_PRE.image(f) for f in nets.photo_files(images or 20)])
        return "onnx", nets.nsfw_onnx(), x, None
    build, pre, labelled = {"mobilenetv2": (nets.mobilenet_v2, nets.Preprocess(), True),
                            "vgg16bn-craft": (nets.vgg16bn_craft, nets.Preprocess(), False),
                            "vgg16-hed": (nets.vgg16_hed, HED_PRE, False)}[model]
    x, labels = nets.imagenet_photos(images or 20, pre)
    return "torch", build(), list(_batches(x)), labels if labelled else None


def capture_builtin(model, images=None):
    """``(names, maps, outputs)`` of the built-in network ``model`` on its inputs."""
    kind, net, x, _ = builtin(model, images)
    return capture_torch(net, x) if kind == "torch" else capture_onnx(net, x)


def main(model, images=None, out=None, progress=True, jobs=None):
    """Evaluate the built-in network ``model`` (see :data:`NETWORKS`) on its built-in inputs,
    print the summary and write ``ebpc_<model>.{json,md}`` and plots to ``out``."""
    started = time.perf_counter()
    kind, net, x, labels = builtin(model, images)
    n = NETWORKS[model]
    run = {"out": out, "jobs": jobs, "progress": progress, "source": n.source,
           "inputs": n.inputs, "title": n.title, "started": started}
    if kind == "onnx":
        return onnx_report(net, x, model, **run)
    return torch_report(net, x, model, labels=labels, **run)


def table(out=None, jobs=None, progress=True, rerun=False):
    """Every built-in network's totals beside the paper's nearest network: read from
    ``ebpc_<name>.json`` in ``out`` (each network missing there, or all with ``rerun``, is
    evaluated first); write ``ebpc_table.{json,md}`` and ``ebpc_table.png``."""
    from dnnpress.paths import REPORTS

    folder = Path(out or REPORTS)
    rows = []
    for name, net in NETWORKS.items():
        path = folder / f"ebpc_{name}.json"
        r = None if rerun or not path.is_file() else json.loads(path.read_text())
        if r is None or "nearest" not in r:          # absent, or from before this table
            r = main(name, out=folder, progress=progress, jobs=jobs)
        t = r["total"]
        rows.append({"model": name, "title": net.title, "inputs": net.inputs,
                     "images": r["count"], "maps": len(r["layers"]), "zeros": r["zeros"],
                     "ebpc": t["ebpc"], "zvc": t["zvc"], "zstd19": t["zstd19"],
                     "ebpc_b16": t["ebpc_b16"],
                     "paper_network": net.nearest,
                     "paper": PAPER_TABLE[net.nearest] if net.nearest else None,
                     "seconds": r.get("seconds", {}).get("total")})
    result = {"paper": PAPER_TABLE, "quantisation": QUANTISATION, "rows": rows}
    text = render_table(result)
    return reports.write(result, "ebpc_table", text, plot_table, folder)


def render_table(t):
    lines = ["## EBPC on every built-in network, beside the paper", "",
             f"Maps quantised {t['quantisation']}; NCHW; ratios are total raw bits / total "
             "compressed bits. The paper's figures (its nearest network; torchvision models, "
             "ImageNet) are from a different set of images and models.", "",
             "| network | inputs | maps | zeros | **EBPC** | ZVC | zstd -19 | EBPC block 16 | "
             "paper's nearest | paper EBPC | seconds |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for r in t["rows"]:
        lines.append(f"| {r['title']} | {r['images']:,} of {r['inputs']} | {r['maps']} | "
                     f"{100 * r['zeros']:.1f} % | **{r['ebpc']:.3f}** | {r['zvc']:.3f} | "
                     f"{r['zstd19']:.3f} | {r['ebpc_b16']:.3f} | {r['paper_network'] or '-'} | "
                     f"{r['paper'] if r['paper'] else '-'} | {r['seconds'] or '-'} |")
    others = [f"{k} {v}x" for k, v in t["paper"].items()
              if k not in {r["paper_network"] for r in t["rows"]}]
    lines += ["", f"The paper's other networks: {', '.join(others)}."]
    return "\n".join(lines)


def plot_table(t, out):
    plt = reports.pyplot()
    rows = t["rows"]
    fig, ax = plt.subplots(figsize=(8, 4))
    xs = np.arange(len(rows))
    width = 0.16
    for j, (key, label) in enumerate((("ebpc", "EBPC"), ("ebpc_b16", "EBPC block 16"),
                                      ("zvc", "ZVC"), ("zstd19", "zstd -19"))):
        ax.bar(xs + (j - 1.5) * width, [r[key] for r in rows], width, label=label)
    ax.scatter(xs, [r["paper"] if r["paper"] else np.nan for r in rows], marker="*", s=120,
               color="black", zorder=3, label="paper, nearest network")
    ax.set_xticks(xs, [r["title"] for r in rows], rotation=20, fontsize=7, ha="right")
    ax.set_ylabel("compression ratio")
    ax.legend(fontsize=7)
    ax.set_title("EBPC on real feature maps (8-bit, NCHW)")
    fig.tight_layout()
    fig.savefig(out / "ebpc_table.png", dpi=120)
    plt.close(fig)


# -- reports -------------------------------------------------------------------------------------

def render_markdown(r):
    t = r["total"]
    acc = r["accuracy"]
    quality = (f"; top-1 {100 * acc['top1']:.2f} %, top-5 {100 * acc['top5']:.2f} % (the real "
               f"model)" if acc else "")
    lines = [f"## EBPC on {r.get('title', r['model'])} feature maps", "",
             f"{r['count']} inputs{quality}. {len(r['layers'])} activation outputs, "
             f"{100 * r['zeros']:.1f} % zeros after quantisation ({r['quantisation']}; "
             f"{r['order']})." + (f" Model: {r['source']}." if r.get("source") else ""), "",
             "| method | ratio |", "|---|---:|"]
    lines += [f"| {label} | {t[m]:.3f} |" for m, label in r["methods"].items()]
    if r["paper"]:
        lines += ["", f"EBPC total {t['ebpc']:.3f}x; the paper reports {r['paper']}x "
                      f"(250 images); our reference with this quantisation on these 20 images "
                      f"{r['reference']}x."]
    elif r.get("nearest"):
        lines += ["", f"EBPC total {t['ebpc']:.3f}x; the paper's nearest network, "
                      f"{r['nearest']['network']}, {r['nearest']['ratio']}x."]
    else:
        lines += ["", f"EBPC total {t['ebpc']:.3f}x; the EBPC paper gives no figure for this "
                      f"network."]
    spread = np.array(r["images"]["ebpc"])
    sec = r.get("seconds", {})
    took = (f" Compressed in {sec['compress']} s over {sec['jobs']} processes" +
            (f", {sec['total']} s in all." if "total" in sec else ".")) if sec else ""
    lines += ["", f"Per input EBPC ratio: min {spread.min():.3f}, median "
                  f"{np.median(spread):.3f}, max {spread.max():.3f}.{took}", "",
              "| layer | shape | zeros | EBPC | ZVC | zero RLE | BPC | zstd | EBPC b16 | "
              "EBPC NHWC |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {x['name']} | {'x'.join(map(str, x['shape']))} | {100 * x['zeros']:.1f} % | "
              f"{x['ebpc']:.2f} | {x['zvc']:.2f} | {x['zero_rle']:.2f} | {x['bpc']:.2f} | "
              f"{x['zstd19']:.2f} | {x['ebpc_b16']:.2f} | {x['ebpc_nhwc']:.2f} |"
              for x in r["layers"]]
    return "\n".join(lines)


def plot(r, out):
    """Two PNGs: per-layer ratios with sparsity, per-input spread of each method."""
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
    ax.set_ylabel("compression ratio per input")
    ax.set_title(f"{r['model']}: spread over {r['count']} inputs")
    fig.tight_layout()
    fig.savefig(out / f"ebpc_{r['model']}_images.png", dpi=120)
    plt.close(fig)
