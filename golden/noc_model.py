"""Analytic latency / energy model of a CNN on a mesh NoC accelerator, weights from DRAM.

In the spirit of the estimator the NoC-compression authors used (spec
``noc-weight-compression.md`` section 4; Palesi's ``nocnn``): a W x H mesh with XY routing, memory
interfaces (MIs) at some nodes (the four corners by default) and a PE at every other node, each PE
served by its closest MI. Layer after layer, with no overlap between phases:

1. **input feature map**: the first layer's is read from DRAM once and sent from the MIs to every
   active PE; later layers get theirs from the previous layer's active PEs over the NoC (PE to PE,
   all to all), or partly from DRAM when a PE's output did not fit its local memory;
2. **weights**: the layer's (compressed) weight bytes are read from DRAM and split evenly over
   its active PEs (one filter / neuron per PE, at most one PE each), each PE's share sent from
   its MI;
3. **compute**: the PE's MACs (pooling operations) at ``macs_per_cycle``;
4. **output**: what exceeds a PE's local memory is written back to DRAM.

Latency of a layer = NoC time + DRAM time + compute time. NoC time of a phase is its slowest
flow: hops x router latency + the flow's bytes over its bottleneck link, where every flow through
a link gets a share of the link's bandwidth proportional to its bytes (so a flow takes
``max link load on its path / link bytes per cycle``). DRAM time = bytes / DRAM bytes per cycle.
Energy = DRAM bits x pJ/bit + link and router bits per hop + local-memory bits (weights and
feature maps written, two operand reads per MAC) + MAC / pool energy + leakage power x time
(DRAM, local memories of the active PEs, a router and four links per node).

Compression divides the weight bytes read from DRAM and sent from the MIs to the PEs (the
decoder sits at the PE's network interface); nothing else changes. Differences from the authors'
estimator, all second order here: ties between equally close MIs go to the lowest (row, column)
instead of a random one; DRAM leakage counts the whole layer time; unicast only.
"""

import functools
import math
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

__all__ = ["DEFAULT_CONFIG", "NoCConfig", "load_config", "Layer", "lenet5_layers", "Mesh",
           "estimate", "reduction"]

DEFAULT_CONFIG = Path(__file__).with_name("noc_config.toml")

#: largest mesh side: a 256 x 256 mesh takes the LeNet-5 estimate about 2 s and 120 MB (memory
#: and time grow with the nodes and the route lengths)
MAX_MESH = 256

#: TOML (section, key) -> NoCConfig field
_KEYS = {
    (None, "clock_hz"): "clock_hz", (None, "mesh"): "mesh",
    (None, "memory_interfaces"): "memory_interfaces", (None, "weight_bits"): "weight_bits",
    (None, "fm_bits"): "fm_bits",
    ("dram", "bytes_per_cycle"): "dram_bytes_per_cycle",
    ("dram", "energy_per_bit"): "dram_energy_per_bit", ("dram", "leakage"): "dram_leakage",
    ("router", "latency"): "router_latency", ("router", "energy_per_bit"): "router_energy_per_bit",
    ("router", "leakage"): "router_leakage",
    ("link", "width"): "link_width", ("link", "energy_per_bit"): "link_energy_per_bit",
    ("link", "leakage"): "link_leakage",
    ("local_memory", "bytes"): "lmem_bytes",
    ("local_memory", "energy_per_bit"): "lmem_energy_per_bit",
    ("local_memory", "leakage"): "lmem_leakage",
    ("pe", "macs_per_cycle"): "macs_per_cycle", ("pe", "pools_per_cycle"): "pools_per_cycle",
    ("pe", "energy_per_mac"): "energy_per_mac", ("pe", "energy_per_pool"): "energy_per_pool",
}


