"""cocotb testbenches of the cores (``tb/*_tb.py``): emitted Verilog in Icarus against the golden
models. The items come from the testbench modules themselves (:mod:`tb.suite`): one pytest item
per (core, cocotb test, parameter set), so pytest-xdist spreads them; ``make regress`` adds each
module's ``REGRESS`` runs. :func:`test_every_cocotb_test_is_collected` proves none is left out.
"""

import importlib.util

import pytest

from dnnpress.paths import shared
from hw.params import label
from tb import suite
from tb.runner import run

MODULES = suite.modules()


def _items(regress):
    """``pytest.param(module, test, params, how)`` per item; ``how``: a :class:`tb.suite.Run`."""
    out = []
    for m in MODULES:
        core = suite.core_of(m).name
        runs = getattr(m, "REGRESS", {}) if regress else getattr(m, "RUNS", {})
        bench = getattr(m, "BENCH", None)
        for test in suite.cocotb_tests(m):
            if regress and test not in runs or bench and test == bench.test:
                continue
            how = runs.get(test, suite.Run())
            sets = m.PARAM_SETS if how.param_sets is None else how.param_sets
            for params in sets:
                tail = f"-{how.label}" if how.label else ""
                out.append(pytest.param(m.__name__, test, params, how,
                                        id=f"{core}-{test}-{label(params)}{tail}"))
    return out


def _simulate(module, test, params, how):
    missing = [name for name in how.imports if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed: `make eval` installs it")
    env, unchecked = dict(how.env), None
    for var, path in how.shared.items():
        try:
            env[var] = str(shared(path))
        except FileNotFoundError as exc:
            if not how.optional:
                pytest.skip(str(exc))
            unchecked = exc
    run(suite.core_of(importlib.import_module(module)), module, params, select=rf"\.{test}\b",
        extra_env=env, axis=how.axis)
    if unchecked:
        pytest.skip(f"{test} passed without the shared data; not checked: {unchecked}")


@pytest.mark.sim
@pytest.mark.parametrize("module,test,params,how", _items(regress=False))
def test_cocotb(module, test, params, how):
    _simulate(module, test, params, how)


@pytest.mark.sim
@pytest.mark.regress
@pytest.mark.parametrize("module,test,params,how", _items(regress=True))
def test_cocotb_regress(module, test, params, how):
    _simulate(module, test, params, how)


def test_every_cocotb_test_is_collected():
    """Every function decorated ``@cocotb.test`` in every testbench module (read from the source
    with :mod:`ast`) is found as cocotb finds it, and is a ``make test`` item on at least one
    parameter set, or is the module's bench test, or says what runs it instead; every ``RUNS``
    and ``REGRESS`` entry names a test of its module."""
    collected = {(p.values[0], p.values[1]) for p in _items(regress=False)}
    assert {m.__name__ for m in MODULES} == {f"tb.{p.stem}" for p in suite.TB.glob("*_tb.py")}
    for m in MODULES:
        decorated = suite.decorated_tests(m)
        assert decorated, f"{m.__name__}: no @cocotb.test"
        assert sorted(suite.cocotb_tests(m)) == sorted(decorated), m.__name__
        bench = getattr(m, "BENCH", None)
        runs = getattr(m, "RUNS", {})
        for test in decorated:
            elsewhere = runs[test].elsewhere if test in runs else ""
            assert ((m.__name__, test) in collected or (bench and test == bench.test)
                    or elsewhere), f"{m.__name__}.{test} is never run"
        for test in [*runs, *getattr(m, "REGRESS", {})]:
            assert test in decorated, f"{m.__name__}: RUNS / REGRESS name no test {test!r}"
        if bench:
            assert bench.test in decorated, f"{m.__name__}: no bench test {bench.test!r}"
