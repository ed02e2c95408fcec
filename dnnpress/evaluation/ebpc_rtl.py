"""Real feature maps through the EBPC encoder and decoder RTL (Icarus, cocotb).

Takes the maps of any network (a built-in one, or an ONNX model) quantised exactly as
:mod:`dnnpress.evaluation.ebpc_eval` does (max over the whole batch), writes the chosen
(layer, image) maps to an ``.npz`` and runs the round-trip testbench's ``real_maps`` test on it:
each map is one transfer; the compressed bytes must equal golden and the decoded words the input.
Reports words/cycle per map.
"""

import json
import tempfile
from pathlib import Path

import numpy as np

from . import nets
from .ebpc_eval import capture_torch, quantise

__all__ = ["DEFAULT_LAYERS", "default_layers", "rtl_check"]

#: MobileNetV2's default: three ReLU6 outputs of different sparsity and size (7x7 and 14x14 maps)
DEFAULT_LAYERS = ("features.7.conv.0.2", "features.14.conv.1.2", "features.18.2")


def default_layers(names):
    """Three layers spread over the network (first, middle, last), or every one of fewer."""
    return tuple(dict.fromkeys(names[i] for i in (0, len(names) // 2, len(names) - 1)))


def rtl_check(layers=DEFAULT_LAYERS, images=2, out=None, limit=None, captured=None,
              model="mobilenetv2"):
    """Run the maps of ``layers`` x the first ``images`` inputs through the RTL (the first
    ``limit`` words of each, when given); return the rows of the report. ``captured`` is
    ``(names, maps)`` of :func:`~dnnpress.evaluation.ebpc_eval.capture_torch` or
    ``capture_onnx`` (default: MobileNetV2 on the 20 photos)."""
    from dnnpress.paths import BUILD, REPORTS
    from tb.ebpc_roundtrip import CORE
    from tb.runner import run

    names, acts = captured or capture_torch(nets.mobilenet_v2(), [nets.imagenet_photos(20)[0]])[:2]
    layers = tuple(layers or default_layers(names))
    unknown = [n for n in layers if n not in names]
    if unknown:
        raise nets.BadInput(f"--layers: no activation {unknown[0]!r}; layers: "
                            f"{', '.join(names)}")
    if not 1 <= images <= len(acts[0]):
        raise nets.BadInput(f"--images must be 1..{len(acts[0])} with --rtl, not {images}")
    quantised = {n: quantise(acts[names.index(n)]) for n in layers}     # the whole batch's scale
    chosen = [(n, i, quantised[n][i].reshape(-1)[:limit]) for n in layers for i in range(images)]
    work = BUILD / "eval"
    work.mkdir(parents=True, exist_ok=True)
    np.savez(work / "rtl_maps.npz", **{f"map{k}": q for k, (_, _, q) in enumerate(chosen)})
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "rows.json"
        run(CORE, "tb.ebpc_roundtrip_tb", {}, select=r"\.real_maps\b", quiet=True,
            extra_env={"DNNPRESS_MAPS": str(work / "rtl_maps.npz"),
                       "DNNPRESS_BENCH": str(result)})
        rows = json.loads(result.read_text())
    for row, (name, image, q) in zip(rows, chosen):
        row.update({"layer": name, "image": image, "shape": list(q.shape),
                    "zeros": float((q == 0).mean())})
    out = Path(out or REPORTS)
    out.mkdir(parents=True, exist_ok=True)
    report = out / f"ebpc_rtl_{'real_maps' if model == 'mobilenetv2' else model}.json"
    report.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"{'layer':<24} {'image':>5} {'words':>7} {'zeros':>6} {'words/cycle':>11}")
    for r in rows:
        print(f"{r['layer']:<24} {r['image']:>5} {r['words']:>7} {100 * r['zeros']:>5.1f}% "
              f"{r['words_per_cycle']:>11.3f}")
    print(f"all {len(rows)} maps bit-exact through encoder and decoder RTL; wrote {report}")
    return rows
