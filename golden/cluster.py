"""Weight clustering for iterative inference (CRANIA-style,
``../shared/spec/cluster-index-cache.md`` section 1).

Per layer, 1-D k-means of the weights into ``K`` clusters (centroids initialised linearly over
[min, max], Lloyd iterations to convergence); clusters are ranked by |centroid| descending and
renumbered so cluster index (cidx) 0 is the most important; the ranked clusters are split into
``G`` importance groups of consecutive ranks, balanced by weight count. Iteration ``k`` of the
iterative inference uses the weights of groups 0..k-1 (the others count as zero).
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["ClusteredLayer", "kmeans_1d", "cluster_layer", "masked", "stop_iteration"]


@dataclass
class ClusteredLayer:
    """One layer: ``centroids`` (K,) ranked by importance, ``cidx`` (weight shape) and
    ``group_of`` (K,): the importance group of every cluster."""
    centroids: np.ndarray
    cidx: np.ndarray
    group_of: np.ndarray
    groups: int

    def group(self):
        """The importance group of every weight (weight shape)."""
        return self.group_of[self.cidx]


def kmeans_1d(w, k, iterations=100):
    """``(centroids (k,), labels)``: Lloyd's k-means on 1-D data, centroids initialised at
    ``linspace(min, max, k)``; an empty cluster keeps its centroid. Deterministic."""
    x = np.sort(np.asarray(w, dtype=np.float64).reshape(-1))
    c = np.linspace(x[0], x[-1], k)
    for _ in range(iterations):
        # sorted data: cluster boundaries are the midpoints between centroids
        cuts = np.searchsorted(x, (c[1:] + c[:-1]) / 2)
        sums = np.add.reduceat(np.r_[x, 0.0], np.r_[0, cuts])[:k]
        counts = np.diff(np.r_[0, cuts, x.size])
        new = np.where(counts > 0, sums / np.maximum(counts, 1), c)
        if np.allclose(new, c, rtol=0, atol=1e-12):
            break
        c = new
    labels = np.clip(np.searchsorted((c[1:] + c[:-1]) / 2, np.asarray(w, np.float64)
                                     .reshape(-1)), 0, k - 1)
    return c, labels


def cluster_layer(w, k=15, groups=4):
    """Cluster, rank and group one layer's weights ``w`` (see the module docstring)."""
    if not 1 <= groups <= k:
        raise ValueError(f"groups must be in 1..K={k}, not {groups}")
    c, labels = kmeans_1d(w, k)
    order = np.lexsort((np.arange(k), -np.abs(c)))        # |centroid| descending, stable
    rank = np.empty(k, np.int64)
    rank[order] = np.arange(k)
    cidx = rank[labels].reshape(np.shape(w))
    counts = np.bincount(cidx.reshape(-1), minlength=k)
    # consecutive ranks, cut where the running count crosses each 1/G of the weights
    cum = np.cumsum(counts) - counts / 2
    group_of = np.minimum((cum * groups / counts.sum()).astype(np.int64), groups - 1)
    group_of = np.maximum.accumulate(group_of)
    return ClusteredLayer(c[order].astype(np.float32), cidx.astype(np.int64), group_of, groups)


def masked(layer, active):
    """The layer's weights with groups ``0..active-1`` (centroid values) and zeros elsewhere."""
    values = layer.centroids[layer.cidx]
    return np.where(layer.group() < active, values, np.float32(0)).astype(np.float32)


def stop_iteration(logits_per_round, tau=0.9, rule="softmax"):
    """Per input, the round (1-based) at which iterative inference stops: the first whose top-1
    softmax probability is >= ``tau`` (``rule="margin"``: top-1 minus top-2 logit >= tau), or
    the last round. ``logits_per_round``: (rounds, inputs, classes)."""
    z = np.asarray(logits_per_round, dtype=np.float64)
    if rule == "softmax":
        p = np.exp(z - z.max(axis=2, keepdims=True))
        score = (p / p.sum(axis=2, keepdims=True)).max(axis=2)
    elif rule == "margin":
        top2 = np.sort(z, axis=2)[:, :, -2:]
        score = top2[:, :, 1] - top2[:, :, 0]
    else:
        raise ValueError(f"rule must be softmax or margin, not {rule!r}")
    done = score >= tau
    done[-1] = True
    return done.argmax(axis=0) + 1
