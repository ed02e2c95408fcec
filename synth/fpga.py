"""LUTs, flip-flops and Fmax on Lattice iCE40 UP5K and HX8K (Yosys ``synth_ice40``, nextpnr).

A core has more ports than the UP5K's 48-pin package has pins, so it is placed inside a wrapper
with four pins (``clk``, ``rst_pin``, ``sin``, ``sout``): every core input comes from a shift
register fed by ``sin``, every output is XOR-folded into a shift register that drives ``sout``,
and ``rst`` is registered. So every port path starts and ends at a flip-flop, none is optimised
away, and nextpnr's Fmax is register to register. The wrapper costs one flip-flop per port bit
and one LUT per output bit; the LUT and flip-flop counts reported are the core's alone (it is
kept as its own module, ``keep_hierarchy``), the logic cells (LCs) are nextpnr's, wrapper
included.
"""

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import tools
from .flow import relative, run_yosys

__all__ = ["DEVICES", "WRAPPER", "FREQ_MHZ", "ports", "wrapper", "script", "parse_cells", "run"]

#: device -> (``synth_ice40 -device``, nextpnr-ice40 arguments)
DEVICES = {"up5k": ("u", ["--up5k", "--package", "sg48"]),
           "hx8k": ("hx", ["--hx8k", "--package", "ct256"])}
WRAPPER = "dnnpress_fpga_wrap"
#: target given to nextpnr's timing-driven placement (the achieved Fmax is reported)
FREQ_MHZ = 100


def ports(verilog_text, module):
    """``[(direction, width, name)]`` of the ports of ``module`` in Yosys-written Verilog."""
    start = re.search(rf"^module {re.escape(module)}\s*\(", verilog_text, re.M)
    if start is None:
        raise ValueError(f"module {module!r} not found in the Verilog")
    body = verilog_text[start.end():verilog_text.index("endmodule", start.end())]
    found = re.findall(r"^\s*(input|output)\s+(?:wire\s+|reg\s+)?(?:\[(\d+):(\d+)\]\s+)?(\w+);",
                       body, re.M)
    return [(d, abs(int(hi) - int(lo)) + 1 if hi else 1, n) for d, hi, lo, n in found]


def _bus(name, width, port_list):
    parts, at = [], 0
    for _, w, n in port_list:
        parts.append(f"    .{n}({name}[{at + w - 1}:{at}])")
        at += w
    return parts


def wrapper(verilog_text, module):
    """Verilog of the four-pin wrapper around ``module``."""
    all_ports = ports(verilog_text, module)
    ins = [p for p in all_ports if p[0] == "input" and p[2] not in ("clk", "rst")]
    outs = [p for p in all_ports if p[0] == "output"]
    ni, no = sum(p[1] for p in ins), sum(p[1] for p in outs)
    conns = ["    .clk(clk)"] + (["    .rst(rst)"] if any(p[2] == "rst" for p in all_ports) else [])
    conns += _bus("si", ni, ins) + _bus("o", no, outs)
    return "\n".join([
        f"module {WRAPPER}(input clk, input rst_pin, input sin, output sout);",
        "  reg rst = 0;", f"  reg [{ni}:0] si = 0;", f"  reg [{no}:0] so = 0;",
        f"  wire [{max(no - 1, 0)}:0] o;",
        "  always @(posedge clk) begin", "    rst <= rst_pin;",
        f"    si <= {{si[{max(ni - 1, 0)}:0], sin}};",
        f"    so <= {{so[{max(no - 1, 0)}:0], 1'b0}} ^ {{1'b0, o}};", "  end",
        f"  assign sout = so[{no}];", f"  {module} core (", ",\n".join(conns), "  );",
        "endmodule", ""])


