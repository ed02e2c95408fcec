"""``dnnpress``: emit cores, run the main job, compress tensors with the golden models.

Every error (unknown core or parameter, value out of range, malformed file, an output path that
cannot be written) prints one line ``dnnpress: error: ...`` saying what is wrong and what is
allowed, and exits with status 2, having written nothing: outputs are checked before the work and
written whole (:mod:`dnnpress.outputs`).
"""

import argparse
import json
import math
import os
import re
import sys
from pathlib import Path

import numpy as np

from synth import cli as synth_cli

from . import __version__, cores, outputs


class CLIError(Exception):
    """A user error: printed without a traceback, exit status 2."""


def _emit_list():
    lines = []
    for c in cores.CORES.values():
        lines.append(f"{c.name}  (module {c.module}): {c.doc}")
        for p in c.params:
            allowed = p.allowed.replace(", ", "|")
            lines.append(f"    {p.name}={p.default}  [{allowed}]  {p.doc}")
    return "\n".join(lines)


def _ports(verilog_text, module):
    """(direction, width, name) of each port of ``module`` in ``verilog_text``."""
    start = re.search(rf"^module {re.escape(module)}\(", verilog_text, re.M)
    body = verilog_text[start.end():verilog_text.index("endmodule", start.end())]
    ports = []
    for m in re.finditer(r"^\s*(input|output)\s+(?:wire\s+|reg\s+)?(\[(\d+):0\]\s+)?(\w+);",
                         body, re.M):
        ports.append((m.group(1), int(m.group(3)) + 1 if m.group(3) else 1, m.group(4)))
    return ports


def cmd_emit(args):
    if args.list:
        print(_emit_list())
        return 0
    if not args.core:
        raise CLIError("emit needs a CORE (or --list); cores: " + ", ".join(cores.CORES))
    c = cores.core(args.core)
    params = cores.resolve(c, args.set)
    out = outputs.check_folder(args.output)
    if args.fusesoc:
        from . import fusesoc

        def write(tmp):
            return fusesoc.write(c, params, tmp, args.axis)
    else:
        def write(tmp):
            return [cores.emit(c, params, tmp, args.axis)]
    paths = outputs.write_folder(out, write)
    print(f"{c.name}: wrote {', '.join(map(str, paths))} "
          f"({', '.join(f'{k}={v}' for k, v in params.items())})")
    if args.fusesoc:
        from .fusesoc import vlnv

        print(f"lint it: fusesoc --cores-root {out} run --target lint "
              f"{vlnv(cores.module(c, args.axis))}")
    return 0


def cmd_build(args):
    """The main job: every core and its AXI4-Stream top at its defaults into ``OUT/verilog``,
    and a summary."""
    out = outputs.check_folder(outputs.check_folder(args.output) / "verilog")
    outputs.write_folder(out, lambda tmp: [cores.emit(c, c.defaults(), tmp, axis)
                                           for c in cores.CORES.values()
                                           for axis in (False, True)])
    rows = []
    for c in cores.CORES.values():
        for axis in (False, True):
            module = cores.module(c, axis)
            path = out / f"{module}.v"
            text = path.read_text()
            ports = _ports(text, module)
            rows.append((c.name, module, str(path), len(ports),
                         sum(w for d, w, _ in ports if d == "input"),
                         sum(w for d, w, _ in ports if d == "output"), text.count("\n")))
    head = ("core", "module", "file", "ports", "in bits", "out bits", "lines")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    for r in [head, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)))
    print(f"{len(cores.CORES)} core(s) and their AXI4-Stream tops emitted at default parameters "
          f"into {out}/")
    return 0


#: readers of the .npy header versions numpy writes for arrays of numbers
_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0,
                (2, 0): np.lib.format.read_array_header_2_0}


