"""``dnnpress eval dict``: HC-P dictionary compression of real weights, accuracy vs compression.

Every conv / dense weight tensor of the model (biases and batch-norm parameters stay float) is
quantised to int8 with one scale per output channel (``dc.quantise(w, axis=...)``: the last axis
of a Keras kernel, the first of a torch or ONNX Conv weight) or one per layer, trimmed by k, read
in filter-major load order and encoded with :mod:`golden.dict_codec` as an HC-P v1 stream
(literal lanes prefix coded) and, for comparison, a v0 stream; the network then runs with the
trimmed weights times their scales (exactly what the engine and the requantiser deliver).

Bits: every bit of every layer's stream (header, lane code table, dictionary, codes, padding)
plus the scales, which travel beside the stream in the ``.hcp`` container: 16 bits (fp16) per
output channel, or 32 bits (fp32) per layer. Ratios are given with and without the scales, and
zstd -19 on the same trimmed int8 weights (each layer in load order) is charged the same scales.

Accuracy: LeNet-5's top-1 on the MNIST test images; MobileNetV2's top-1 agreement with the float
model on 200 fixed views (the 20 foolbox photos x :meth:`nets.Preprocess.ten_crop`), beside the
top-1 of the 20 centre crops against their labels. The loss budget is 1 point of top-1 (LeNet-5)
or of agreement (MobileNetV2). ResNet-50 (open_nsfw's ONNX initializers): ratios only.

Sweeps: every k 0..6 at G = B = R = 4, both scale scopes, v1, v0 and zstd; the cross product of
G (1, 2, 4, 8), B (2..8), R (0, 4, 8) at v1 with per-channel scales for every k (LeNet-5) or for
the best k within budget (MobileNetV2); per-layer k chosen on a calibration half of the images
(views) and reported on the held-out half: by single-layer sensitivity (LeNet-5), and greedily
(both), with per-layer best B and R at G = 4.
"""

import dataclasses
import time
from itertools import product

import numpy as np

from golden import dict_codec as dc

from . import nets, reports

__all__ = ["PAPER", "GOALS", "K_RANGE", "G_RANGE", "B_RANGE", "R_RANGE", "VERSION", "SCOPES",
           "QUANTISERS", "Evaluation", "collect", "best_within", "render_markdown", "plot", "main"]

PAPER = {"ratio": 137.0, "saving": 0.9927}
#: the issue's goals: ratio against int8 (and fp32) within the loss budget
GOALS = {"lenet5": {"int8": 3.5, "fp32": 14.0, "zstd": True},
         "mobilenetv2": {"int8": 1.5, "fp32": 6.0, "zstd": False}}
K_RANGE, G_RANGE, B_RANGE, R_RANGE = range(7), (1, 2, 4, 8), range(2, 9), (0, 4, 8)
DEFAULT = {"g": 4, "b": 4, "r": 4}
AT_DEFAULT = {"G": 4, "B": 4, "R": 4}
BUDGET = 1.0      # points of top-1 (LeNet-5) or agreement (MobileNetV2)
VERSION = 1       # the HC-P version measured; v0 beside it in the k sweep
#: scale scopes and the bits a scale costs beside the stream
SCOPES = {"channel": 16, "layer": 32}
#: the quantisers: a scale scope, and "nearest" for the nearest level of the trimmed grid (the
#: format's trim truncates; see :meth:`Evaluation.trimmed`)
QUANTISERS = ("channel", "layer", "channel nearest", "layer nearest")
CODERS = ("v1", "v0", "zstd")
BATCH = 25        # MobileNetV2 views per forward pass


@dataclasses.dataclass(frozen=True)
class Ranges:
    """What the sweeps cover (the defaults: the report's; tests take less)."""
    k: tuple = tuple(K_RANGE)
    quantisers: tuple = QUANTISERS
    g: tuple = G_RANGE
    b: tuple = tuple(B_RANGE)
    r: tuple = R_RANGE


