"""What the cluster-cache hardware must reproduce (``../shared/spec/cluster-index-cache.md``
section 4): the line-access trace of iterative inference with the expected outcome of every
access, and the decoded ``{position, value}`` stream of every block.

Iteration k of an input fetches, layer after layer, the blocks of groups 0..k-1 (re-fetching
what earlier iterations fetched); the cache stays warm across inputs.
"""

import numpy as np

from .cluster_blocks import decode_block
from .cluster_cache import CacheModel

__all__ = ["VALUE_FRAC", "accesses", "replay", "centroid_table", "decoded_stream"]

#: fractional bits of the 16-bit centroid values in the on-chip table
VALUE_FRAC = 12


def accesses(layout, n_layers, iterations):
    """``(line, group, layer)`` of every line access, for inputs stopping after
    ``iterations[i]`` rounds."""
    out = []
    rounds = {}
    for k in np.asarray(iterations).reshape(-1):
        k = int(k)
        if k not in rounds:
            rounds[k] = [(line, g, layer) for r in range(1, k + 1) for layer in range(n_layers)
                         for g in range(r) for line in layout.lines(layer, g)]
        out += rounds[k]
    return out


def replay(trace, sets, ways, line_bytes=16, policy="pinned"):
    """``(outcomes, counters)`` of ``trace`` on a fresh cache."""
    cache = CacheModel(sets, ways, line_bytes, policy)
    return [cache.access(line, g) for line, g, _ in trace], cache.counters


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
