"""``synth [CORE ...] [--set NAME=VALUE ...] [--no-timing] [--no-fpga] [--no-cache] [--out DIR]``.

Runs the flow on the named cores (default: every core of :data:`dnnpress.cores.CORES`), and on
their variants (the EBPC cores' area-optimised ``serial=1``) unless ``--set`` names one of their
parameters; prints one line per configuration as it finishes and the area table at the end, and
writes ``synth.json`` and ``synth.md`` into ``DIR`` (``build/reports``), with the words/cycle
that ``make bench`` measured where it has. Work files go to ``build/synth/<module>/``.

The configurations run side by side in a pool of worker processes, one per core of the machine,
and every tool process (and every emission) holds one of as many slots
(:func:`synth.tools.run`), so the flow keeps about as many processes busy as there are cores.
A configuration whose emitted Verilog and flow settings are unchanged is not synthesized again:
its figures come from ``build/synth/cache/`` (:mod:`synth.cache`) and it prints ``cached``;
``--no-cache`` synthesizes everything again (and refreshes the cache).

Before anything runs, the folders it will write (``DIR``, the work folder) are checked: a path
that is a file, or a folder that cannot be written, is one line and exit status 2. A missing
optional tool prints one line and its figures are skipped; without Yosys nothing can run and the
exit status is 2.
"""

import argparse
import inspect
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from dnnpress import cores, outputs
from dnnpress.paths import BUILD, REPORTS, bench_report
from hw.params import label as params_label

from . import cache, flow, fpga, liberty, report, timing, tools

__all__ = ["WORK", "DESCRIPTION", "Job", "add_arguments", "flow_settings", "prepare", "run_core",
           "synthesize", "failures", "measured_throughput", "check_outputs", "main", "run"]

#: work folder: one subfolder per configuration, ``lib/`` (GE Liberty files), ``cache/``
WORK = BUILD / "synth"
RESET_STYLE = ("synchronous, active high, to 0: logic in front of a plain D flip-flop "
               "(about 1 GE per flip-flop)")
_FAILURES = (flow.FlowError, RuntimeError, OSError, subprocess.SubprocessError)
#: what ends a run with one line: a failed tool, or a file that cannot be written
_JOB_FAILURES = (*_FAILURES, ValueError)
#: the report files written into ``--out``
REPORT_FILES = ("synth.json", "synth.md")
#: tool seconds of the last runs, per configuration: the slowest configurations start first
_RUNTIMES = "runtimes.json"


@dataclass(frozen=True)
class Job:
    """One configuration to synthesize: report ``label``, ``core`` at ``params``, its work
    folder, and the flow's options (the same for every job of a run)."""

    label: str
    core: cores.Core
    params: dict
    workdir: Path
    found: tools.Tools
    timing_on: bool = True
    fpga_on: bool = True

    @property
    def osu(self):
        """The OSU Liberty the 180 nm netlist is mapped onto, or ``None`` (no timing)."""
        return _osu(self.found, self.timing_on)

    @property
    def cache_dir(self):
        return self.workdir.parent / "cache"


def _osu(found, timing_on):
    return found.osu_lib if timing_on and found.sta and found.osu_lib else None


def _fpga(found, verilog, module, workdir):
    try:
        return fpga.run(found.yosys, found.nextpnr, verilog, module, workdir)
    except _FAILURES as exc:
        return {"error": str(exc)}


def run_core(core, params, found, workdir, timing_on=True, fpga_on=True, verilog=None):
    """All figures of ``core`` at ``params`` with the tools ``found`` (:func:`tools.find`).

    ``verilog``: the core's emitted Verilog in ``workdir`` (emitted here when ``None``). The
    ASIC part (area, depth, 180 nm netlist) and the iCE40 part run side by side. Raises
    :class:`flow.FlowError` when the area synthesis fails; timing and FPGA failures are recorded
    as ``{"error": ...}`` in the result.
    """
    start = time.monotonic()
    workdir = Path(workdir)
    if verilog is None:
        verilog = cores.emit(core, params, workdir)
    osu = _osu(found, timing_on)
    with ThreadPoolExecutor(max_workers=2) as pool:
        fpga_job = pool.submit(_fpga, found, verilog, core.module, workdir / "ice40") \
            if fpga_on else None
        area = flow.run(found.yosys, verilog, core.module, workdir, osu=osu)
        if osu is None:
            why = "--no-timing" if not timing_on else "sta or the OSU library not found"
            sta = {"skipped": why}
        else:
            try:
                sta = timing.run(found.sta, osu, area["osu_netlist"], core.module, workdir)
            except _FAILURES as exc:
                sta = {"error": str(exc)}
        fpga_result = fpga_job.result() if fpga_job else {"skipped": "--no-fpga"}
    area.pop("osu_netlist")
    return {"module": core.module, "params": params, "verilog": str(verilog), **area,
            "timing": sta, "fpga": fpga_result, "runtime_s": round(time.monotonic() - start, 1)}