def _load_npy(path):
    """The array of the ``.npy`` file ``path``, in native byte order.

    The header is read first and its shape and dtype checked against the file's size, so a
    header that claims more data than the file holds is refused before anything is allocated.
    """
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size == 0:
                raise CLIError(f"{path}: empty file, not a .npy array")
            try:
                version = np.lib.format.read_magic(f)
                if version not in _NPY_HEADERS:
                    raise ValueError(f"format version {version[0]}.{version[1]}; this reader "
                                     f"takes 1.0 and 2.0")
                shape, _, dtype = _NPY_HEADERS[version](f)
            except ValueError as exc:
                raise CLIError(f"{path}: not a .npy array ({exc})") from None
            if dtype.hasobject:
                raise CLIError(f"{path}: holds Python objects ({dtype}), not numbers")
            if any(d < 0 for d in shape):
                raise CLIError(f"{path}: header has a negative dimension, shape {shape}")
            need, have = math.prod(shape) * dtype.itemsize, size - f.tell()
            if need != have:
                raise CLIError(f"{path}: header says shape {shape} of {dtype} ({need} bytes of "
                               f"data), the file holds {have} after the header")
            f.seek(0)
            arr = np.load(f, allow_pickle=False)
    except FileNotFoundError:
        raise CLIError(f"{path}: no such file") from None
    except OSError as exc:
        raise CLIError(f"{path}: {exc.strerror or exc}") from None
    return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))


def _save_npy(path, arr):
    """Write ``arr`` as a ``.npy`` file at exactly ``path`` (checked with
    :func:`outputs.check_file`)."""
    outputs.write_file(path, lambda f: np.save(f, arr, allow_pickle=False))


def _read(path):
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CLIError(f"{path}: {exc.strerror}") from None


def cmd_ebpc_encode(args):
    from golden.ebpc_file import EBPCFile, pack

    out = outputs.check_file(args.output, args.input)
    arr = _load_npy(args.input)
    f = EBPCFile.compress(arr, args.block_size)
    data = pack(f)
    outputs.write_file(out, lambda fp: fp.write(data))
    znz, bpc = (sum(len(t[i]) for t in f.transfers) for i in (0, 1))
    split = f" in {len(f.transfers)} transfers" if len(f.transfers) > 1 else ""
    print(f"{args.input}: {arr.size} words {arr.dtype} -> {args.output}{split}: ZNZ {znz} B, "
          f"BPC {bpc} B, ratio {arr.nbytes / f.stream_bytes:.3f}x")
    return 0


def cmd_ebpc_decode(args):
    from golden.ebpc_file import unpack

    out = outputs.check_file(args.output, args.input)
    f = unpack(_read(args.input))
    arr = f.decompress()
    _save_npy(out, arr)
    print(f"{args.input}: {f.n} words -> {args.output} ({arr.dtype}, shape {arr.shape})")
    return 0


def cmd_ebpc_stats(args):
    from golden import ebpc_file

    arr = _load_npy(args.input)
    if arr.dtype not in (np.int8, np.int16):
        raise CLIError(f"{args.input}: dtype must be int8 or int16, not {arr.dtype}")
    s = ebpc_file.stats(arr, args.block_size, per_block=args.blocks)
    if args.json:
        print(json.dumps(s, indent=2))
        return 0
    print(f"{args.input}: {s['n']} words ({s['word_bits']}-bit), {s['zeros']} zeros "
          f"({100 * s['zeros'] / s['n']:.1f} %), {s['blocks']} BPC blocks of {s['block_size']}")
    if s["transfers"] > 1:
        print(f"  in {s['transfers']} transfers of at most 2**24 words (the hardware's count)")
    print(f"  raw {s['raw_bytes']} B -> ZNZ {s['znz_bytes']} B + BPC {s['bpc_bytes']} B = "
          f"{s['znz_bytes'] + s['bpc_bytes']} B; ratio {s['ratio']:.3f}x, "
          f"{s['bits_per_word']:.3f} bits/word")
    total = sum(s["symbols"].values()) or 1
    print(f"  {'symbol class':<12} {'symbols':>9} {'%':>6} {'codes':>9} {'bits':>10}")
    for name, count in s["symbols"].items():
        print(f"  {name:<12} {count:>9} {100 * count / total:>6.1f} {s['codes'][name]:>9} "
              f"{s['bits'][name]:>10}")
    print(f"  {'base':<12} {'':>9} {'':>6} {s['blocks']:>9} {s['bits']['base']:>10}")
    if args.blocks:
        print("  block   base  bits  classes (Z zero, 1 all-ones, P plane-zero, T two, S single,"
              " R raw)")
        for b in s["per_block"]:
            print(f"  {b['block']:>5} {b['base']:>6} {b['bits']:>5}  {b['classes']}")
    return 0


