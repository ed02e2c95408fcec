"""FuseSoC packages of the emitted cores: a CAPI2 ``.core`` file beside the Verilog and the
Verilator waiver, with the targets ``lint`` (Verilator ``--lint-only -Wall``) and ``synth``
(Yosys, iCE40). The waiver is in the ``default`` target, so a core that depends on this one lints
with it too; it is scoped to the emitted file and never hides a warning of the integrator's.

``dnnpress emit CORE --fusesoc -o DIR`` writes ``DIR/<module>.v``, ``DIR/<module>.vlt`` and
``DIR/<module>.core`` (``--axis`` too: the same for ``<module>_axis``); then
``fusesoc --cores-root DIR run --target lint dnnpress:cores:<module>:<version>`` lints it.
"""

import json

from . import __version__, cores

__all__ = ["VENDOR", "vlnv", "core_file", "write"]

#: the vendor and library of the VLNV
VENDOR = "dnnpress:cores"


def vlnv(module):
    """The VLNV of an emitted module: ``dnnpress:cores:<module>:<version>``."""
    return f"{VENDOR}:{module}:{__version__}"


def _q(text):
    """A YAML scalar (JSON strings are YAML)."""
    return json.dumps(text)


def core_file(c, values, module, verilog, waiver):
    """The text of the CAPI2 ``.core`` file of ``module`` (core ``c`` at ``values``), whose
    Verilog and waiver file are the names ``verilog`` and ``waiver``."""
    params = ", ".join(f"{k}={v}" for k, v in values.items())
    return "\n".join([
        "CAPI=2:",
        f"name: {vlnv(module)}",
        f"description: {_q(f'{c.doc} ({module}); emitted by dnnpress {__version__} at {params}')}",
        "",
        "filesets:",
        "  rtl:",
        "    files:",
        f"      - {_q(verilog)}",
        "    file_type: verilogSource",
        "  waiver:",
        "    files:",
        f"      - {_q(waiver)}",
        "    file_type: vlt",
        "",
        "targets:",
        "  default: &default",
        "    filesets: [rtl, waiver]",
        f"    toplevel: {module}",
        "  lint:",
        "    <<: *default",
        "    description: Verilator --lint-only -Wall with the shipped waiver",
        "    default_tool: verilator",
        "    tools:",
        "      verilator:",
        "        mode: lint-only",
        "        verilator_options: [-Wall]",
        "  synth:",
        "    <<: *default",
        "    description: Yosys synthesis for iCE40",
        "    default_tool: yosys",
        "    tools:",
        "      yosys:",
        "        arch: ice40",
        "",
    ])


def write(c, values, outdir, axis=False):
    """Emit core ``c`` at ``values`` into ``outdir`` (its AXI4-Stream top with ``axis``) with
    its waiver and ``.core`` file; return the paths written."""
    from .lint import WAIVER

    verilog = cores.emit(c, values, outdir, axis)
    module = cores.module(c, axis)
    waiver = outdir / f"{module}.vlt"
    # scoped to this file, so that the waiver never hides a warning in the integrator's code
    waiver.write_text(WAIVER.read_text().replace('-file "*"', f'-file "*{verilog.name}"'))
    core = outdir / f"{module}.core"
    core.write_text(core_file(c, values, module, verilog.name, waiver.name))
    return [verilog, waiver, core]