@dataclass(frozen=True)
class NoCConfig:
    """Every parameter of the model (SI units: Hz, J, W; sizes in bits or bytes as named)."""
    clock_hz: float
    mesh: tuple
    memory_interfaces: tuple
    weight_bits: int
    fm_bits: int
    dram_bytes_per_cycle: float
    dram_energy_per_bit: float
    dram_leakage: float
    router_latency: int
    router_energy_per_bit: float
    router_leakage: float
    link_width: int
    link_energy_per_bit: float
    link_leakage: float
    lmem_bytes: int
    lmem_energy_per_bit: float
    lmem_leakage: float
    macs_per_cycle: float
    pools_per_cycle: float
    energy_per_mac: float
    energy_per_pool: float

    def __post_init__(self):
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in ("mesh", "memory_interfaces"):
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"NoC config: {f.name} must be a number, got {v!r}")
            positive = not f.name.endswith(("leakage", "energy_per_bit", "energy_per_mac",
                                            "energy_per_pool"))
            if v < 0 or (positive and v == 0):
                raise ValueError(f"NoC config: {f.name} must be {'> 0' if positive else '>= 0'}, "
                                 f"got {v}")
        if (len(self.mesh) != 2 or not all(_is_int(x) and 1 <= x <= MAX_MESH
                                             for x in self.mesh)):
            raise ValueError(f"NoC config: mesh must be [width, height], integers in "
                             f"1..{MAX_MESH}, got {list(self.mesh)}")
        width, height = self.mesh
        mis = self.memory_interfaces
        if not mis or any(len(m) != 2 or not all(_is_int(x) for x in m)
                          or not (0 <= m[0] < height and 0 <= m[1] < width) for m in mis):
            raise ValueError(f"NoC config: memory_interfaces must be a non-empty list of [row, "
                             f"column] inside the {width}x{height} mesh, got {list(mis)}")
        if len(set(mis)) >= width * height:
            raise ValueError("NoC config: no node is left for a PE")


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def load_config(path=None):
    """The defaults of :data:`DEFAULT_CONFIG`, overridden by the TOML file ``path`` if given;
    ``ValueError`` naming the file and an unknown key, a bad value or why it cannot be read
    (missing, not UTF-8, not TOML)."""
    values = _read(DEFAULT_CONFIG)
    if path is None:
        return NoCConfig(**values)
    values.update(_read(Path(path)))
    try:
        return NoCConfig(**values)
    except ValueError as e:
        raise ValueError(f"NoC config {path}: {str(e).removeprefix('NoC config: ')}") from None


def _read(path):
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ValueError(f"NoC config {path}: not UTF-8 text (byte {e.start} is "
                         f"{e.object[e.start:e.start + 1]!r}); give a TOML file") from None
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ValueError(f"NoC config {path}: {e}") from None
    out = {}
    for key, value in doc.items():
        items = value.items() if isinstance(value, dict) else [(None, value)]
        for sub, v in items:
            at = (key, sub) if sub is not None else (None, key)
            if at not in _KEYS:
                allowed = ", ".join(k if s is None else f"{s}.{k}" for s, k in _KEYS)
                raise ValueError(f"NoC config {path}: unknown key "
                                 f"{'.'.join(x for x in at if x)}; allowed: {allowed}")
            name = _KEYS[at]
            if name in ("mesh", "memory_interfaces") and not (
                    isinstance(v, list) and (name == "mesh" or all(isinstance(m, list)
                                                                   for m in v))):
                raise ValueError(f"NoC config {path}: {name} must be a list of "
                                 f"{'integers' if name == 'mesh' else '[row, column] pairs'}, "
                                 f"got {v!r}")
            out[name] = (tuple(tuple(m) for m in v) if name == "memory_interfaces"
                         else tuple(v) if name == "mesh" else v)
    return out


@dataclass(frozen=True)
class Layer:
    """One layer: ``kind`` conv | pool | fc; shapes (height, width, channels); ``kernel``
    (height, width) for conv and pool; ``weights`` the kernel's weight count (0 for pool)."""
    name: str
    kind: str
    in_shape: tuple
    out_shape: tuple
    kernel: tuple = (1, 1)
    weights: int = 0

    @property
    def tasks(self):
        """Filters (conv), neurons (fc) or channels (pool): the work split over the PEs."""
        return self.out_shape[2]

    @property
    def ops(self):
        kh, kw = self.kernel
        oh, ow, oc = self.out_shape
        if self.kind == "conv":
            return kh * kw * self.in_shape[2] * oh * ow * oc
        if self.kind == "fc":
            return math.prod(self.in_shape) * oc
        return kh * kw * oh * ow * oc