def _floats(texts, option):
    text = " ".join(texts)
    try:
        values = tuple(float(v) for v in text.replace(",", " ").split())
    except ValueError:
        raise CLIError(f"{option} takes numbers separated by commas or spaces, not "
                       f"{text!r}") from None
    if not values:
        raise CLIError(f"{option} needs 1 or 3 numbers, not {text!r}")
    return values


def cmd_eval_ebpc(args):
    from .evaluation import ebpc_eval, ebpc_rtl
    from .paths import REPORTS

    if args.images is not None and args.images < 1:
        raise CLIError(f"--images must be at least 1, not {args.images}")
    if args.jobs is not None and args.jobs < 1:
        raise CLIError(f"--jobs must be at least 1, not {args.jobs}")
    onnx_only = [o for o in ("name", "input", "layout", "size", "resize", "mean", "std", "ops")
                 if getattr(args, o) is not None] + (["bgr"] if args.bgr else [])
    if args.onnx is None and (onnx_only or args.inputs is not None):
        raise CLIError(f"--{(onnx_only or ['inputs'])[0]} goes with --onnx MODEL.onnx "
                       f"--inputs SRC")
    if args.table and (args.onnx or args.rtl or args.model):
        raise CLIError("--table runs every built-in network: give it without --model, --onnx "
                       "or --rtl")
    if args.name is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", args.name):
        raise CLIError(f"--name names the report files ebpc_<name>.*: letters, digits, '_', '.' "
                       f"and '-' only, not {args.name!r}")
    if args.onnx and args.model:
        raise CLIError("--onnx evaluates your model: give it without --model")
    if args.layers and not args.rtl:
        raise CLIError("--layers goes with --rtl (the maps sent through the RTL)")
    outputs.check_folder(args.out or REPORTS)
    run = {"out": args.out, "progress": not args.no_progress, "jobs": args.jobs}
    if args.table:
        return _evaluate(ebpc_eval.table, rerun=args.rerun, **run)
    if args.onnx:
        if args.inputs is None:
            raise CLIError("--onnx needs --inputs SRC: a folder of JPEG / PNG files or an .npy "
                           "batch already preprocessed")
        return _evaluate(_eval_onnx, args, **run)
    model = args.model or "mobilenetv2"
    if args.rtl:                # the maps of the whole batch set the scale, as in the report
        layers = args.layers or (ebpc_rtl.DEFAULT_LAYERS if model == "mobilenetv2" else None)
        return _evaluate(lambda: ebpc_rtl.rtl_check(
            layers, args.images or 2, args.out,
            captured=ebpc_eval.capture_builtin(model)[:2], model=model))
    return _evaluate(ebpc_eval.main, model, args.images, **run)


def _eval_onnx(args, **run):
    """``--onnx``: the model's input shape fills in --layout and --size where not given."""
    from .evaluation import ebpc_eval, nets

    shape = ebpc_eval.onnx_input_shape(args.onnx, args.input)
    if not nets.is_batch(args.inputs):
        layout = args.layout
        if layout is None:          # channels last when the last axis looks like colours
            layout = "nhwc" if len(shape) == 4 and shape[3] in (1, 3) and shape[1] not in (
                1, 3) else "nchw"
        spatial = [d for d in (shape[1:3] if layout == "nhwc" else shape[2:4]) if d]
        size = args.size if args.size is not None else (spatial[0] if spatial else 224)
        resize = args.resize if args.resize is not None else max(size, round(size * 8 / 7))
        pre = nets.Preprocess(size=size, resize=resize,
                              mean=_floats(args.mean, "--mean") if args.mean else (0.0,),
                              std=_floats(args.std, "--std") if args.std else (1.0,),
                              bgr=args.bgr, layout=layout)
        x = nets.inputs(args.inputs, pre, args.images)
    else:
        x = nets.inputs(args.inputs, count=args.images)
    ops = tuple(o.strip() for o in args.ops.split(",") if o.strip()) if args.ops else None
    if args.ops is not None and not ops:
        raise CLIError(f"--ops takes ONNX op types separated by commas, not {args.ops!r}")
    ops = ops or ebpc_eval.DEFAULT_OPS
    name = args.name or re.sub(r"[^A-Za-z0-9_.-]", "_", args.onnx.stem)
    if args.rtl:
        from .evaluation import ebpc_rtl

        captured = ebpc_eval.capture_onnx(args.onnx, x, args.input, ops)
        return ebpc_rtl.rtl_check(args.layers, min(len(x), 2) if args.images is None
                                  else args.images, run["out"], captured=captured[:2],
                                  model=name)
    ebpc_eval.onnx_report(args.onnx, x, name, input_name=args.input,
                          ops=ops, inputs=str(args.inputs), **run)