def flow_settings(found, timing_on=True, fpga_on=True):
    """Everything besides a configuration's Verilog that its figures depend on, for the cache
    key (:mod:`synth.cache`): the tools, the OSU library's content, the GE libraries, which
    parts run, and the source of the modules that write the scripts and read the results."""
    osu = _osu(found, timing_on)
    sources = [inspect.getsource(m) for m in (flow, fpga, timing, liberty, cache)]
    sources += [inspect.getsource(f) for f in (run_core, _fpga, synthesize)]
    return {"yosys": [cache.tool_identity(shutil.which(a) or a) for a in found.yosys[:1]]
            + found.yosys[1:],
            "sta": cache.tool_identity(found.sta) if osu else None,
            "nextpnr": cache.tool_identity(found.nextpnr) if fpga_on else None,
            "osu_lib": cache.digest(Path(osu).read_bytes()) if osu else None,
            "timing": timing_on, "fpga": fpga_on,
            "liberty": {name: liberty.liberty_text(name) for name in liberty.LIBRARIES},
            "source": cache.digest("\n".join(sources))}


_REG = re.compile(r"^\s*reg\s+(?:\[(\d+):(\d+)\]\s+)?\S+(?:\s*\[(\d+):(\d+)\])?\s*(?:=[^;]*)?;",
                  re.M)


def register_bits(verilog_text):
    """The bits of every ``reg`` (memories: width x depth) declared in Yosys-written Verilog: a
    cost estimate of a configuration that has not run before (flip-flops and the logic around
    them are most of the flow's work)."""
    return sum((abs(int(hi) - int(lo)) + 1 if hi else 1) * (abs(int(h2) - int(l2)) + 1 if h2 else 1)
               for hi, lo, h2, l2 in _REG.findall(verilog_text))


def prepare(job, settings):
    """Emit ``job``'s Verilog (holding a tool slot) and return ``(verilog path, cache key,
    cost estimate)``; the key covers the Verilog, ``settings`` (:func:`flow_settings`) and the
    scripts the flow will run; the estimate is :func:`register_bits`."""
    with tools.slot():
        verilog = cores.emit(job.core, job.params, job.workdir)
    text = verilog.read_text()
    osu = job.osu
    scripts = flow.workdir_scripts(verilog, job.core.module, job.workdir, osu)
    if job.fpga_on:
        scripts.update({d: fpga.script(flow.relative(verilog, job.workdir / "ice40"),
                                       job.core.module, d) for d in fpga.DEVICES})
    if osu:
        scripts["sta"] = timing.sta_script(osu.name, "osu_netlist.v", job.core.module)
    k = cache.key(verilog=text, module=job.core.module, params=job.params, settings=settings,
                  scripts=scripts)
    return verilog, k, register_bits(text)


def synthesize(job, verilog, k):
    """:func:`run_core` on ``job`` (in a worker process, one configuration at a time), with
    ``tool_s``, the seconds its tool processes ran; the result is stored under key ``k`` when
    every part of it succeeded (a failed timing or FPGA part is tried again next time)."""
    tools.busy(reset=True)
    r = run_core(job.core, job.params, job.found, job.workdir, job.timing_on, job.fpga_on,
                 verilog)
    r["tool_s"] = round(tools.busy(), 1)
    if not failures(r):
        cache.store(job.cache_dir, k, r)
    return r


def failures(r):
    """``[(part, message)]`` of the parts of result ``r`` that failed: 180 nm timing, iCE40
    synthesis, or the place and route of one device."""
    found = [(part, r[part]["error"]) for part in ("timing", "fpga") if "error" in r[part]]
    found += [(f"fpga {device}", fig["error"]) for device, fig in r["fpga"].items()
              if isinstance(fig, dict) and "error" in fig]
    return found


def _settings(selected, items):
    """Per core, the ``NAME=VALUE`` items that name one of its parameters."""
    names = {item.partition("=")[0] for item in items}
    known = {p.name for c in selected for p in c.params}
    unknown = sorted(names - known)
    if unknown:
        raise ValueError(f"no selected core has a parameter {unknown[0]!r}; parameters: "
                         f"{', '.join(sorted(known))}")
    return {c.name: [i for i in items if i.partition("=")[0] in {p.name for p in c.params}]
            for c in selected}


