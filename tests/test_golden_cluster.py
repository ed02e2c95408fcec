"""Cluster-index cache golden models: clustering, entry blocks, cache policies, trace."""

import re

import numpy as np
import pytest

from golden import cluster, cluster_blocks, cluster_trace
from golden.cluster_cache import BYPASS, HIT, MISS, CacheModel


def test_kmeans_is_deterministic_and_ranked():
    w = np.random.default_rng(0).normal(0, 1, 3000)
    a, b = cluster.cluster_layer(w), cluster.cluster_layer(w.copy())
    assert (a.cidx == b.cidx).all() and (a.centroids == b.centroids).all()
    assert (np.diff(np.abs(a.centroids)) <= 0).all()               # cidx 0 most important
    assert (np.diff(a.group_of) >= 0).all() and a.group_of[-1] == 3
    counts = np.bincount(a.group(), minlength=4)
    assert counts.min() > 3000 / 4 * 0.4                           # balanced by count
    c, labels = cluster.kmeans_1d([0, 0.1, 10, 10.1], 2)
    assert c.tolist() == pytest.approx([0.05, 10.05]) and labels.tolist() == [0, 0, 1, 1]


def test_masked_weights_and_stopping_rule():
    layer = cluster.cluster_layer(np.linspace(-1, 1, 40))
    assert (cluster.masked(layer, 0) == 0).all()
    full = cluster.masked(layer, 4)
    assert np.abs(full - np.linspace(-1, 1, 40)).max() < 0.1
    logits = np.array([[[3, 0], [0, 0.1]], [[9, 0], [0, 5]]])      # rounds x inputs x classes
    assert cluster.stop_iteration(logits, 0.9).tolist() == [1, 2]
    assert cluster.stop_iteration(logits, 2.0, "margin").tolist() == [1, 2]
    with pytest.raises(ValueError, match="rule must be softmax or margin"):
        cluster.stop_iteration(logits, 0.9, "vote")


@pytest.mark.parametrize("gap", [0, 14, 15, 16, 17, 31, 32, 33, 100])
def test_block_gaps_and_pads(gap):
    cidx = np.zeros(gap + 3, np.int64)
    cidx[0] = cidx[gap + 1] = 2
    group_of = np.array([1, 1, 0] + [1] * 12)
    block = cluster_blocks.encode_block(cidx, group_of, 0)
    e = np.frombuffer(block, np.uint8)
    assert len(block) % 16 == 0 and e[0] == 0x02
    pads = gap // 16
    assert (e[1:1 + pads] == cluster_blocks.PAD).all()
    assert e[1 + pads] == (gap % 16) << 4 | 2
    pos, ci = cluster_blocks.decode_block(block, cidx.size)
    assert pos.tolist() == [0, gap + 1] and ci.tolist() == [2, 2]


def test_block_round_trip_and_errors():
    layer = cluster.cluster_layer(np.random.default_rng(1).normal(0, 1, (5, 5, 6, 16)))
    seen = np.zeros(layer.cidx.size, bool)
    for g in range(4):
        pos, ci = cluster_blocks.decode_block(
            cluster_blocks.encode_block(layer.cidx, layer.group_of, g), layer.cidx.size)
        assert (ci == layer.cidx.reshape(-1)[pos]).all() and not seen[pos].any()
        seen[pos] = True
    assert seen.all()
    with pytest.raises(ValueError, match=re.escape("cidx must be below 15 (15 is PAD)")):
        cluster_blocks.encode_block(np.array([15]), np.zeros(16, int), 0)
    with pytest.raises(ValueError, match="past the layer's 3 weights"):
        cluster_blocks.decode_block(bytes([0x30]), 3)


def test_policies_on_a_hand_made_trace():
    # one set, two ways; lines 0 and 1 of group 0, line 2 of group 3, line 3 of group 1
    trace = [(0, 0), (2, 3), (1, 0), (3, 1), (0, 0), (2, 3), (3, 1)]
    want = {"pinned": [MISS, MISS, MISS, BYPASS, HIT, BYPASS, BYPASS],
            "lru": [MISS, MISS, MISS, MISS, MISS, MISS, MISS],
            "least-important": [MISS, MISS, MISS, MISS, MISS, MISS, MISS]}
    for policy, outcomes in want.items():
        c = CacheModel(1, 2, 16, policy)
        assert [c.access(a, g) for a, g in trace] == outcomes, policy
    c = CacheModel(1, 2, 16, "least-important")
    assert [c.access(a, g) for a, g in [(0, 0), (1, 2), (2, 1), (1, 2)]] == [MISS, MISS, MISS,
                                                                             MISS]
    c = CacheModel(1, 2, 16, "lru")
    assert [c.access(a, g) for a, g in [(0, 0), (1, 0), (0, 0), (2, 0), (0, 0)]] == \
        [MISS, MISS, HIT, MISS, HIT]                                   # 1 was least recent
    assert c.counters.memory_bytes == 3 * 16
    c.flush()
    assert c.access(0, 0) == MISS
    with pytest.raises(ValueError, match="policy must be one of pinned, lru, least-important"):
        CacheModel(1, 2, 16, "fifo")
    with pytest.raises(ValueError, match="sets must be a power of two"):
        CacheModel(3, 2)


