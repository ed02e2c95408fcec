"""Critical path and Fmax on OSU 0.18 um (180 nm) cells, with OpenSTA.

:func:`synth.flow.run` maps the flattened core onto ``osu018_stdcells.lib`` (delay-driven ABC
mapping with buffering and sizing); here OpenSTA times that netlist: one clock on ``clk``,
inputs arriving and outputs required at the clock edge (every port path counts as if the
neighbours were registered), ideal clock, no wire load (cell pin loads only), typical corner
(1.8 V, 25 C). The figure is a 180 nm check of the logic, not a sign-off of a modern node.
"""

import re
from pathlib import Path

from . import tools

__all__ = ["LABEL", "PERIOD_NS", "sta_script", "parse_sta", "run"]

LABEL = "OSU 0.18 um (180 nm)"
#: clock period given to OpenSTA; Fmax comes from the worst slack, so it need not be met
PERIOD_NS = 10.0


def sta_script(liberty, netlist, module, period=PERIOD_NS):
    """The OpenSTA TCL script timing ``netlist`` (top ``module``) against ``liberty``."""
    return "\n".join([
        f"read_liberty {liberty}", f"read_verilog {netlist}", f"link_design {module}",
        f"create_clock -name clk -period {period} [get_ports clk]",
        "set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk]]",
        "set_output_delay 0 -clock clk [all_outputs]",
        "report_checks -path_delay max -digits 3", "report_worst_slack -digits 3", "exit", ""])


def _point(text, kind):
    """``(name, description, stage)`` of OpenSTA's ``Startpoint:`` or ``Endpoint:`` line."""
    found = re.search(rf"^{kind}: (\S+)\s*\(([^)]*)\)", text, re.M)
    if found is None:
        return None, None, None
    name, what = found.groups()
    if "port" in what:
        return name, what, f"port {name}"
    return name, what, name.split(".")[0] if "." in name else "(top)"


def parse_sta(text, period=PERIOD_NS):
    """Worst slack, critical path (ns), Fmax (MHz) and its end points from OpenSTA's report."""
    slack = re.search(r"worst slack (-?[\d.]+)", text)
    if slack is None:
        raise ValueError("no 'worst slack' in the OpenSTA report")
    path_ns = period - float(slack.group(1))
    start, end = _point(text, "Startpoint"), _point(text, "Endpoint")
    cells = re.findall(r"^\s+[\d.]+\s+[\d.]+ [v^] \S+ \((\w+)\)$", text, re.M)
    return {"library": LABEL, "critical_path_ns": round(path_ns, 3),
            "fmax_mhz": round(1000.0 / path_ns, 1) if path_ns > 0 else None,
            "slack_ns_at_period": float(slack.group(1)), "period_ns": period,
            "startpoint": start[0], "endpoint": end[0], "from_stage": start[2],
            "to_stage": end[2],
            "gates_on_path": sum(1 for c in cells if not c.startswith("DFF") and c not in
                                 ("in", "out"))}


def _area_ge(path):
    """OSU area of the netlist in GE (NAND2X1 = 24 area units)."""
    found = re.search(r"Chip area for (?:top )?module '[^']*': ([\d.]+)", Path(path).read_text())
    return round(float(found.group(1)) / 24.0, 1) if found else None


def run(sta, liberty, netlist, module, workdir, timeout=600):
    """Time ``netlist`` with OpenSTA ``sta``; the figures of :func:`parse_sta` plus the area."""
    workdir = Path(workdir)
    tcl = workdir / "sta.tcl"
    tcl.write_text(sta_script(liberty, Path(netlist).resolve(), module))
    proc = tools.run([sta, "-no_splash", "-exit", str(tcl)], cwd=workdir, timeout=timeout,
                     capture_output=True, text=True)
    log = workdir / "sta.log"
    log.write_text(proc.stdout + proc.stderr)
    try:
        result = parse_sta(proc.stdout)
    except ValueError as exc:
        errors = [line for line in (proc.stdout + proc.stderr).splitlines() if "rror" in line]
        raise RuntimeError(f"{exc}: {errors[0] if errors else 'see ' + str(log)}") from None
    result["area_ge_osu018"] = _area_ge(workdir / "osu_area.txt")
    return result
