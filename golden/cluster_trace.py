"""What the cluster-cache hardware must reproduce (``../shared/spec/cluster-index-cache.md``
section 4): the line-access trace of iterative inference with the expected outcome of every
access, and the decoded ``{position, value}`` stream of every block.

Schedules (keyword options of :func:`accesses`; the default is the per-input scheme):

- per input (``batch=None``): iteration k of an input fetches, layer after layer, the blocks of
  groups 0..k-1 (re-fetching what earlier iterations fetched); the cache stays warm across
  inputs;
- batch, layer by layer, tiled (``batch=B``, ``tile_lines=T``): the inputs in consecutive
  batches of B; for each round r, each layer, each tile of T consecutive lines of the layer's
  active lines, every input of the batch still running at round r walks the tile. With T at
  most the cache's capacity, the first input's walk fills the tile and the others hit;
- partial-sum reuse (``partial_sums=True``): round r fetches only group r-1's lines (its
  contribution is added to the sums stored in round r-1), so every group is fetched once per
  input (per batch with ``batch``).

Computing once per cluster (sum the inputs sharing a cluster, then one multiply) fetches the
same lines: it changes the arithmetic only, counted by :func:`compute_ops`.
"""

import numpy as np

from .cluster_blocks import decode_block
from .cluster_cache import CacheModel

__all__ = ["VALUE_FRAC", "round_groups", "accesses", "replay", "compute_ops",
           "per_cluster_dot", "centroid_table", "decoded_stream"]

#: fractional bits of the 16-bit centroid values in the on-chip table
VALUE_FRAC = 12


def round_groups(r, partial_sums=False):
    """The groups a layer fetches and computes at round ``r`` (1-based): 0..r-1, or only r-1
    with partial-sum reuse."""
    return range(r - 1, r) if partial_sums else range(r)


def accesses(layout, n_layers, iterations, *, batch=None, tile_lines=None, partial_sums=False):
    """``(line, group, layer)`` of every line access, for inputs stopping after
    ``iterations[i]`` rounds.

    Parameters
    ----------
    layout : golden.cluster_blocks.Layout
    n_layers : int
    iterations : array_like of int
        Rounds of every input, in input order.
    batch : int, optional
        None (default): input after input (the per-input schedule). An int >= 1: consecutive
        batches of that many inputs, layer by layer and tile by tile (see the module
        docstring).
    tile_lines : int, optional
        With ``batch``: lines per tile (at most the cache's capacity, so a tile stays
        resident while the batch walks it); None: a layer's active lines are one tile.
    partial_sums : bool
        Round r fetches only group r-1 (:func:`round_groups`).

    Raises
    ------
    ValueError
        ``batch`` or ``tile_lines`` below 1, or ``tile_lines`` without ``batch``.
    """
    ks = [int(k) for k in np.asarray(iterations).reshape(-1)]

    def active(layer, r):
        return [(line, g, layer) for g in round_groups(r, partial_sums)
                for line in layout.lines(layer, g)]

    if batch is None:
        if tile_lines is not None:
            raise ValueError(f"tile_lines needs a batch, not tile_lines={tile_lines} alone")
        rounds = {}
        out = []
        for k in ks:
            if k not in rounds:
                rounds[k] = [a for r in range(1, k + 1) for layer in range(n_layers)
                             for a in active(layer, r)]
            out += rounds[k]
        return out
    if batch < 1:
        raise ValueError(f"batch must be >= 1, not {batch}")
    if tile_lines is not None and tile_lines < 1:
        raise ValueError(f"tile_lines must be >= 1, not {tile_lines}")
    out = []
    for start in range(0, len(ks), batch):
        group = ks[start:start + batch]
        for r in range(1, max(group) + 1):
            running = sum(k >= r for k in group)
            for layer in range(n_layers):
                lines = active(layer, r)
                step = tile_lines or max(1, len(lines))
                for t in range(0, len(lines), step):
                    out += lines[t:t + step] * running
    return out


def replay(trace, sets, ways, line_bytes=16, policy="pinned"):
    """``(outcomes, counters)`` of ``trace`` on a fresh cache."""
    cache = CacheModel(sets, ways, line_bytes, policy)
    return [cache.access(line, g) for line, g, _ in trace], cache.counters


def compute_ops(layer, groups, positions=1, per_cluster=False):
    """``(adds, multiplies)`` of one input through the weights of ``groups`` of ``layer``,
    outputs on the kernel's last axis (Keras layout), every weight used at ``positions``
    output positions.

    Multiply-accumulate (default): one add and one multiply per active weight and position.
    ``per_cluster``: per output, the inputs of each cluster are summed, then each present
    cluster's sum is multiplied by its centroid and accumulated: one add per active weight
    (the bin sums and the accumulation of the products together) and one multiply per
    (output, active cluster present in its weights). Exact in exact arithmetic
    (distributivity); :func:`per_cluster_dot` computes it.
    """
    cidx = np.asarray(layer.cidx).reshape(-1, np.shape(layer.cidx)[-1])
    on = np.isin(layer.group_of[cidx], list(groups))
    adds = int(on.sum()) * positions
    if not per_cluster:
        return adds, adds
    present = np.zeros((len(layer.centroids), cidx.shape[1]), bool)
    present[cidx[on], np.nonzero(on)[1]] = True
    return adds, int(present.sum()) * positions


def per_cluster_dot(x, layer, active):
    """``x @ W`` of a dense ``layer`` (kernel ``(inputs, outputs)``) with groups
    ``0..active-1``, computed once per cluster: per output, the sum of the inputs of each
    cluster times the cluster's centroid (float64)."""
    k = np.arange(len(layer.centroids))
    bins = np.einsum("i,kio->ko", np.asarray(x, np.float64),
                     (layer.cidx[None] == k[:, None, None]).astype(np.float64))
    on = layer.group_of < active
    return layer.centroids[on].astype(np.float64) @ bins[on]


def centroid_table(layer):
    """The layer's centroids as 16-bit fixed point with :data:`VALUE_FRAC` fractional bits;
    ``ValueError`` when one does not fit."""
    q = np.round(np.asarray(layer.centroids, np.float64) * (1 << VALUE_FRAC))
    if np.abs(q).max() > 32767:
        raise ValueError(f"centroid {float(np.abs(layer.centroids).max()):.3f} does not fit "
                         f"16 bits with {VALUE_FRAC} fractional bits")
    return q.astype(np.int64)


def decoded_stream(block, layer, active):
    """``(positions, values)`` the entry decoder emits for ``block`` of ``layer`` with groups
    ``0..active-1`` active: PAD entries dropped, inactive groups masked, centroid values."""
    pos, cidx = decode_block(block, layer.cidx.size)
    keep = layer.group_of[cidx] < active
    return pos[keep], centroid_table(layer)[cidx[keep]]