def _evaluate(run, *args, **kwargs):
    """Run an evaluation; a missing package or data file is a user error."""
    from .evaluation import nets

    try:
        run(*args, **kwargs)
    except (nets.MissingPackage, nets.BadInput, FileNotFoundError) as exc:
        raise CLIError(str(exc)) from None
    return 0


def _dict_weights(path, args):
    """``(array, int8 weights, scale)`` of the weights in ``path``: int8 as they are (scale 1),
    floats quantised per tensor or, with ``--scales channel``, per index along ``--axis``."""
    from golden import dict_codec

    arr = _load_npy(path)
    per_channel = getattr(args, "scales", "tensor") == "channel"
    if arr.dtype == np.int8:
        if (arr == -128).any():
            raise CLIError("int8 input must lie in -127..127 (symmetric quantisation)")
        if per_channel:
            raise CLIError("--scales channel quantises float input; int8 input is already "
                           "quantised (use --scales tensor)")
        return arr, arr, 1.0
    if arr.dtype.kind != "f":
        raise CLIError(f"input must be float (quantised here) or int8, not {arr.dtype}")
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise CLIError(f"{path}: weights must be finite numbers, not NaN or inf ({int(bad.sum())} "
                       f"of them, the first at index {first})")
    if per_channel:
        if not -arr.ndim <= args.axis < arr.ndim:
            raise CLIError(f"--axis {args.axis} is outside the input's {arr.ndim} dimensions "
                           f"(shape {arr.shape}); allowed {-arr.ndim}..{arr.ndim - 1}"
                           if arr.ndim else "--scales channel needs an array, not a scalar")
        return (arr, *dict_codec.quantise(arr, axis=args.axis))
    return (arr, *dict_codec.quantise(arr))


def _engine_check(args):
    """Warn (one line on stderr) when no dict-decoder core can take streams of ``args.G``,
    ``args.B``, ``args.R``: the golden format allows more than the engine."""
    allowed = {p.name: p.choices for p in cores.core("dict-decoder").params}
    out = []
    if args.G not in allowed["G"]:
        out.append(f"G={args.G} (it takes G in {', '.join(map(str, allowed['G']))})")
    if args.B > max(allowed["B_max"]):
        out.append(f"B={args.B} (it takes B up to {max(allowed['B_max'])})")
    if args.R > max(allowed["R"]):
        out.append(f"R={args.R} (it takes R up to {max(allowed['R'])})")
    if _version(args) > max(allowed["V"]):
        out.append(f"format v{_version(args)} (it takes v0 to v{max(allowed['V'])})")
    if out:
        print(f"dnnpress: warning: the dict-decoder core cannot decode streams with "
              f"{', '.join(out)}; only the golden model can", file=sys.stderr)


def _version(args):
    return int(args.format[1:])


def cmd_dict_encode(args):
    from golden import dict_codec, dict_file

    out = outputs.check_file(args.output, args.input)
    arr, q, scale = _dict_weights(args.input, args)
    _engine_check(args)
    e = dict_codec.encode(dict_codec.trim(q, args.k).reshape(-1), args.k, args.G, args.B,
                          args.R, _version(args))
    axis = args.axis if args.scales == "channel" else None
    data = dict_file.pack(arr.shape, scale, e.stream, axis)
    outputs.write_file(out, lambda f: f.write(data))
    scales = f"{np.size(scale)} scales along axis {axis}" if axis is not None else "one scale"
    print(f"{args.input}: {arr.size} weights {arr.dtype} -> {args.output}: HC-P {args.format}, "
          f"{e.bits} stream bits, {e.ratio(8):.3f}x against int8, {e.ratio(32):.3f}x against "
          f"fp32 (dictionary {e.header.n_dict}, hits {e.hits}, runs {e.runs}, literals "
          f"{e.literals}; {scales} beside the stream, {len(data)} bytes in all)")
    return 0