def lenet5_layers():
    """The NoC authors' LeNet-5 (the Keras model of ``../shared/data/lenet5``): 32x32x1 input,
    two 5x5 conv + 2x2 average pool stages, dense 400-120-84-10."""
    return [
        Layer("conv2d_1", "conv", (32, 32, 1), (28, 28, 6), (5, 5), 5 * 5 * 1 * 6),
        Layer("pool_1", "pool", (28, 28, 6), (14, 14, 6), (2, 2)),
        Layer("conv2d_2", "conv", (14, 14, 6), (10, 10, 16), (5, 5), 5 * 5 * 6 * 16),
        Layer("pool_2", "pool", (10, 10, 16), (5, 5, 16), (2, 2)),
        Layer("dense_1", "fc", (1, 1, 400), (1, 1, 120), weights=400 * 120),
        Layer("dense_2", "fc", (1, 1, 120), (1, 1, 84), weights=120 * 84),
        Layer("dense_3", "fc", (1, 1, 84), (1, 1, 10), weights=84 * 10),
    ]


class Mesh:
    """Nodes (row, column), the MIs, the PEs in row-major order, XY routes."""

    def __init__(self, cfg):
        width, height = cfg.mesh
        self.mis = sorted(set(cfg.memory_interfaces))
        self.nodes = [(r, c) for r in range(height) for c in range(width)]
        self.pes = [n for n in self.nodes if n not in self.mis]

    @staticmethod
    def hops(a, b):
        return abs(a[0] - b[0]) + abs(a[1] - b[1])

    def closest_mi(self, node):
        return min(self.mis, key=lambda m: (self.hops(m, node), m))

    @staticmethod
    @functools.cache
    def route(src, dst):
        """The links of the XY route: along the source row, then along the destination column."""
        path, (r, c) = [], src
        while c != dst[1]:
            step = (r, c + (1 if dst[1] > c else -1))
            path.append(((r, c), step))
            c = step[1]
        while r != dst[0]:
            step = (r + (1 if dst[0] > r else -1), c)
            path.append(((r, c), step))
            r = step[0]
        return tuple(path)


@functools.lru_cache(maxsize=1024)
def _flows(cfg, flows):
    """NoC time (cycles) and energy (J) of concurrent ``flows`` ((src, dst, bytes), ...);
    cached: sweeps repeat the same feature-map phases with every compression ratio."""
    mesh, load, paths = Mesh(cfg), {}, []
    for src, dst, nbytes in flows:
        path = mesh.route(src, dst)
        paths.append((path, nbytes))
        for link in path:
            load[link] = load.get(link, 0) + nbytes
    link_bytes = cfg.link_width / 8
    time = max((len(p) * cfg.router_latency + max(load[x] for x in p) / link_bytes
                for p, b in paths if b > 0 and p), default=0.0)
    energy = sum(load.values()) * 8 * (cfg.link_energy_per_bit + cfg.router_energy_per_bit)
    return time, energy


class _Tally:
    """Time, energy, DRAM bytes and NoC byte-hops of one layer's phases."""

    def __init__(self, mesh, cfg):
        self.mesh, self.cfg = mesh, cfg
        self.time = {"noc": 0.0, "dram": 0.0, "compute": 0.0}
        self.energy = {"dram": 0.0, "noc": 0.0, "local_memory": 0.0, "compute": 0.0,
                       "leakage": 0.0}
        self.dram_bytes = self.byte_hops = 0.0

    def phase(self, flows, dram=0.0):
        """Concurrent NoC ``flows`` [(src, dst, bytes)] after reading ``dram`` bytes; returns
        the phase's byte-hops. Received bytes are written into the PEs' local memories."""
        cfg = self.cfg
        hops = sum(b * self.mesh.hops(s, d) for s, d, b in flows)
        time, energy = _flows(cfg, tuple(flows))
        self.time["noc"] += time
        self.time["dram"] += dram / cfg.dram_bytes_per_cycle
        self.energy["noc"] += energy
        self.energy["dram"] += dram * 8 * cfg.dram_energy_per_bit
        self.energy["local_memory"] += sum(b for *_, b in flows) * 8 * cfg.lmem_energy_per_bit
        self.dram_bytes += dram
        self.byte_hops += hops
        return hops


def _crs(layers, cr):
    weighted = [x.name for x in layers if x.weights]
    if cr is None:
        return {}
    if not isinstance(cr, dict):
        cr = list(cr)
        if len(cr) != len(weighted):
            raise ValueError(f"{len(cr)} compression ratios for {len(weighted)} weight layers "
                             f"({', '.join(weighted)})")
        cr = dict(zip(weighted, cr))
    for name, v in cr.items():
        if name not in weighted:
            raise ValueError(f"no weight layer {name!r}; weight layers: {', '.join(weighted)}")
        if not v > 0:
            raise ValueError(f"compression ratio of {name} must be > 0, got {v}")
    return cr


