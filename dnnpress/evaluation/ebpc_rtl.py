"""Real MobileNetV2 feature maps through the EBPC encoder and decoder RTL (Icarus, cocotb).

Takes the maps quantised exactly as :mod:`dnnpress.evaluation.ebpc_eval` does (max over the
20-photo batch), writes the chosen (layer, image) maps to an ``.npz`` and runs the round-trip
testbench's ``real_maps`` test on it: each map is one transfer; the compressed bytes must equal
golden and the decoded words the input. Reports words/cycle per map.
"""

import json
import tempfile
from pathlib import Path

import numpy as np

from . import nets
from .ebpc_eval import capture_torch, quantise

__all__ = ["DEFAULT_LAYERS", "rtl_check"]

#: three ReLU6 outputs of different sparsity and size (7x7 and 14x14 maps)
DEFAULT_LAYERS = ("features.7.conv.0.2", "features.14.conv.1.2", "features.18.2")


def rtl_check(layers=DEFAULT_LAYERS, images=2, out=None, limit=None):
    """Run the maps of ``layers`` x the first ``images`` photos through the RTL (the first
    ``limit`` words of each, when given); return the rows of the report."""
    from dnnpress.paths import BUILD, REPORTS
    from tb.ebpc_roundtrip import CORE
    from tb.runner import run

    names, acts, _ = capture_torch(nets.mobilenet_v2(), [nets.imagenet_photos(20)[0]])
    unknown = [n for n in layers if n not in names]
    if unknown:
        raise ValueError(f"no ReLU layer {unknown[0]!r}; layers: {', '.join(names)}")
    chosen = [(n, i, quantise(acts[names.index(n)])[i].reshape(-1)[:limit])
              for n in layers for i in range(images)]
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
    (out / "ebpc_rtl_real_maps.json").write_text(json.dumps(rows, indent=1) + "\n")
    print(f"{'layer':<24} {'image':>5} {'words':>7} {'zeros':>6} {'words/cycle':>11}")
    for r in rows:
        print(f"{r['layer']:<24} {r['image']:>5} {r['words']:>7} {100 * r['zeros']:>5.1f}% "
              f"{r['words_per_cycle']:>11.3f}")
    print(f"all {len(rows)} maps bit-exact through encoder and decoder RTL; wrote "
          f"{out / 'ebpc_rtl_real_maps.json'}")
    return rows