def cmd_dict_decode(args):
    from golden import dict_file

    path = outputs.check_file(args.output, args.input)
    shape, scale, values, head = dict_file.unpack(_read(args.input))
    with np.errstate(over="ignore"):
        out = (values.astype(np.float32) * np.asarray(scale, np.float32) if args.dequantise
               else values)
    if not np.isfinite(out).all():
        raise CLIError(f"{args.input}: scale {np.max(scale):g} takes the weights out of "
                       "float32's range")
    _save_npy(path, out)
    print(f"{args.input}: HC-P v{head.version}, {values.size} weights -> {args.output} "
          f"({out.dtype}, shape {shape})")
    return 0


def cmd_dict_stats(args):
    from golden import dict_codec

    arr, q, _ = _dict_weights(args.input, args)
    _engine_check(args)
    rows = []
    for k in args.k:
        t = dict_codec.trim(q, k).reshape(-1)
        e = dict_codec.encode(t, k, args.G, args.B, args.R, _version(args))
        rows.append({"k": k, "format": args.format, "scales": args.scales, "G": args.G,
                     "B": args.B, "R": args.R, "bits": e.bits,
                     "ratio_int8": e.ratio(8), "ratio_fp32": e.ratio(32),
                     "n_dict": e.header.n_dict, "hits": e.hits, "runs": e.runs,
                     "run_symbols": e.run_symbols, "literals": e.literals})
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"{args.input}: {arr.size} weights; HC-P {args.format}, scales per {args.scales}, "
          f"G={args.G} B={args.B} R={args.R}")
    print(f"{'k':>2}{'bits':>10}{'vs int8':>9}{'vs fp32':>9}{'dict':>6}{'hits':>8}{'runs':>7}"
          f"{'literals':>9}")
    for r in rows:
        print(f"{r['k']:>2}{r['bits']:>10}{r['ratio_int8']:>9.3f}{r['ratio_fp32']:>9.3f}"
              f"{r['n_dict']:>6}{r['hits']:>8}{r['runs']:>7}{r['literals']:>9}")
    return 0


def _numbers(text, what, low, high):
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise CLIError(f"{what} must be comma-separated numbers, not {text!r}") from None
    bad = [v for v in values if not low <= v <= high]
    if bad:
        raise CLIError(f"{what} must lie in {low:g}..{high:g}; got {bad[0]:g}")
    return tuple(int(v) if v == int(v) else v for v in values)


def cmd_noc_model(args):
    from golden import noc_model

    cfg = noc_model.load_config(args.noc_config)
    layers = noc_model.lenet5_layers()
    weighted = [x.name for x in layers if x.weights]
    crs = _numbers(args.cr, "--cr", 1e-3, 1e6) if args.cr is not None else (1.0,)
    if len(crs) not in (1, len(weighted)):
        raise CLIError(f"--cr takes one ratio or {len(weighted)} ({', '.join(weighted)}), "
                       f"not {len(crs)}")
    crs = crs * len(weighted) if len(crs) == 1 else crs
    est = noc_model.estimate(layers, crs, cfg)
    lat, en = noc_model.reduction(layers, crs, cfg)
    if args.json:
        print(json.dumps({**est, "latency_reduction": lat, "energy_reduction": en}, indent=1))
        return 0
    print(f"LeNet-5 on a {cfg.mesh[0]}x{cfg.mesh[1]} mesh, weight CR "
          f"{', '.join(f'{c:g}' for c in crs)}")
    print(f"{'layer':<10}{'PEs':>4}{'NoC':>9}{'DRAM':>9}{'compute':>9}{'cycles':>10}"
          f"{'energy uJ':>11}")
    for r in est["layers"]:
        t = r["latency"]
        print(f"{r['layer']:<10}{r['active_pes']:>4}{t['noc']:>9.0f}{t['dram']:>9.0f}"
              f"{t['compute']:>9.0f}{t['total']:>10.0f}{1e6 * r['energy']['total']:>11.3f}")
    print(f"total: {est['latency']:,.0f} cycles, {1e6 * est['energy']:.2f} uJ; against "
          f"uncompressed: latency {-100 * lat:+.1f} %, energy {-100 * en:+.1f} %")
    return 0