def test_trace_refetches_earlier_groups():
    layers = [cluster.cluster_layer(np.random.default_rng(2).normal(0, 1, 300))]
    lay = cluster_blocks.layout(layers)
    trace = cluster_trace.accesses(lay, 1, [2])
    groups = [g for _, g, _ in trace]
    n0 = len(lay.lines(0, 0))
    assert groups[:n0] == [0] * n0 and groups[n0:2 * n0] == [0] * n0   # round 2 re-fetches 0
    outcomes, counters = cluster_trace.replay(trace, 64, 4)
    assert outcomes[n0:2 * n0] == [HIT] * n0 and counters.hits == n0


def _two_layers():
    rng = np.random.default_rng(3)
    layers = [cluster.cluster_layer(rng.normal(0, 1, n)) for n in (900, 1200)]
    return layers, cluster_blocks.layout(layers)


def _tile_hits(lay, n_layers, iterations, batch, tile, partial_sums):
    """Closed form of the batch tile schedule on a cache holding one tile: in every tile, the
    first input still running misses and the others hit."""
    hits = 0
    for start in range(0, len(iterations), batch):
        ks = iterations[start:start + batch]
        for r in range(1, max(ks) + 1):
            running = sum(k >= r for k in ks)
            for layer in range(n_layers):
                n = sum(len(lay.lines(layer, g))
                        for g in cluster_trace.round_groups(r, partial_sums))
                assert n >= tile        # no tile's lines survive to a later tile
                hits += (running - 1) * n
    return hits


@pytest.mark.parametrize("partial_sums", [False, True])
def test_batch_tile_schedule_hits_in_closed_form(partial_sums):
    from collections import Counter

    layers, lay = _two_layers()
    iterations = [1, 4, 2, 3, 4, 2, 1, 3]
    per_input = cluster_trace.accesses(lay, 2, iterations, partial_sums=partial_sums)
    for batch, tile in [(3, 4), (8, 4), (1, 4), (5, 8)]:
        trace = cluster_trace.accesses(lay, 2, iterations, batch=batch, tile_lines=tile,
                                       partial_sums=partial_sums)
        assert Counter(trace) == Counter(per_input)     # the same accesses, reordered
        ways = 4
        _, c = cluster_trace.replay(trace, tile // ways, ways, policy="lru")
        assert c.hits == _tile_hits(lay, 2, iterations, batch, tile, partial_sums)
        assert c.hits + c.misses == len(trace) and c.bypasses == 0
    lines = [len(lay.lines(layer, g)) for layer in range(2) for g in range(4)]
    rounds = [sum(lines[4 * layer:4 * layer + r]) for r in range(1, 5) for layer in range(2)]
    assert len(cluster_trace.accesses(lay, 2, [4])) == sum(rounds)    # re-fetches 0..r-1


def test_partial_sums_fetch_each_group_once_per_input():
    from collections import Counter

    layers, lay = _two_layers()
    iterations = [2, 4, 1]
    trace = cluster_trace.accesses(lay, 2, iterations, partial_sums=True)
    want = Counter((line, g, layer) for k in iterations for layer in range(2)
                   for g in range(k) for line in lay.lines(layer, g))
    assert Counter(trace) == want and max(want.values()) == len(iterations)
    one = cluster_trace.accesses(lay, 2, [4], partial_sums=True)
    assert len(one) == len(set(one)) == len(lay.memory) // lay.line_bytes
    # round 2 fetches group 1 only, after round 1's group 0 of both layers
    n0 = len(lay.lines(0, 0)) + len(lay.lines(1, 0))
    assert {g for _, g, _ in one[:n0]} == {0} and one[n0][1] == 1
    assert list(cluster_trace.round_groups(3, True)) == [2]
    assert list(cluster_trace.round_groups(3)) == [0, 1, 2]


def test_schedule_errors():
    _, lay = _two_layers()
    with pytest.raises(ValueError, match="batch must be >= 1, not 0"):
        cluster_trace.accesses(lay, 2, [1], batch=0)
    with pytest.raises(ValueError, match="tile_lines must be >= 1, not 0"):
        cluster_trace.accesses(lay, 2, [1], batch=2, tile_lines=0)
    with pytest.raises(ValueError, match="tile_lines needs a batch"):
        cluster_trace.accesses(lay, 2, [1], tile_lines=4)


def test_compute_once_per_cluster():
    rng = np.random.default_rng(4)
    layer = cluster.cluster_layer(rng.normal(0, 1, (40, 7)))
    x = rng.normal(0, 1, 40)
    for active in range(5):
        assert cluster_trace.per_cluster_dot(x, layer, active) == pytest.approx(
            x @ cluster.masked(layer, active).astype(np.float64), abs=1e-9)
        groups = range(active)
        on = layer.group() < active
        assert cluster_trace.compute_ops(layer, groups, 3) == (3 * on.sum(),) * 2
        clusters = sum(len(set(layer.cidx[on[:, j], j])) for j in range(7))
        assert cluster_trace.compute_ops(layer, groups, 3, per_cluster=True) == \
            (3 * on.sum(), 3 * clusters)
    # the groups partition the clusters: per-round multiplies add up to all rounds'
    assert sum(cluster_trace.compute_ops(layer, [g], per_cluster=True)[1] for g in range(4)) \
        == cluster_trace.compute_ops(layer, range(4), per_cluster=True)[1]
