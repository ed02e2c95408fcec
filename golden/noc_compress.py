"""Lossy trend-run weight compression (Ascia et al., IPDPSW 2020), float model, exactly as
recovered in ``../shared/spec/noc-weight-compression.md`` sections 1-2.

A kernel is read in its stored C order and cut greedily into runs: a run starting at ``i`` takes
the sign ``t`` of its first step (always accepted) and extends to ``j`` while
``sign(w[j] - w[j-1]) == t`` or ``|w[j] - w[j-1]| <= delta``. Runs of 3 or more are replaced by
their least-squares line over the local index (float64, stored as float32); runs of 1 or 2 stay
exact. ``delta`` is ``P / 100 * (max - min)`` of the layer, or given absolutely.
"""

import numpy as np

__all__ = ["METHODS", "ORDERS", "reorder", "restore", "layer_delta", "segment", "segment_fit",
           "fit_lines", "runs", "compress"]

#: ``step``: the authors' rule (delta bounds step reversals); ``fit``: our variant (delta bounds
#: the error of the fitted line itself)
METHODS = ("step", "fit")

#: how a kernel is read into the 1-D sequence: ``stored`` = C order of the stored kernel (the
#: authors'; output channel / neuron fastest); ``filter`` = filter-major (output channel slowest:
#: each filter or neuron contiguous, the order in which one PE receives its weights)
ORDERS = ("stored", "filter")


def reorder(w, order="stored"):
    """The 1-D sequence of kernel ``w`` in ``order`` (see :data:`ORDERS`)."""
    w = np.asarray(w)
    if order == "stored":
        return w.reshape(-1)
    if order == "filter":
        return np.moveaxis(w, -1, 0).reshape(-1)
    raise ValueError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")


def restore(seq, shape, order="stored"):
    """Inverse of :func:`reorder`: the kernel of ``shape`` from its sequence ``seq``."""
    seq = np.asarray(seq)
    if order == "stored":
        return seq.reshape(shape)
    if order == "filter":
        return np.moveaxis(seq.reshape((shape[-1], *shape[:-1])), 0, -1)
    raise ValueError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")


def layer_delta(w, percent=None, delta=None):
    """The tolerance of a layer: ``percent`` of its weight range, or the absolute ``delta``."""
    if (percent is None) == (delta is None):
        raise ValueError("give exactly one of percent (P, % of the layer range) or delta")
    if delta is not None:
        if delta < 0:
            raise ValueError(f"delta must be >= 0, not {delta}")
        return float(delta)
    if percent < 0:
        raise ValueError(f"P must be >= 0, not {percent}")
    w = np.asarray(w, dtype=np.float64)
    return percent / 100 * float(w.max() - w.min())


def segment(w, delta):
    """Greedy runs of the 1-D sequence ``w``: an int array of run lengths (summing to w.size)."""
    w = np.asarray(w, dtype=np.float64).reshape(-1)
    step = np.diff(w)
    sign = np.sign(step)
    small = np.abs(step) <= delta
    lengths, i, n = [], 0, w.size
    while i < n:
        if i == n - 1:
            lengths.append(1)
            break
        t, j = sign[i], i + 2                   # the first step is always accepted
        while j < n and (sign[j - 1] == t or small[j - 1]):
            j += 1
        lengths.append(j - i)
        i = j
    return np.array(lengths, dtype=np.int64)


def segment_fit(w, delta, max_run=63):
    """Our variant: greedy runs whose least-squares line stays within ``delta`` of every weight
    it replaces (at most ``max_run`` long; runs of 1 or 2 are exact anyway)."""
    w = np.asarray(w, dtype=np.float64).reshape(-1)
    n = w.size
    lengths, i = [], 0
    while i < n:
        best = min(2, n - i)
        for length in range(3, min(max_run, n - i) + 1):
            seg = w[i:i + length]
            k = np.arange(length, dtype=np.float64)
            km, wm = k.mean(), seg.mean()
            a = ((k - km) * (seg - wm)).sum() / ((k - km) ** 2).sum()
            if np.abs(a * (k - km) + wm - seg).max() > delta:
                break
            best = length
        lengths.append(best)
        i += best
    return np.array(lengths, dtype=np.int64)


def fit_lines(w, lengths):
    """Per run: ``(slope, intercept)`` of the float64 least-squares line over k = 0..L-1
    (``nan`` for runs shorter than 3, which stay exact)."""
    w = np.asarray(w, dtype=np.float64).reshape(-1)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    slope = np.full(len(lengths), np.nan)
    icept = np.full(len(lengths), np.nan)
    for r in np.flatnonzero(lengths >= 3):
        seg = w[starts[r]:starts[r] + lengths[r]]
        k = np.arange(lengths[r], dtype=np.float64)
        km, wm = k.mean(), seg.mean()
        a = float(((k - km) * (seg - wm)).sum() / ((k - km) ** 2).sum())
        slope[r], icept[r] = a, wm - a * km
    return slope, icept


def runs(w, percent=None, delta=None, method="step"):
    """Run lengths of the 1-D sequence ``w`` under ``method`` (see :data:`METHODS`)."""
    flat = np.asarray(w, dtype=np.float64).reshape(-1)
    tol = layer_delta(flat, percent, delta)
    if method == "step":
        return segment(flat, tol)
    if method == "fit":
        return segment_fit(flat, tol)
    raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")


def compress(w, percent=None, delta=None, method="step"):
    """The compressed kernel (float32, same shape as ``w``) and its run lengths."""
    w = np.asarray(w)
    flat = w.astype(np.float64).reshape(-1)
    lengths = runs(flat, percent, delta, method)
    slope, icept = fit_lines(flat, lengths)
    out = flat.copy()
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    for r in np.flatnonzero(lengths >= 3):
        k = np.arange(lengths[r], dtype=np.float64)
        out[starts[r]:starts[r] + lengths[r]] = slope[r] * k + icept[r]
    return out.astype(np.float32).reshape(w.shape), lengths