def cmd_noc_sweep(args):
    from golden import noc_model

    from .evaluation import noc_sweep

    if args.images < 2 or args.images > 10000:
        raise CLIError(f"--images must lie in 2..10000, not {args.images}")
    grid = (_numbers(args.grid, "--grid", 0, 100) if args.grid is not None
            else noc_sweep.PAPER_GRID)
    budgets = (_numbers(args.budgets, "--budgets", 0, 100) if args.budgets is not None
               else noc_sweep.BUDGETS)
    return _evaluate(noc_sweep.main, args.images, args.out, not args.no_progress,
                     tuple(sorted(set(grid))), budgets, noc_model.load_config(args.noc_config))


def cmd_eval_dict(args):
    from .evaluation import dict_eval

    if args.images is not None and args.images < 1:
        raise CLIError(f"--images must be at least 1, not {args.images}")
    return _evaluate(dict_eval.main, args.model, args.images, args.out,
                     progress=not args.no_progress)


def cmd_eval_cache(args):
    from .evaluation import cache_eval

    if not 1 <= args.trace_images <= 10000:
        raise CLIError(f"--trace-images must lie in 1..10000, not {args.trace_images}")
    if not 0 < args.tau < 1:
        raise CLIError(f"--tau must lie in (0, 1), not {args.tau}")
    if not 1 <= args.batch <= 10000:
        raise CLIError(f"--batch must lie in 1..10000, not {args.batch}")
    if args.jobs is not None and args.jobs < 1:
        raise CLIError(f"--jobs must be at least 1, not {args.jobs}")
    return _evaluate(cache_eval.main, 10000, args.trace_images, args.tau, args.out,
                     not args.no_progress, batch=args.batch, jobs=args.jobs)


def _report_args(e):
    e.add_argument("--out", type=Path, help="report folder (default: build/reports)")
    e.add_argument("--no-progress", action="store_true", help="no progress bar")