def parse_cells(path, module):
    """The core's iCE40 cells from ``stat -json``: LUT4s, flip-flops, carries, RAMs, DSPs."""
    modules = {k.lstrip("\\"): v for k, v in json.loads(Path(path).read_text())["modules"].items()}
    counts = modules[module]["num_cells_by_type"]
    return {"lut4": counts.get("SB_LUT4", 0),
            "ffs": sum(n for k, n in counts.items() if k.startswith("SB_DFF")),
            "carry": counts.get("SB_CARRY", 0),
            "bram_4k": counts.get("SB_RAM40_4K", 0), "dsp": counts.get("SB_MAC16", 0)}


def _pnr(nextpnr, device, workdir, seed=1, timeout=1800):
    report, log = workdir / f"{device}_pnr.json", workdir / f"{device}_pnr.log"
    proc = tools.run([nextpnr, *DEVICES[device][1], "--json", f"{device}_net.json", "--freq",
                      str(FREQ_MHZ), "--timing-allow-fail", "--pcf-allow-unconstrained",
                      "--seed", str(seed), "--report", report.name, "-l", log.name, "-q"],
                     cwd=workdir, timeout=timeout, capture_output=True, text=True)
    if proc.returncode != 0 or not report.exists():
        lines = [s for s in (proc.stderr + proc.stdout).splitlines() if "ERROR" in s]
        return {"error": (lines[0] if lines else f"exit status {proc.returncode}") +
                f" (log: {log})"}
    data = json.loads(report.read_text())
    block = re.search(r"Critical path report for clock .*?\(posedge -> posedge\):\n(.*?)"
                      r"(?:\nInfo: Critical|\Z)", log.read_text(errors="replace"), re.S)
    sources = re.findall(r"^Info:\s+[\d.]+\s+[\d.]+\s+Source ", block.group(1), re.M) \
        if block else []
    achieved = [v["achieved"] for v in data.get("fmax", {}).values()]
    use = data.get("utilization", {})
    return {"fmax_mhz": round(min(achieved), 1) if achieved else None,
            "lc_used": use.get("ICESTORM_LC", {}).get("used"),
            "lc_available": use.get("ICESTORM_LC", {}).get("available"),
            "bram_used": use.get("ICESTORM_RAM", {}).get("used"),
            "path_levels": max(len(sources) - 1, 0) if block else None}


def script(verilog, module, device):
    """The Yosys script of :func:`run` for ``device``: ``verilog`` (a path relative to the work
    folder) and ``wrap.v`` in, the netlist ``<device>_net.json`` and ``<device>_stat.json`` out."""
    lines = [f"read_verilog {verilog} wrap.v", f"setattr -mod -set keep_hierarchy 1 {module}",
             f"synth_ice40 -abc9 -device {DEVICES[device][0]} -top {WRAPPER} "
             f"-json {device}_net.json", f"tee -q -o {device}_stat.json stat -json"]
    return "\n".join(lines) + "\n"


def _device(yosys, nextpnr, verilog, module, workdir, device):
    ys = workdir / f"ice40_{device}.ys"
    ys.write_text(script(relative(verilog, workdir), module, device))
    run_yosys(yosys, ys, ys.with_suffix(".log"), workdir)
    result = parse_cells(workdir / f"{device}_stat.json", module)
    result.update(_pnr(nextpnr, device, workdir) if nextpnr else
                  {"pnr": "skipped (nextpnr-ice40 not found)"})
    return result


def run(yosys, nextpnr, verilog, module, workdir):
    """Per device of :data:`DEVICES`, side by side: the core's cells (``synth_ice40 -abc9``,
    timing-driven mapping) and, with ``nextpnr``, Fmax and logic cells of the placed and routed
    wrapper. Each device's Yosys script is ``ice40_<device>.ys``."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "wrap.v").write_text(wrapper(Path(verilog).read_text(), module))
    with ThreadPoolExecutor(max_workers=len(DEVICES)) as pool:
        jobs = {d: pool.submit(_device, yosys, nextpnr, verilog, module, workdir, d)
                for d in DEVICES}
        return {d: job.result() for d, job in jobs.items()}