def _jobs(selected, settings, params):
    """``(report key, core, parameters, work folder)`` per synthesis: each core at its
    parameters, and where no ``--set`` names it, its :attr:`~dnnpress.cores.Core.variants`."""
    jobs = []
    for c in selected:
        jobs.append((c.name, c, params[c.name], WORK / c.module))
        for variant in () if settings[c.name] else c.variants:
            label = params_label(variant)
            tag = "_".join(f"{k}{v}" for k, v in variant.items())
            jobs.append((f"{c.name} {label}", c, {**params[c.name], **variant},
                         WORK / f"{c.module}_{tag}"))
    return jobs


def measured_throughput(core, params, reports=REPORTS):
    """Words/cycle per data kind of ``core`` at ``params`` from ``make bench``'s JSON
    (``reports/<core>.json``), with the authors' figures; None when not measured."""
    path = bench_report(core, reports)
    try:
        bench = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    for entry in bench.get("results", []):
        if entry.get("params") == params:
            return {"words_per_cycle": {r["kind"]: r["words_per_cycle"] for r in entry["rows"]},
                    "authors_rtl": bench.get("authors_rtl", {}), "source": str(path)}
    return None


def check_outputs(out, work):
    """Refuse, before any work, the report folder ``out`` or the work folder ``work`` when it is
    a file, lies under one or cannot be written, or a report file in ``out`` is a folder:
    ``ValueError`` naming the option and the path (:mod:`dnnpress.outputs`)."""
    for folder, what in ((out, "--out"), (work, "work folder")):
        try:
            outputs.check_folder(folder)
        except ValueError as exc:
            raise ValueError(f"{what} {exc}") from None
    for name in REPORT_FILES:
        if (Path(out) / name).is_dir():
            raise ValueError(f"--out {out}: {Path(out) / name} is a folder, not a file")


DESCRIPTION = "Area (GE), logic depth, 180 nm timing and iCE40 figures of the dnnpress cores."


def add_arguments(p):
    """The flow's options on parser ``p`` (also ``dnnpress synth``'s)."""
    p.add_argument("cores", nargs="*", metavar="CORE", help="cores (default: all)")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                   help="parameter of the cores that have it (repeatable)")
    p.add_argument("--no-timing", action="store_true", help="skip the 180 nm timing")
    p.add_argument("--no-fpga", action="store_true", help="skip iCE40 synthesis and P&R")
    p.add_argument("--no-cache", action="store_true",
                   help="synthesize every configuration again (build/synth/cache/ is refreshed)")
    p.add_argument("--out", type=Path, default=REPORTS, metavar="DIR",
                   help="report folder (build/reports)")
    return p


def main(argv=None):
    """``python -m synth``: parse ``argv`` and :func:`run`."""
    p = add_arguments(argparse.ArgumentParser(prog="synth", description=DESCRIPTION))
    return run(p.parse_args(argv))


def _progress(label, r, width):
    """The line printed when configuration ``label`` (result ``r``) is done."""
    fmax = (r.get("timing") or {}).get("fmax_mhz")
    when = "cached" if r.get("cached") else f"{r['runtime_s']:.0f} s"
    ge, fmax = report.num(r["area"]["nangate45"]["total_ge"]), report.num(fmax)
    return f"synth: {label:<{width}}  {ge:>7} GE  {r['ffs']:>5} FF  {fmax:>4} MHz  {when}"


def _runtimes(folder):
    try:
        return json.loads((Path(folder) / _RUNTIMES).read_text())
    except (OSError, ValueError):
        return {}


def _pool(jobs):
    """Worker processes for ``jobs``: one per core (at most one per job), sharing as many tool
    slots as there are cores."""
    n = os.cpu_count() or 2
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=max(1, min(n, len(jobs))), mp_context=context,
                               initializer=tools.limit_processes,
                               initargs=(context.BoundedSemaphore(n),))