def parser():
    from .evaluation.ebpc_eval import NETWORKS as ebpc_networks  # names only: no torch import

    ap = argparse.ArgumentParser(prog="dnnpress", description=__doc__.splitlines()[0])
    ap.add_argument("--version", action="version", version=f"dnnpress {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="main job: emit every core and its AXI4-Stream top at its "
                                     "defaults, print a summary")
    p.add_argument("-o", "--output", default="build", help="output folder (default: build)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("emit", help="write the Verilog of one core (its AXI4-Stream top, its "
                                    "FuseSoC package)")
    p.add_argument("core", nargs="?", help="core name (see --list)")
    p.add_argument("-o", "--output", default="build/verilog", help="output folder")
    p.add_argument("--axis", action="store_true",
                   help="the AXI4-Stream top <module>_axis (aclk, aresetn, s_axis_* / m_axis_*; "
                        "docs/integration.md)")
    p.add_argument("--fusesoc", action="store_true",
                   help="also a CAPI2 .core file (targets lint and synth) and the Verilator "
                        "waiver file")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="set an elaboration parameter (repeatable)")
    p.add_argument("--list", action="store_true", help="list cores, parameters, allowed values")
    p.set_defaults(func=cmd_emit)

    p = sub.add_parser("synth", help="area (GE), timing and FPGA figures of the cores",
                       description=synth_cli.DESCRIPTION)
    synth_cli.add_arguments(p)
    p.set_defaults(func=synth_cli.run)

    p = sub.add_parser("eval", help="evaluations on real networks (needs `make eval`)")
    vsub = p.add_subparsers(dest="eval_command", required=True)
    e = vsub.add_parser("ebpc", help="EBPC and baselines on real CNN feature maps: a built-in "
                        "network, your ONNX model, or --table of every built-in one",
                        description="EBPC and baselines on the activation maps of a network. "
                        "Built-in networks: --model NAME. Your own: --onnx MODEL.onnx --inputs "
                        "SRC (a folder of JPEG / PNG files, preprocessed by --size, --resize, "
                        "--mean, --std, --bgr, --layout; or an .npy batch already "
                        "preprocessed).")
    e.add_argument("--model", choices=tuple(ebpc_networks),
                   help="a built-in network (default mobilenetv2)")
    e.add_argument("--onnx", type=Path, metavar="MODEL.onnx", help="your ONNX model")
    e.add_argument("--inputs", type=Path, metavar="SRC", help="with --onnx: a folder of JPEG / "
                   "PNG files or an .npy batch (images first, preprocessed)")
    e.add_argument("--name", help="with --onnx: the report's name (default: the file's stem)")
    e.add_argument("--input", help="with --onnx: the graph input to feed (default: the only "
                   "one)")
    e.add_argument("--layout", choices=("nchw", "nhwc"), help="with --onnx: the input's layout "
                   "(default: read off the model's input shape); maps are always compressed in "
                   "NCHW order")
    e.add_argument("--size", type=int, help="with --onnx: centre crop in pixels (default: the "
                   "model's input size, else 224)")
    e.add_argument("--resize", type=int, help="with --onnx: shorter side resized to this first "
                   "(default: size x 8 / 7, 256 for 224)")
    e.add_argument("--mean", nargs="+", metavar="M", help="with --onnx: per-channel mean on the "
                   "0..255 scale, 1 or 3 values (default 0; ImageNet: 123.675 116.28 103.53)")
    e.add_argument("--std", nargs="+", metavar="S", help="with --onnx: per-channel std on the "
                   "0..255 scale (default 1; ImageNet: 58.395 57.12 57.375)")
    e.add_argument("--bgr", action="store_true", help="with --onnx: channels in BGR order")
    e.add_argument("--ops", help="with --onnx: ONNX op types whose outputs are captured, "
                   "comma-separated (default Relu,Clip; a Clip only with min 0)")
    e.add_argument("--images", type=int, help="inputs to use, the first N (default: 20 photos "
                   "/ 10,000 MNIST test images / all of --inputs; with --rtl: 2)")
    e.add_argument("--table", action="store_true", help="every built-in network beside the "
                   "paper's nearest network (runs those without a report in --out)")
    e.add_argument("--rerun", action="store_true", help="with --table: run every network again")
    e.add_argument("--jobs", type=int, help="processes compressing maps (default: every core)")
    e.add_argument("--out", type=Path, help="report folder (default: build/reports)")
    e.add_argument("--rtl", action="store_true",
                   help="run real maps (of --model or --onnx) through the encoder and decoder "
                   "RTL in Icarus")
    e.add_argument("--layers", nargs="+", metavar="LAYER", help="with --rtl: activation layers "
                   "(default: MobileNetV2's three, else the first, middle and last)")
    e.add_argument("--no-progress", action="store_true", help="no progress bar")
    e.set_defaults(func=cmd_eval_ebpc)
    e = vsub.add_parser("dict", help="HC-P dictionary compression of real weights: k, G, B, R "
                        "sweep, accuracy, zstd baseline")
    e.add_argument("--model", choices=("lenet5", "mobilenetv2", "resnet50"), default="lenet5",
                   help="resnet50: open_nsfw's ResNet-50 weights, ratios only")
    e.add_argument("--images", type=int, help="images to use (default: 10,000 MNIST test "
                   "images / 20 photos, 10 views each)")
    _report_args(e)
    e.set_defaults(func=cmd_eval_dict)
    e = vsub.add_parser("cache", help="cluster-index cache for iterative LeNet-5: accuracy per "
                        "tau and schedule, hit rate, energy and cycle proxies per schedule, "
                        "size and policy")
    e.add_argument("--tau", type=float, default=0.9, help="stopping threshold for the "
                   "memory-side replay (default 0.9)")
    e.add_argument("--trace-images", type=int, default=500, help="images whose accesses are "
                   "replayed (default 500)")
    e.add_argument("--batch", type=int, default=32, help="inputs per batch of the batch "
                   "schedules (layer by layer, tiles of the cache's capacity; default 32)")
    e.add_argument("--jobs", type=int, help="processes replaying traces (default: every core)")
    _report_args(e)
    e.set_defaults(func=cmd_eval_cache)

    p = sub.add_parser("noc", help="trend-run weight compression on a NoC accelerator")
    nsub = p.add_subparsers(dest="noc_command", required=True)
    e = nsub.add_parser("sweep", help="accuracy vs latency / energy over P, paper's method and "
                        "our variants (needs `make eval`)")
    e.add_argument("--model", choices=("lenet5",), default="lenet5")
    e.add_argument("--images", type=int, default=10000, help="MNIST test images (2..10000)")
    e.add_argument("--grid", help="P values in %% of the layer range, comma-separated "
                   "(default 0,2,...,30)")
    e.add_argument("--budgets", help="top-1 loss budgets in points for the per-layer P "
                   "choice (default 0.5,1,1.5,2)")
    e.add_argument("--noc-config", type=Path, help="TOML overriding golden/noc_config.toml")
    _report_args(e)
    e.set_defaults(func=cmd_noc_sweep)
    e = nsub.add_parser("model", help="the NoC latency / energy model on LeNet-5")
    e.add_argument("--cr", help="weight compression ratio: one for all layers, or one per "
                   "weight layer, comma-separated (default 1)")
    e.add_argument("--noc-config", type=Path, help="TOML overriding golden/noc_config.toml")
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.set_defaults(func=cmd_noc_model)

    p = sub.add_parser("dict", help="HC-P dictionary compression of weights (.npy)")
    dsub = p.add_subparsers(dest="dict_command", required=True)

    def codec_args(e, many_k=False):
        if many_k:
            e.add_argument("--k", type=int, nargs="+", default=list(range(7)),
                           choices=range(7), help="trimmed LSBs (default: 0..6)")
        else:
            e.add_argument("--k", type=int, default=0, choices=range(7), help="trimmed LSBs")
        e.add_argument("--G", type=int, default=4, choices=range(1, 17), metavar="1..16",
                       help="weights per symbol")
        e.add_argument("--B", type=int, default=4, choices=range(1, 9), metavar="1..8",
                       help="dictionary index bits")
        e.add_argument("--R", type=int, default=4, choices=range(0, 9), metavar="0..8",
                       help="run field bits (0: no runs)")
        e.add_argument("--format", choices=("v0", "v1"), default="v1",
                       help="HC-P v1: literal lanes prefix coded (default); v0: raw")
        e.add_argument("--scales", choices=("tensor", "channel"), default="tensor",
                       help="float input: one int8 scale for the tensor (default), or one per "
                            "output channel along --axis (kept in the .hcp beside the stream)")
        e.add_argument("--axis", type=int, default=0,
                       help="the output-channel axis for --scales channel (default 0, torch's "
                            "(out, ...); -1 for Keras kernels)")

    e = dsub.add_parser("encode", help="float (quantised per tensor or per channel) or int8 "
                        ".npy -> .hcp; weights in the array's C order")
    e.add_argument("input")
    e.add_argument("-o", "--output", required=True)
    codec_args(e)
    e.set_defaults(func=cmd_dict_encode)
    e = dsub.add_parser("decode", help=".hcp -> int8 .npy of the trimmed weights")
    e.add_argument("input")
    e.add_argument("-o", "--output", required=True)
    e.add_argument("--dequantise", action="store_true", help="write float32 weights instead")
    e.set_defaults(func=cmd_dict_decode)
    e = dsub.add_parser("stats", help="bits, ratios and code counts per k")
    e.add_argument("input")
    codec_args(e, many_k=True)
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.set_defaults(func=cmd_dict_stats)

    p = sub.add_parser("ebpc", help="EBPC golden model on .npy tensors")
    esub = p.add_subparsers(dest="ebpc_command", required=True)
    e = esub.add_parser("encode", help="compress an int8 / int16 .npy into an .ebpc file (a map "
                        "over 2**24 words as several transfers of at most 2**24)")
    e.add_argument("input")
    e.add_argument("-o", "--output", required=True)
    e.add_argument("--block-size", type=int, choices=(8, 16), default=8)
    e.set_defaults(func=cmd_ebpc_encode)
    e = esub.add_parser("decode", help="decompress an .ebpc file into a .npy")
    e.add_argument("input")
    e.add_argument("-o", "--output", required=True)
    e.set_defaults(func=cmd_ebpc_decode)
    e = esub.add_parser("stats", help="ratio, ZNZ / BPC split, symbol-class histogram")
    e.add_argument("input")
    e.add_argument("--block-size", type=int, choices=(8, 16), default=8)
    e.add_argument("--blocks", action="store_true", help="also dump every BPC block")
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.set_defaults(func=cmd_ebpc_stats)
    return ap


def _quiet_stdout():
    """Point stdout at the null device, so the interpreter's last flush into a closed pipe
    raises nothing."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):             # stdout without a file descriptor (a test's)
        pass


def main(argv=None):
    """Run the command line; the exit status: 0, 2 for a user error, 141 (128 + SIGPIPE, as
    a killed writer) when stdout is a pipe closed early (``dnnpress ... stats | head``)."""
    ap = parser()
    args = ap.parse_args(argv)
    try:
        code = args.func(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _quiet_stdout()
        return 141
    except (CLIError, ValueError, TypeError) as exc:
        print(f"dnnpress: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
