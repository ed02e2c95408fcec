"""NoC latency / energy model: the check against the authors' estimator, routes, config errors."""

import pytest

from golden import noc_model
from golden.noc_model import Mesh, estimate, lenet5_layers, load_config, reduction

#: the authors' estimator on LeNet-5 at a uniform CR: (latency, energy) reduction
AUTHORS = {1.5: (0.33, 0.32), 2: (0.49, 0.48), 3: (0.66, 0.65), 4: (0.74, 0.73)}


@pytest.mark.parametrize("cr", AUTHORS)
def test_uniform_cr_lands_within_a_point_of_the_authors(cr):
    lat, en = reduction(lenet5_layers(), [cr] * 5)
    assert lat == pytest.approx(AUTHORS[cr][0], abs=0.01)
    assert en == pytest.approx(AUTHORS[cr][1], abs=0.01)


def test_dram_dominates_latency_as_in_the_authors_model():
    est = estimate(lenet5_layers())
    share = sum(r["latency"]["dram"] for r in est["layers"]) / est["latency"]
    assert 0.97 <= share <= 0.99
    assert est["weight_dram_bytes"] == (150 + 2400 + 48000 + 10080 + 840) * 2


def test_compression_touches_only_weight_traffic():
    layers = lenet5_layers()
    base, half = estimate(layers), estimate(layers, {"dense_1": 2.0})
    assert half["weight_dram_bytes"] == base["weight_dram_bytes"] - 48000
    for a, b in zip(base["layers"], half["layers"]):
        if a["layer"] != "dense_1":
            assert a["latency"] == b["latency"] and a["energy"] == b["energy"]
        else:
            assert b["latency"]["dram"] == a["latency"]["dram"] / 2
            assert b["latency"]["compute"] == a["latency"]["compute"]
    assert reduction(layers, [1] * 5) == (0.0, 0.0)
    lat1, _ = reduction(layers, {"conv2d_1": 4})
    lat2, _ = reduction(layers, {"dense_1": 4})
    assert 0 < lat1 < lat2


def test_mesh_xy_routes_and_closest_interface():
    mesh = Mesh(load_config())
    assert len(mesh.pes) == 60 and mesh.mis == [(0, 0), (0, 7), (7, 0), (7, 7)]
    path = mesh.route((0, 0), (3, 2))
    assert path[0] == ((0, 0), (0, 1)) and path[1] == ((0, 1), (0, 2))   # X first
    assert path[-1] == ((2, 2), (3, 2)) and len(path) == mesh.hops((0, 0), (3, 2)) == 5
    assert mesh.route((4, 4), (4, 4)) == ()
    assert mesh.closest_mi((1, 6)) == (0, 7) and mesh.closest_mi((6, 1)) == (7, 0)
    assert mesh.closest_mi((3, 3)) == (0, 0)                 # a tie goes to the lowest node


def test_config_overrides_and_errors(tmp_path):
    f = tmp_path / "noc.toml"
    f.write_text("mesh = [4, 4]\n")
    with pytest.raises(ValueError, match=r"inside the 4x4 mesh, got \[\(0, 0\), \(0, 7\)"):
        load_config(f)                          # the default corners are off a 4x4 mesh
    f.write_text("mesh = [4, 4]\nmemory_interfaces = [[0, 0], [3, 3]]\n[dram]\n"
                 "bytes_per_cycle = 2.0\n")
    cfg = load_config(f)
    assert cfg.mesh == (4, 4) and len(Mesh(cfg).pes) == 14
    assert cfg.dram_bytes_per_cycle == 2.0 and cfg.link_width == 256
    assert estimate(lenet5_layers(), None, cfg)["latency"] < estimate(lenet5_layers())["latency"]
    for text, match in [("bogus = 1\n", "unknown key bogus"),
                        ("[dram]\nbytes_per_cycle = 0\n", "dram_bytes_per_cycle must be > 0"),
                        ("memory_interfaces = [[9, 9]]\n", "inside the 8x8 mesh"),
                        ("[link]\nwidth = 'wide'\n", "link_width must be a number"),
                        ("mesh = [8", "NoC config")]:
        f.write_text(text)
        with pytest.raises(ValueError, match=match):
            load_config(f)


def test_compression_ratio_errors():
    layers = lenet5_layers()
    with pytest.raises(ValueError, match="2 compression ratios for 5 weight layers"):
        estimate(layers, [2, 2])
    with pytest.raises(ValueError, match="no weight layer 'pool_1'"):
        estimate(layers, {"pool_1": 2})
    with pytest.raises(ValueError, match="must be > 0"):
        estimate(layers, {"dense_1": 0})


def test_default_config_is_the_spec_sample():
    cfg = load_config()
    assert (cfg.clock_hz, cfg.router_latency, cfg.link_width, cfg.lmem_bytes) == (1e9, 3, 256,
                                                                                  8192)
    assert cfg.dram_energy_per_bit == 4.59e-11 and cfg.router_leakage == 21.9e-3
    assert noc_model.DEFAULT_CONFIG.exists()