def _synthesize_all(jobs, settings, reuse):
    """Results of ``jobs`` by label, printing each configuration as it finishes; raises the
    first failure as ``(label, exception)`` in a :class:`_Failed`."""
    width = max(len(j.label) for j in jobs)
    done = {}
    with _pool(jobs) as pool:
        prepared = {}
        futures = {pool.submit(prepare, j, settings): j for j in jobs}
        for f in as_completed(futures):
            try:
                prepared[futures[f].label] = f.result()
            except _JOB_FAILURES as exc:
                pool.shutdown(cancel_futures=True)
                raise _Failed(futures[f].label, exc) from None
        todo = []
        for j in jobs:
            verilog, k, size = prepared[j.label]
            hit = cache.load(j.cache_dir, k) if reuse else None
            if hit is not None:
                done[j.label] = {**hit, "verilog": str(verilog), "cached": True, "cache_key": k}
                print(_progress(j.label, done[j.label], width), flush=True)
            else:
                todo.append((j, verilog, k, size))
        history = _runtimes(jobs[0].cache_dir)
        todo.sort(key=lambda t: (-history.get(t[0].label, 0), -t[3]))
        futures = {pool.submit(synthesize, j, verilog, k): (j, k) for j, verilog, k, _ in todo}
        for f in as_completed(futures):
            j, k = futures[f]
            try:
                done[j.label] = {**f.result(), "cached": False, "cache_key": k}
            except _JOB_FAILURES as exc:
                pool.shutdown(cancel_futures=True)
                raise _Failed(j.label, exc) from None
            print(_progress(j.label, done[j.label], width), flush=True)
    if todo:
        history.update({j.label: done[j.label]["tool_s"] for j, *_ in todo})
        text = json.dumps(history, indent=1) + "\n"
        outputs.write_file(jobs[0].cache_dir / _RUNTIMES, lambda f: f.write(text.encode()))
    return done


class _Failed(Exception):
    def __init__(self, label, exc):
        super().__init__(label, exc)
        self.label, self.exc = label, exc


def run(args):
    """Run the flow; print the table; write the reports. 0, or 2 on a user error / no Yosys."""
    try:
        selected = [cores.core(n) for n in args.cores] or list(cores.CORES.values())
        settings = _settings(selected, args.set)
        params = {c.name: cores.resolve(c, settings[c.name]) for c in selected}
    except ValueError as exc:
        print(f"dnnpress: error: {exc}", file=sys.stderr)
        return 2
    try:
        check_outputs(args.out, WORK)
    except ValueError as exc:
        print(f"dnnpress: error: {exc}", file=sys.stderr)
        return 2
    found = tools.find(timing=not args.no_timing, fpga=not args.no_fpga)
    for line in found.messages:
        print(line, file=sys.stderr)
    if found.yosys is None:
        return 2
    results = {"generated_by": "synth (dnnpress)", "reset_style": RESET_STYLE,
               "ge_libraries": liberty.LIBRARIES, "timing_library": timing.LABEL,
               "paper": report.PAPER, "paper_rows": report.PAPER_ROWS,
               "authors_rtl": report.AUTHORS, "cores": {}}
    start = time.monotonic()
    jobs = [Job(key, c, values, workdir, found, not args.no_timing, not args.no_fpga)
            for key, c, values, workdir in _jobs(selected, settings, params)]
    workers = max(1, min(os.cpu_count() or 2, len(jobs)))
    print(f"synth: {len(jobs)} configuration(s), {workers} at a time; work files in {WORK}, "
          f"unchanged ones from {WORK / 'cache'} (--no-cache: all again)", flush=True)
    try:
        done = _synthesize_all(jobs, flow_settings(found, jobs[0].timing_on, jobs[0].fpga_on),
                               not args.no_cache)
    except _Failed as failed:
        print(f"dnnpress: {failed.label}: {failed.exc}", file=sys.stderr)
        return 1
    for j in jobs:
        r = done[j.label]
        results["cores"][j.label] = {"core": j.core.name, **r,
                                     "throughput": measured_throughput(j.core.name, j.params)}
        for part, message in failures(r):
            print(f"dnnpress: {j.label}: {part}: {message}", file=sys.stderr)
    print()
    print(report.console_table(results))
    out = Path(args.out)

    def write(tmp):
        report.write_json(results, tmp / "synth.json")
        (tmp / "synth.md").write_text(report.render_markdown(results) + "\n")

    try:
        outputs.write_folder(out, write)
    except ValueError as exc:
        print(f"dnnpress: error: --out {exc}", file=sys.stderr)
        return 2
    cached = sum(1 for r in done.values() if r["cached"])
    print(f"\nsynth: {len(jobs)} configuration(s) ({cached} cached) in "
          f"{time.monotonic() - start:.0f} s; wrote {out / 'synth.json'} and {out / 'synth.md'}")
    return 0