def estimate(layers, cr=None, cfg=None):
    """Latency (cycles) and energy (J) per layer and in total.

    ``cr``: the weight compression ratio of each weight layer, a list in layer order or a dict
    by name (missing = 1); ``None`` = uncompressed. Returns ``{"layers": [...], "latency":
    cycles, "energy": J, "seconds", "dram_bytes", "weight_dram_bytes", "noc_byte_hops",
    "weight_noc_byte_hops"}``; each layer row splits latency into ``noc`` / ``dram`` /
    ``compute`` and energy into ``dram`` / ``noc`` / ``local_memory`` / ``compute`` /
    ``leakage``. A PE's output beyond its local memory goes to DRAM and is read back once for
    the next layer.
    """
    cfg = cfg or load_config()
    crs = _crs(layers, cr)
    mesh = Mesh(cfg)
    rows, prev = [], None
    fm_bytes = cfg.fm_bits / 8
    for layer in layers:
        active = mesh.pes[:min(layer.tasks, len(mesh.pes))]
        n = len(active)
        tally = _Tally(mesh, cfg)
        t, e, phase = tally.time, tally.energy, tally.phase
        weight_hops = weight_bytes = 0.0
        ifm = math.prod(layer.in_shape) * fm_bytes
        if prev is None:                       # the network's input: DRAM once, to every PE
            phase([(mesh.closest_mi(d), d, ifm) for d in active], dram=ifm)
        else:                                  # the previous layer's outputs, all to all
            src, per_core = prev
            spill = max(0.0, per_core - cfg.lmem_bytes)
            kept = per_core - spill
            phase([(s, d, kept) for s in src for d in active if s != d]
                  + [(mesh.closest_mi(d), d, spill * len(src)) for d in active if spill],
                  dram=spill * len(src))
        if layer.weights:
            total = layer.weights * cfg.weight_bits / 8 / crs.get(layer.name, 1.0)
            weight_bytes = total
            weight_hops = phase([(mesh.closest_mi(d), d, total / n) for d in active], dram=total)
        rate, per_op = ((cfg.pools_per_cycle, cfg.energy_per_pool) if layer.kind == "pool"
                        else (cfg.macs_per_cycle, cfg.energy_per_mac))
        t["compute"] = math.ceil(layer.ops / n) / rate
        e["compute"] = layer.ops * per_op
        operand_bits = cfg.fm_bits + (0 if layer.kind == "pool" else cfg.weight_bits)
        e["local_memory"] += layer.ops * operand_bits * cfg.lmem_energy_per_bit
        per_core_out = math.prod(layer.out_shape) * fm_bytes / n
        out_spill = max(0.0, per_core_out - cfg.lmem_bytes)
        if out_spill:
            phase([(d, mesh.closest_mi(d), out_spill) for d in active], dram=out_spill * n)
        prev = (active, per_core_out)
        cycles = sum(t.values())
        seconds = cycles / cfg.clock_hz
        e["leakage"] = seconds * (cfg.dram_leakage + n * cfg.lmem_leakage
                                  + len(mesh.nodes) * (cfg.router_leakage + 4 * cfg.link_leakage))
        rows.append({"layer": layer.name, "kind": layer.kind, "active_pes": n,
                     "latency": {**t, "total": cycles}, "energy": {**e, "total": sum(e.values())},
                     "dram_bytes": tally.dram_bytes, "weight_dram_bytes": weight_bytes,
                     "noc_byte_hops": tally.byte_hops, "weight_noc_byte_hops": weight_hops})
    latency = sum(r["latency"]["total"] for r in rows)
    return {"layers": rows, "latency": latency, "seconds": latency / cfg.clock_hz,
            "energy": sum(r["energy"]["total"] for r in rows),
            "dram_bytes": sum(r["dram_bytes"] for r in rows),
            "weight_dram_bytes": sum(r["weight_dram_bytes"] for r in rows),
            "noc_byte_hops": sum(r["noc_byte_hops"] for r in rows),
            "weight_noc_byte_hops": sum(r["weight_noc_byte_hops"] for r in rows)}


def reduction(layers, cr, cfg=None):
    """(latency reduction, energy reduction), fractions, of weights compressed by ``cr``
    against the same network uncompressed."""
    base, comp = estimate(layers, None, cfg), estimate(layers, cr, cfg)
    return 1 - comp["latency"] / base["latency"], 1 - comp["energy"] / base["energy"]