def _model(name, images):
    """``dict`` describing one model: weights ``{layer: float array}``, ``axis`` (output axis
    per layer), ``run(weights, idx) -> logits`` of evaluation items ``idx``, ``labels`` per item
    (None: agreement with the float model), ``halves`` (calibration, held-out item indices),
    ``note``."""
    torch = nets.require("torch", "torch")
    if name == "lenet5":
        x, labels = nets.mnist_test(images or 10000)
        weights = {k: v.astype(np.float32) for k, v in nets.lenet5_kernels().items()}

        def run(ws, idx):
            with torch.no_grad():
                return nets.lenet5(ws)(x[idx]).numpy()
        n = len(labels)
        return {"weights": weights, "axis": {k: v.ndim - 1 for k, v in weights.items()},
                "run": run, "labels": labels, "halves": (np.arange(n // 2), np.arange(n // 2, n)),
                "note": f"{n:,} MNIST test images", "metric": "top-1",
                "split": f"images 1-{n // 2:,} / {n // 2 + 1:,}-{n:,}"}
    if name == "mobilenetv2":
        photos = images or 20
        model = nets.mobilenet_v2()
        x, photo_labels = nets.imagenet_views(photos)
        params = dict(model.named_parameters())
        weights = {n: p.detach().numpy().copy() for n, p in params.items()
                   if n.endswith("weight") and p.dim() in (2, 4)}

        def run(ws, idx):
            with torch.no_grad():
                for n, w in ws.items():
                    params[n].copy_(torch.from_numpy(np.asarray(w, np.float32)))
                return np.concatenate([model(x[idx[i:i + BATCH]]).numpy()
                                       for i in range(0, len(idx), BATCH)])
        views = len(nets.TEN_CROP)
        cut = views * (-(-photos // 2))
        return {"weights": weights, "axis": dict.fromkeys(weights, 0), "run": run,
                "labels": None, "photo_labels": photo_labels,
                "halves": (np.arange(cut), np.arange(cut, views * photos)),
                "note": f"{views * photos} views ({photos} ImageNet photos x {views} crops and "
                        "flips)", "metric": "agreement",
                "split": f"views of photos 1-{cut // views} / {cut // views + 1}-{photos}"}
    raise ValueError(f"model must be lenet5 or mobilenetv2, not {name!r}")


def _sc(scope, name):
    """Layer ``name``'s quantiser: ``scope`` is one for every layer, or ``{layer: quantiser}``."""
    return scope[name] if isinstance(scope, dict) else scope


def _kl(logits, ref_logp):
    z = logits - logits.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    return (np.exp(ref_logp) * (ref_logp - logp)).sum(1)


class Evaluation:
    """Quantised layers of one model; encodings and per-item predictions cached by
    configuration (scope, k per layer), and only the items asked for evaluated."""

    def __init__(self, name, images=None, weights=None):
        self.name = name
        if weights is not None:                           # ratios only (ResNet-50)
            self.weights = {n: w for n, (w, _) in weights.items()}
            self.axis = {n: a for n, (_, a) in weights.items()}
            self.model = None
        else:
            self.model = _model(name, images)
            self.weights, self.axis = self.model["weights"], self.model["axis"]
        self.layers = list(self.weights)
        self.n = sum(w.size for w in self.weights.values())
        self.quant = {"channel": {n: dc.quantise(w, axis=self.axis[n])
                                  for n, w in self.weights.items()},
                      "layer": {n: dc.quantise(w) for n, w in self.weights.items()}}
        self.order = {n: np.moveaxis(np.arange(w.size).reshape(w.shape), self.axis[n], 0)
                      .reshape(-1) for n, w in self.weights.items()}
        self.layer_scale_bits = {n: {"channel": SCOPES["channel"] * w.shape[self.axis[n]],
                                     "layer": SCOPES["layer"]} for n, w in self.weights.items()}
        self.scale_bits = {q: self.scales(q) for q in QUANTISERS}
        self._enc, self._zstd, self._pred, self._near = {}, {}, {}, {}
        self.evaluations = 0
        if self.model is None:
            return
        m = self.model
        self.items = len(m["halves"][0]) + len(m["halves"][1])
        logits = m["run"](self.weights, np.arange(self.items))
        z = logits - logits.max(1, keepdims=True)
        self.float_logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        self.float_pred = logits.argmax(1)
        self.target = m["labels"] if m["labels"] is not None else self.float_pred

    # weights and bits

    def trimmed(self, name, k, scope="channel"):
        """``(t, s)``: the trimmed int8 weights of layer ``name`` and their scale(s).

        ``scope`` ``channel`` / ``layer``: ``trim(quantise(w), k)``, the format's trimming,
        which truncates magnitudes toward zero (at k = 5 a weight at 127 becomes 96). With
        ``nearest``: the same levels (multiples of ``2**k`` up to ``127 >> k << k``) reached by
        rounding to the nearest, with the scale fitted to the trimmed grid, ``s = max|w| / (127
        >> k) / 2**k``: the values are valid trimmed weights (``trim(t, k) == t``), only the
        quantiser before the encoder differs."""
        base, *mode = scope.split()
        if not mode:
            q, s = self.quant[base][name]
            return dc.trim(q, k), s
        key = (name, k, scope)
        if key not in self._near:
            w = np.asarray(self.weights[name], np.float64)
            m = 127 >> k
            if base == "channel":
                moved = np.moveaxis(w, self.axis[name], 0)
                top = np.abs(moved.reshape(moved.shape[0], -1)).max(1)
                shape = [1] * w.ndim
                shape[self.axis[name]] = -1
                step = np.where(top > 0, top, m) / m
                t = np.clip(np.round(w / step.reshape(shape)), -m, m)
            else:
                top = float(np.abs(w).max())
                step = (top if top > 0 else m) / m
                t = np.clip(np.round(w / step), -m, m)
            self._near[key] = ((t * (1 << k)).astype(np.int8), step / (1 << k))
        return self._near[key]

    def dequantised(self, name, k, scope="channel"):
        t, s = self.trimmed(name, k, scope)
        if np.ndim(s):
            shape = [1] * t.ndim
            shape[self.axis[name]] = -1
            s = np.reshape(s, shape)
        return (t * s).astype(np.float32)

    def layer_bits(self, name, k, g, b, r, scope="channel", version=VERSION):
        key = (name, k, g, b, r, scope, version)
        if key not in self._enc:
            t, _ = self.trimmed(name, k, scope)
            e = dc.encode(t.reshape(-1)[self.order[name]], k, g, b, r, version=version)
            self._enc[key] = {"bits": e.bits, "hits": e.hits, "runs": e.runs,
                              "literals": e.literals, "estimate": e.huffman_literal_bits()}
        return self._enc[key]

    def zstd_bits(self, name, k, scope="channel"):
        if (name, k, scope) not in self._zstd:
            zstd = nets.require("zstandard", "zstandard")
            t, _ = self.trimmed(name, k, scope)
            data = t.reshape(-1)[self.order[name]].tobytes()
            self._zstd[name, k, scope] = 8 * len(zstd.ZstdCompressor(level=19).compress(data))
        return self._zstd[name, k, scope]

    def scales(self, scope):
        """Bits of every layer's scales beside the streams."""
        return sum(self.layer_scale_bits[n][_sc(scope, n).split()[0]] for n in self.layers)

    def entropy_bits(self, name, k, scope="channel"):
        """The layer's trimmed weights' order-0 entropy times their count: what any code of
        one weight at a time without context needs at least (tables not counted)."""
        t, _ = self.trimmed(name, k, scope)
        p = np.unique(t, return_counts=True)[1] / t.size
        return float(-(p * np.log2(p)).sum() * t.size)

    def coder(self, bits, scope):
        """Ratios of ``bits`` stream bits (plus the scope's scales)."""
        total = bits + self.scales(scope)
        return {"bits": bits, "scale_bits": self.scales(scope),
                "ratio_int8": 8 * self.n / total, "ratio_fp32": 32 * self.n / total,
                "ratio_int8_stream": 8 * self.n / bits}

    def coders(self, ks, scope, g=4, b=4, r=4, versions=(1, 0), zstd=True, per_layer=None):
        """``{coder: ratios}`` of the layers at k ``ks`` (``per_layer``: B, R per layer)."""
        out = {}
        for v in versions:
            bits = sum(self.layer_bits(n, ks[n], g, *(per_layer[n] if per_layer else (b, r)),
                                       _sc(scope, n), v)["bits"] for n in self.layers)
            out[f"v{v}"] = self.coder(bits, scope)
        if zstd:
            out["zstd"] = self.coder(sum(self.zstd_bits(n, ks[n], _sc(scope, n))
                                         for n in self.layers), scope)
            out["entropy"] = self.coder(sum(self.entropy_bits(n, ks[n], _sc(scope, n))
                                            for n in self.layers), scope)
        return out

    # accuracy

    def _predict(self, ks, scope, idx, stop=None):
        """Predictions and KL to the float model of items ``idx`` (cached); with ``stop``, give
        up (None) once more than ``stop`` of them disagree with the target."""
        key = tuple((_sc(scope, n), ks[n]) for n in self.layers)
        if key not in self._pred:
            self._pred[key] = (np.full(self.items, -1), np.full(self.items, np.nan))
        pred, kl = self._pred[key]
        todo = idx[pred[idx] < 0]
        if todo.size:
            used = dict(self.weights)
            used.update({n: self.dequantised(n, k, _sc(scope, n)) for n, k in ks.items()
                         if k is not None})
            step = todo.size if stop is None else BATCH
            for i in range(0, todo.size, step):
                part = todo[i:i + step]
                logits = self.model["run"](used, part)
                self.evaluations += part.size
                pred[part], kl[part] = logits.argmax(1), _kl(logits, self.float_logp[part])
                seen = idx[pred[idx] >= 0]
                if stop is not None and (pred[seen] != self.target[seen]).sum() > stop:
                    return None
        return pred[idx], kl[idx]

    def score(self, ks, scope="channel", idx=None, stop=None):
        """Top-1 (LeNet-5) or agreement with the float model (MobileNetV2) on items ``idx``
        (default all) with layer ``n`` trimmed by ``ks[n]`` (missing or None: float)."""
        idx = np.arange(self.items) if idx is None else idx
        got = self._predict({n: ks.get(n) for n in self.layers}, scope, idx, stop)
        return None if got is None else float((got[0] == self.target[idx]).mean())

    def divergence(self, ks, scope, idx):
        return float(self._predict({n: ks.get(n) for n in self.layers}, scope, idx)[1].mean())

    def reference(self, idx=None):
        """The float model's score on ``idx`` (1 for agreement)."""
        idx = np.arange(self.items) if idx is None else idx
        return float((self.float_pred[idx] == self.target[idx]).mean())

    def loss(self, ks, scope="channel", idx=None, stop=None):
        s = self.score(ks, scope, idx, stop)
        return None if s is None else 100 * (self.reference(idx) - s)

    def photo_top1(self, ks, scope="channel"):
        """MobileNetV2: top-1 of the centre crops against the photos' labels."""
        centre = np.arange(0, self.items, len(nets.TEN_CROP))
        pred, _ = self._predict({n: ks.get(n) for n in self.layers}, scope, centre)
        return float((pred == self.model["photo_labels"]).mean())


def _row(ev, kind, ks, scope, coders, idx=None, **extra):
    row = {"kind": kind, "scope": scope, "k": ks, **extra, "coders": coders}
    if ev.model is not None:
        row.update(score=ev.score(ks, scope, idx), loss=ev.loss(ks, scope, idx))
        if ev.model["labels"] is None:
            row["photo_top1"] = ev.photo_top1(ks, scope)
    return row


def _best_br(ev, ks, scope, rg, g=4):
    """Per layer the B, R of fewest v1 bits at ``ks``."""
    return {n: min(product(rg.b, rg.r),
                   key=lambda br: ev.layer_bits(n, ks[n], g, *br, _sc(scope, n))["bits"])
            for n in ev.layers}


def _per_layer_row(ev, method, ks, scope, note, rg, g=4):
    cal, held = ev.model["halves"]
    per = _best_br(ev, ks, scope, rg, g)
    coders = ev.coders(ks, scope, g, versions=(1,), per_layer=per)
    return _row(ev, "per-layer k", ks, scope, coders, held, method=method, G=g,
                B="per layer", R="per layer", per_layer={n: {"B": b, "R": r}
                                                         for n, (b, r) in per.items()},
                calibration_loss=ev.loss(ks, scope, cal), note=note)


def _per_layer_rows(ev, method, ks, scope, note, rg):
    """The row at the engine's default G = 4 and, for LeNet-5 (cheap to encode), the row at
    the G (one for every layer: one engine) of fewest bits, when that is not 4."""
    rows = [_per_layer_row(ev, method, ks, scope, note, rg)]
    if ev.name == "lenet5":
        best = max((_per_layer_row(ev, method, ks, scope, note, rg, g) for g in rg.g),
                   key=lambda x: x["coders"]["v1"]["ratio_int8"])
        if best["G"] != 4:
            rows.append(best)
    return rows


def _sensitivity(ev, budget, scope, rg):
    """Per layer the largest k whose loss, that layer alone trimmed (the rest float), stays
    within ``budget / layers`` on the calibration half."""
    cal = ev.model["halves"][0]
    share = budget / len(ev.layers)
    return {n: max((k for k in rg.k if ev.loss({n: k}, scope, cal) <= share), default=0)
            for n in ev.layers}


def _greedy(ev, base, budget, scope, rank_idx, levels=2, progress=None):
    """Per-layer k from ``base`` (a uniform k within budget on the calibration half): per level,
    rank the layers by the v1 bits that k + 1 saves per unit of KL divergence from the
    float model (that layer alone raised, on ``rank_idx``), then raise them in that order,
    keeping each raise that leaves the calibration loss within budget."""
    cal = ev.model["halves"][0]
    stop = int(np.floor(budget / 100 * cal.size + 1e-9)) if ev.model["labels"] is None else None
    ks = dict.fromkeys(ev.layers, base)
    bits = lambda n, k: ev.layer_bits(n, k, **DEFAULT, scope=scope)["bits"]  # noqa: E731
    trials = 0
    for _ in range(levels):
        now = ev.divergence(ks, scope, rank_idx)
        ranked = []
        for n in ev.layers:
            if ks[n] < K_RANGE[-1]:
                cost = ev.divergence({**ks, n: ks[n] + 1}, scope, rank_idx) - now
                ranked.append(((bits(n, ks[n]) - bits(n, ks[n] + 1)) / max(cost, 1e-12), n))
                progress and progress()
        raised = False
        for _, n in sorted(ranked, reverse=True):
            trial = {**ks, n: ks[n] + 1}
            loss = ev.loss(trial, scope, cal, stop)
            trials += 1
            progress and progress()
            if loss is not None and loss <= budget:
                ks, raised = trial, True
        if not raised:
            break
    return ks, trials


def _option_greedy(ev, scope, base, budget, rg, progress=None):
    """Per layer a quantiser and a k, best-first from every layer at ``scope`` and ``base``: at
    each step, among every other (quantiser, k) of every layer that saves bits (v1 at G = B = R
    = 4, the layer's scales counted), take the one of most bits saved per unit of KL divergence
    (on the calibration half) whose calibration loss stays within budget; stop when none does.
    Every step saves bits, so it ends."""
    cal = ev.model["halves"][0]
    ks, qs = dict.fromkeys(ev.layers, base), dict.fromkeys(ev.layers, scope)

    def cost(n, q, k):
        return (ev.layer_bits(n, k, **DEFAULT, scope=q)["bits"]
                + ev.layer_scale_bits[n][q.split()[0]])
    steps = 0
    while True:
        now = ev.divergence(ks, qs, cal)
        moves = []
        for n, q, k in product(ev.layers, rg.quantisers, rg.k):
            gain = cost(n, qs[n], ks[n]) - cost(n, q, k)
            if gain > 0:
                d = ev.divergence({**ks, n: k}, {**qs, n: q}, cal) - now
                moves.append((gain / max(d, 1e-12), n, q, k))
                progress and progress()
        for _, n, q, k in sorted(moves, reverse=True):
            if ev.loss({**ks, n: k}, {**qs, n: q}, cal) <= budget:
                ks, qs = {**ks, n: k}, {**qs, n: q}
                steps += 1
                break
        else:
            return ks, qs, steps


def _timed(times, what, fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    times[what] = round(time.perf_counter() - t, 1)
    return out


def _ratios_only(name, progress, rg):
    """ResNet-50 (open_nsfw): ratios per k and scope, v1 / v0 / zstd, and v1's best B, R."""
    tqdm = nets.require("tqdm", "tqdm").tqdm
    times, start = {}, time.perf_counter()
    ev = _timed(times, "load and quantise", Evaluation, name, weights=nets.nsfw_weights())
    rows = []
    t = time.perf_counter()
    for scope, k in tqdm(list(product(rg.quantisers, rg.k)), desc=f"dict {name}", unit="k",
                         disable=not progress):
        ks = dict.fromkeys(ev.layers, k)
        rows.append(_row(ev, "k sweep", ks, scope, ev.coders(ks, scope), **AT_DEFAULT))
        if scope == "channel":
            per = _best_br(ev, ks, scope, rg)
            rows.append(_row(ev, "per-layer B, R", ks, scope,
                             ev.coders(ks, scope, versions=(1,), zstd=False, per_layer=per),
                             G=4, B="per layer", R="per layer"))
    times["k sweep"] = round(time.perf_counter() - t, 1)
    times["total"] = round(time.perf_counter() - start, 1)
    return {"model": name, "note": "ratios only (no accuracy)", "weights": ev.n,
            "layers": {n: list(w.shape) for n, w in ev.weights.items()},
            "source": f"{nets.NSFW_PACKAGE}: {nets.NSFW_FILE}, Conv / MatMul initializers",
            "scale_bits": ev.scale_bits, "paper": PAPER, "rows": rows, "runtime_s": times}


def collect(name, images=None, progress=True, budget=BUDGET, cross_ks=None, levels=2,
            ranges=Ranges()):
    """Every table of the report of ``name`` (``cross_ks``: the k of the G x B x R cross product,
    default every k for LeNet-5, the best within budget for MobileNetV2; ``levels``: the greedy
    selection's passes; ``ranges``: what the sweeps cover)."""
    rg = ranges
    if name == "mobilenetv2" and ranges == Ranges():     # 70 ms a view: three quantisers
        rg = Ranges(quantisers=QUANTISERS[:3])
    if name == "resnet50":
        return _ratios_only(name, progress, rg)
    tqdm = nets.require("tqdm", "tqdm").tqdm
    times, start = {}, time.perf_counter()
    ev = _timed(times, "load, quantise, float model", Evaluation, name, images)
    uniform = lambda k: dict.fromkeys(ev.layers, k)  # noqa: E731
    cal, held = ev.model["halves"]
    rows = []

    t = time.perf_counter()
    for scope, k in tqdm(list(product(rg.quantisers, rg.k)), desc=f"{name} k sweep", unit="k",
                         disable=not progress):
        rows.append(_row(ev, "k sweep", uniform(k), scope, ev.coders(uniform(k), scope),
                         **AT_DEFAULT, held_loss=ev.loss(uniform(k), scope, held),
                         calibration_loss=ev.loss(uniform(k), scope, cal)))
    times["k sweep"] = round(time.perf_counter() - t, 1)
    # int8 alone (k = 0, the best quantiser) may already miss the budget (MobileNetV2: per-channel
    # int8 flips 9 of the 200 views); then the selections keep within the budget of the int8
    # model instead: loss <= its loss + budget, on each half
    zero = min((x for x in rows if _uniform_k(x["k"]) == 0), key=lambda x: x["loss"])
    relative = zero["loss"] > budget
    sel, sel_cal, sel_held = ((zero["loss"] + budget, zero["calibration_loss"] + budget,
                               zero["held_loss"] + budget) if relative
                              else (budget, budget, budget))
    # per quantiser the largest k within budget; the best quantiser: most v1 bits saved there
    best_k = {q: max((_uniform_k(x["k"]) for x in rows if x["scope"] == q
                      and x["loss"] <= sel), default=0) for q in rg.quantisers}
    best_q = max(rg.quantisers, key=lambda q: next(
        x["coders"]["v1"]["ratio_int8"] for x in rows if x["scope"] == q
        and _uniform_k(x["k"]) == best_k[q]))
    chan = {best_q, "channel"} & set(rg.quantisers)
    cross = rg.quantisers if name == "lenet5" else sorted(chan, key=QUANTISERS.index)
    grid = [(q, k) for q in cross for k in (cross_ks or (rg.k if name == "lenet5"
                                                          else [best_k[q]]))]

    t = time.perf_counter()
    for (q, k), g, b, r in tqdm(list(product(grid, rg.g, rg.b, rg.r)),
                                desc=f"{name} G x B x R", unit="config", disable=not progress):
        rows.append(_row(ev, "G x B x R", uniform(k), q,
                         ev.coders(uniform(k), q, g, b, r, versions=(1,), zstd=False),
                         G=g, B=b, R=r))
    times["G x B x R"] = round(time.perf_counter() - t, 1)

    t = time.perf_counter()
    for q in ([best_q] if name != "lenet5" else sorted(chan, key=QUANTISERS.index)):
        base = max((k for k in rg.k if ev.loss(uniform(k), q, cal) <= sel_cal), default=0)
        if name == "lenet5":
            ks = _sensitivity(ev, sel_cal, q, rg)
            rows += _per_layer_rows(ev, "sensitivity", ks, q, "per layer the largest k "
                                    f"whose loss alone <= {budget:g} / {len(ev.layers)} "
                                    "points", rg)
            rank = cal
        else:              # the centre crop and its mirror of each calibration photo
            rank = cal[np.isin(cal % len(nets.TEN_CROP), (0, 5))]
        # LeNet-5 (cheap to evaluate): one level below the best uniform k, so that a sensitive
        # small layer can stay there while the large ones go up
        back = min(base, 1) if name == "lenet5" else 0
        with tqdm(desc=f"{name} per-layer k (greedy, {q})", unit="eval",
                  disable=not progress) as bar:
            ks, trials = _greedy(ev, base - back, sel_cal, q, rank, levels + back, bar.update)
        rows += _per_layer_rows(ev, "greedy", ks, q, f"from uniform k = {base - back}: "
                                f"{levels + back} levels, ranked by v1 bits saved per KL "
                                f"on {rank.size} calibration items, {trials} raises tried "
                                "on the calibration half", rg)
        rows += _per_layer_rows(ev, "uniform", uniform(base), q, "the largest uniform k "
                                "within budget on the calibration half", rg)
    if name == "lenet5":
        base = max((k for k in rg.k if ev.loss(uniform(k), best_q, cal) <= sel_cal), default=0)
        with tqdm(desc=f"{name} per-layer quantiser and k (greedy)", unit="eval",
                  disable=not progress) as bar:
            ks, qs, steps = _option_greedy(ev, best_q, base, sel_cal, rg, bar.update)
        rows += _per_layer_rows(ev, "greedy, quantiser and k per layer", ks, qs,
                                f"best-first from uniform {_q(best_q)} k = {base}: each "
                                "step the (quantiser, k) of one layer of most v1 bits saved "
                                "per KL that keeps the calibration loss within budget; "
                                f"{steps} steps", rg)
    times["per-layer k"] = round(time.perf_counter() - t, 1)
    times["total"] = round(time.perf_counter() - start, 1)
    for x in rows:       # within the selection budget, on the row's own images
        x["within_selection"] = x["loss"] <= (sel_held if x["kind"] == "per-layer k" else sel)
    out = {"model": name, "items": ev.items, "note": ev.model["note"],
           "metric": ev.model["metric"], "split": ev.model["split"],
           "weights": ev.n, "layers": {n: list(w.shape) for n, w in ev.weights.items()},
           "float": {"score": ev.reference(), "calibration": ev.reference(cal),
                     "held_out": ev.reference(held)},
           "scale_bits": ev.scale_bits, "paper": PAPER, "budget": budget,
           "selection": {"relative_to_int8": relative, "int8": {
               "scope": zero["scope"], "loss": zero["loss"],
               "calibration_loss": zero["calibration_loss"], "held_loss": zero["held_loss"]},
               "all": sel, "calibration": sel_cal, "held_out": sel_held},
           "goal": GOALS.get(name), "rows": rows, "evaluated_items": ev.evaluations,
           "runtime_s": times}
    if ev.model["labels"] is None:
        out["float"]["photo_top1"] = ev.photo_top1({})
    return out


def _fmt_k(ks):
    vals = list(ks.values())
    return str(vals[0]) if len(set(vals)) == 1 else "/".join(map(str, vals))


def _uniform_k(ks):
    vals = set(ks.values())
    return vals.pop() if len(vals) == 1 else None


def best_within(rows, budget, coder="v1"):
    """The row of largest ``coder`` ratio against int8 (scales counted) within ``budget``
    (None: within the selection budget, ``within_selection``)."""
    ok = [x for x in rows if coder in x["coders"] and x.get("loss") is not None
          and (x["within_selection"] if budget is None else x["loss"] <= budget)]
    return max(ok, key=lambda x: x["coders"][coder]["ratio_int8"]) if ok else None


def _zstd_at(rows, ks, scope):
    """zstd's ratio on the same weights (the k sweep row, or the per-layer row's own)."""
    for x in rows:
        if x["k"] == ks and x["scope"] == scope and "zstd" in x["coders"]:
            return x["coders"]["zstd"]
    return None


def _goal_lines(r):
    rows, goal, budget = r["rows"], r["goal"], r["budget"]
    what = "top-1" if r["metric"] == "top-1" else "agreement with the float model"
    best = best_within(rows, budget)
    sel, pre, lim = r["selection"], [], budget
    if best is None:
        z = sel["int8"]
        pre = [f"- **Goal: >= {goal['int8']:g}x against int8 (>= {goal['fp32']:g}x against fp32) "
               f"within {budget:g} point of {what}: not met, and out of reach of this "
               f"quantisation:** int8 alone ({_q(z['scope'])} scales, k = 0) already loses "
               f"{z['loss']:.2f} points (calibration half {z['calibration_loss']:.2f}, held-out "
               f"{z['held_loss']:.2f}). The selections below keep instead within {budget:g} "
               f"point of that int8 model: loss <= {sel['all']:.2f} points on all views, "
               f"<= {sel['calibration']:.2f} on the calibration half, <= {sel['held_out']:.2f} "
               "on the held-out half."]
        best, lim = best_within(rows, None), None
    c = best["coders"]["v1"]
    z = best["coders"].get("zstd") or _zstd_at(rows, best["k"], best["scope"])
    met_ratio = c["ratio_int8"] >= goal["int8"]
    met_zstd = not goal["zstd"] or (z is not None and c["ratio_int8"] >= z["ratio_int8"])
    method = f" ({best['method']})" if "method" in best else ""
    where = (f"{_q(best['scope'])} scales, {best['kind']}{method}, k "
             f"{_plan(best['k'], best['scope'])}, G {best.get('G')}, B {best.get('B')}, "
             f"R {best.get('R')}")
    held = " on the held-out half" if best["kind"] == "per-layer k" else ""
    out = pre + [
        (f"- Best v1 point within {budget:g} point of the int8 model's {r['metric']}: " if pre
         else f"- **Goal: >= {goal['int8']:g}x against int8 (>= {goal['fp32']:g}x against fp32) "
         f"within {budget:g} point of {what}"
         + (", at or above zstd -19 at the same k" if goal["zstd"] else "") + ": "
         + ("met" if met_ratio and met_zstd else "not met") + ".** Best v1 point within "
         "budget: ") + f"{c['ratio_int8']:.2f}x against int8 with the scales "
           f"({c['ratio_int8_stream']:.2f}x without), {c['ratio_fp32']:.2f}x against fp32; "
           f"{where}; {r['metric']} {100 * best['score']:.2f} % (loss {best['loss']:.2f} "
           f"points{held})" + (f"; zstd -19 at the same k: {z['ratio_int8']:.2f}x" if z else "")
           + "."]
    v0 = best_within(rows, lim, "v0")
    if v0:
        out.append(f"- HC-P v0 at its best within {'the selection ' if pre else ''}budget: "
                   f"{v0['coders']['v0']['ratio_int8']:.2f}x "
                   f"against int8 (k {_fmt_k(v0['k'])}, {_q(v0['scope'])} scales, G = B = R = 4).")
    if not met_ratio:
        nxt = [x for x in rows if x["coders"].get("v1", {}).get("ratio_int8", 0) >= goal["int8"]
               and x.get("loss") is not None]
        if nxt:
            n = min(nxt, key=lambda x: x["loss"])
            out.append(f"- Closest point reaching {goal['int8']:g}x: "
                       f"{n['coders']['v1']['ratio_int8']:.2f}x at k {_fmt_k(n['k'])} "
                       f"({n['kind']}, {_q(n['scope'])} scales), loss {n['loss']:.2f} points.")
    return out


#: short names of the quantisers in mixed per-layer plans
ABBR = {"channel": "c", "layer": "l", "channel nearest": "cn", "layer nearest": "ln"}


def _plan(ks, scope):
    """k per layer, with each layer's quantiser when they differ (``ABBR``)."""
    if not isinstance(scope, dict):
        return _fmt_k(ks)
    return "/".join(f"{ks[n]}{ABBR[scope[n]]}" for n in ks)


def _q(scope):
    """A quantiser's name in the tables."""
    if isinstance(scope, dict):
        return "mixed per layer"
    base, *mode = scope.split()
    return f"per {base}" + (", nearest level" if mode else "")


def _ratio_cells(c):
    return f"{c['ratio_int8']:.2f} ({c['ratio_int8_stream']:.2f}) | {c['ratio_fp32']:.2f}"


def render_markdown(r):
    if "budget" not in r:
        return _render_ratios(r)
    pct = lambda v: f"{100 * v:.2f}"  # noqa: E731
    rows, agree = r["rows"], r["metric"] == "agreement"
    fl = r["float"]
    out = [f"## HC-P dictionary compression: {r['model']}", "",
           f"{r['weights']:,} weights in {len(r['layers'])} conv / dense layers; {r['metric']} "
           f"on {r['note']}"
           + (f" (float model: 100 %; its top-1 on the {r['items'] // len(nets.TEN_CROP)} "
              f"centre crops against their labels {pct(fl['photo_top1'])} %)" if agree else
              f" (float model {pct(fl['score'])} %)")
           + f". Loss budget {r['budget']:g} point. Ratios against int8 count every stream bit "
           f"(header, lane code table, dictionary, codes, padding) plus the scales beside the "
           f"stream: {SCOPES['channel']} bits (fp16) per output channel "
           f"({r['scale_bits']['channel']:,} bits in all) or {SCOPES['layer']} bits per layer "
           f"({r['scale_bits']['layer']:,}); in brackets without the scales. zstd -19 runs on "
           "the same trimmed int8 weights in load order, one frame per layer, and is charged the "
           "same scales. Order-0 entropy: the trimmed weights' entropy, one weight at a time per "
           "layer (the least any code without context spends; no tables), with the same scales.",
           "", "### Goals", ""]
    out += _goal_lines(r)
    out += ["", "### k sweep (G = B = R = 4)", "",
            f"| scales | k | v1 vs int8 (no scales) | v1 vs fp32 | v0 vs int8 | zstd -19 vs int8 "
            f"| order-0 entropy | {r['metric']} | loss (points) | held-out loss |"
            + (" 20-photo top-1 |" if agree else ""),
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if agree else "")]
    for x in rows:
        if x["kind"] == "k sweep":
            c = x["coders"]
            h = f"{c['entropy']['ratio_int8']:.2f}" if "entropy" in c else ""
            out.append(f"| {_q(x['scope'])} | {_fmt_k(x['k'])} | {_ratio_cells(c['v1'])} | "
                       f"{c['v0']['ratio_int8']:.2f} | {c['zstd']['ratio_int8']:.2f} | {h} | "
                       f"{pct(x['score'])} | {x['loss']:.2f} | {x['held_loss']:.2f} |"
                       + (f" {pct(x['photo_top1'])} |" if agree else ""))
    cross = [x for x in rows if x["kind"] == "G x B x R"]
    out += ["", "### G x B x R at v1: the best per quantiser and k, overall and at G = 4 "
            "(every configuration in the JSON)", "",
            "| scales | k | best G/B/R | v1 vs int8 (no scales) | v1 vs fp32 | best B/R at G = 4 "
            f"| v1 vs int8 at G = 4 | {r['metric']} |", "|---|---:|---|---:|---:|---|---:|---:|"]
    ratio = lambda x: x["coders"]["v1"]["ratio_int8"]  # noqa: E731
    for q, k in sorted({(x["scope"], _uniform_k(x["k"])) for x in cross},
                       key=lambda qk: (QUANTISERS.index(qk[0]), qk[1])):
        at = [x for x in cross if x["scope"] == q and _uniform_k(x["k"]) == k]
        b = max(at, key=ratio)
        b4 = max((x for x in at if x["G"] == 4), key=ratio)
        out.append(f"| {_q(q)} | {k} | {b['G']}/{b['B']}/{b['R']} | "
                   f"{_ratio_cells(b['coders']['v1'])} | {b4['B']}/{b4['R']} | "
                   f"{ratio(b4):.2f} | {pct(b['score'])} |")
    out += ["", f"### Per-layer k, chosen on the calibration half, {r['metric']} on the "
            f"held-out half ({r['split']}); per-layer best B and R at G = 4 (LeNet-5: also at "
            "the best G), v1", "",
            f"| scales | method | k per layer | G | v1 vs int8 (no scales) | v1 vs fp32 | zstd vs "
            f"int8 | calibration loss | held-out {r['metric']} | held-out loss |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for x in rows:
        if x["kind"] == "per-layer k":
            c = x["coders"]
            out.append(f"| {_q(x['scope'])} | {x['method']} | {_plan(x['k'], x['scope'])} | "
                       f"{x['G']} | "
                       f"{_ratio_cells(c['v1'])} | {c['zstd']['ratio_int8']:.2f} | "
                       f"{x['calibration_loss']:.2f} | {pct(x['score'])} | {x['loss']:.2f} |")
    out += [""] + [f"- {x['method']} ({_q(x['scope'])}): {x['note']}." for x in rows
                   if x["kind"] == "per-layer k"]
    if r["selection"]["relative_to_int8"]:
        out.append(f"- Selection budget: within {r['budget']:g} point of the int8 model (k = 0, "
                   f"{_q(r['selection']['int8']['scope'])} scales), which alone loses "
                   f"{r['selection']['int8']['loss']:.2f} points: calibration loss <= "
                   f"{r['selection']['calibration']:.2f}.")
    if any(isinstance(x["scope"], dict) for x in rows):
        out.append("- Mixed plans give each layer's k and quantiser: "
                   + ", ".join(f"{v} {_q(k)}" for k, v in ABBR.items()) + ".")
    top = max((x for x in rows if "v1" in x["coders"]),
              key=lambda x: x["coders"]["v1"]["ratio_int8"])
    t = r["runtime_s"]
    out += ["", f"Largest v1 ratio at any {r['metric']}: {top['coders']['v1']['ratio_fp32']:.1f}x "
            f"against fp32 ({top['coders']['v1']['ratio_int8']:.2f}x against int8) at "
            f"{pct(top['score'])} %. The paper reports up to {PAPER['ratio']:g}x "
            f"({100 * PAPER['saving']:.2f} % saving) on large DNNs.", "",
            f"Runtime {t['total']:.0f} s (" + ", ".join(f"{k} {v:.0f} s" for k, v in t.items()
                                                          if k != "total")
            + f"); {r['evaluated_items']:,} item forward passes."]
    return "\n".join(out)


def _render_ratios(r):
    out = [f"## HC-P dictionary compression: {r['model']} (ratios only)", "",
           f"{r['weights']:,} weights in {len(r['layers'])} layers ({r['source']}; batch norm "
           "already folded into the convolutions). Ratios against int8 count every stream bit "
           f"plus the scales ({SCOPES['channel']} bits per output channel, "
           f"{r['scale_bits']['channel']:,} bits; or {SCOPES['layer']} bits per layer); in "
           "brackets without them. G = B = R = 4 unless stated.", "",
           "| scales | k | v1 vs int8 (no scales) | v1 vs fp32 | v1, per-layer best B, R | "
           "v0 vs int8 | zstd -19 vs int8 | order-0 entropy |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for x in r["rows"]:
        if x["kind"] != "k sweep":
            continue
        c = x["coders"]
        best = next((y["coders"]["v1"]["ratio_int8"] for y in r["rows"]
                     if y["kind"] == "per-layer B, R" and y["k"] == x["k"]
                     and y["scope"] == x["scope"]), None)
        out.append(f"| {_q(x['scope'])} | {_fmt_k(x['k'])} | {_ratio_cells(c['v1'])} | "
                   + (f"{best:.2f}" if best else "") + f" | {c['v0']['ratio_int8']:.2f} | "
                   f"{c['zstd']['ratio_int8']:.2f} | {c['entropy']['ratio_int8']:.2f} |")
    out += ["", f"Runtime {r['runtime_s']['total']:.0f} s."]
    return "\n".join(out)


def plot(r, out):
    """Two panels, the whole range and the top near the float model, one legend below."""
    plt = reports.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 6.2))
    rows = r["rows"]
    cross = [x for x in rows if x["kind"] == "G x B x R"]
    per = [x for x in rows if x["kind"] == "per-layer k"]
    ref = 100 * r["float"]["score"]
    floor = ref - (r["selection"]["all"] if r["selection"]["relative_to_int8"] else r["budget"])
    for ax in axes:
        ax.plot([x["coders"]["v1"]["ratio_int8"] for x in cross],
                [100 * x["score"] for x in cross], marker=".", ls="none", alpha=0.3,
                label="v1, every G x B x R")
        for scope, coder, style in (("channel", "v1", {"marker": "o", "ls": "-"}),
                                    ("channel", "v0", {"marker": "^", "ls": "-"}),
                                    ("channel", "zstd", {"marker": "s", "ls": "--"}),
                                    ("layer", "v1", {"marker": "o", "ls": ":", "mfc": "none"}),
                                    ("layer", "zstd", {"marker": "s", "ls": ":", "mfc": "none"}),
                                    ("channel nearest", "v1", {"marker": "D", "ls": "-"}),
                                    ("layer nearest", "v1", {"marker": "D", "ls": ":",
                                                             "mfc": "none"})):
            xs = [x for x in rows if x["kind"] == "k sweep" and x["scope"] == scope]
            if xs:
                ax.plot([x["coders"][coder]["ratio_int8"] for x in xs],
                        [100 * x["score"] for x in xs], label=f"{coder} k sweep ({_q(scope)})",
                        **style)
        ax.plot([x["coders"]["v1"]["ratio_int8"] for x in per], [100 * x["score"] for x in per],
                marker="*", ms=12, ls="none", color="black",
                label=f"v1 per-layer k (held-out half: float {100 * r['float']['held_out']:.2f} %)")
        ax.axhline(ref - r["budget"], color="gray", lw=0.8, ls=":",
                   label=f"float - {r['budget']:g} point")
        if r["selection"]["relative_to_int8"]:
            ax.axhline(floor, color="gray", lw=0.8, ls="--",
                       label=f"int8 (k = 0) - {r['budget']:g} point")
        ax.axvline(r["goal"]["int8"], color="red", lw=0.8, ls="-.", label="goal")
        ax.set_xscale("log")
        ax.set_xlabel("compression against int8 (stream bits and scales)")
        ax.set_ylabel(f"{r['metric']} (%)")
    xs = [x for x in rows if x["kind"] == "k sweep" and x["scope"] == "channel"]
    for x in xs:
        axes[0].annotate(f"k={_fmt_k(x['k'])}", (x["coders"]["v1"]["ratio_int8"],
                                                 100 * x["score"]), fontsize=7,
                         xytext=(3, -9), textcoords="offset points")
    near = [x for x in rows if "v1" in x["coders"] and 100 * x["score"] >= floor - 3]
    axes[1].set_ylim(floor - 3, ref + 1)
    axes[1].set_xlim(0.9 * min(x["coders"]["v1"]["ratio_int8"] for x in near),
                     1.1 * max(max(x["coders"]["v1"]["ratio_int8"] for x in near),
                               r["goal"]["int8"]))
    axes[0].set_title("all points", fontsize=9)
    axes[1].set_title(f"near the float model (within {ref - floor + 3:g} points)", fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=7)
    fig.suptitle(f"{r['model']}: {r['metric']} vs compression ({r['note']})", fontsize=10)
    fig.tight_layout(rect=(0, 0.14, 1, 0.97))
    fig.savefig(out / f"dict_{r['model']}.png", dpi=120)
    plt.close(fig)


def _plot_ratios(r, out):
    plt = reports.pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for scope, coder, style in (("channel", "v1", "o-"), ("channel", "v0", "^-"),
                                ("channel", "zstd", "s--"), ("layer", "v1", "o:"),
                                ("channel nearest", "v1", "D-")):
        xs = [x for x in r["rows"] if x["kind"] == "k sweep" and x["scope"] == scope]
        ax.plot([_uniform_k(x["k"]) for x in xs], [x["coders"][coder]["ratio_int8"] for x in xs],
                style, label=f"{coder} ({_q(scope)})")
    ax.set_yscale("log")
    ax.set_xlabel("k (trimmed LSBs)")
    ax.set_ylabel("compression against int8 (scales counted)")
    ax.set_title(f"{r['model']}: ratios only", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / f"dict_{r['model']}.png", dpi=120)
    plt.close(fig)


def main(name, images=None, out=None, progress=True, **kwargs):
    torch = nets.require("torch", "torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)          # one core: the machine is shared
    try:
        r = collect(name, images, progress, **kwargs)
    finally:
        torch.set_num_threads(threads)
    return reports.write(r, f"dict_{name}", render_markdown(r),
                         _plot_ratios if name == "resnet50" else plot, out)
