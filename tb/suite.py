"""What each testbench module declares about itself, and where to find the modules and tests.

Every ``tb/*_tb.py`` declares at module level (importable without a simulator, see
:mod:`tb.preamble`):

``CORE``
    The core it simulates (a registered name, or a :class:`dnnpress.cores.Core`).
``PARAM_SETS``
    The parameter sets (over the core's defaults) on which ``make test`` runs each of its cocotb
    tests, unless ``RUNS`` says otherwise for a test.
``RUNS`` (optional)
    cocotb test name -> :class:`Run`: how ``make test`` runs that test instead.
``REGRESS`` (optional)
    cocotb test name -> :class:`Run`: the long runs of ``make regress``.
``BENCH`` (optional)
    A :class:`Bench`: what ``make bench`` measures; its test is run by the bench only.

``tests/test_cocotb.py`` turns these into one pytest item per (core, cocotb test, parameter
set) and proves that no ``@cocotb.test`` is left out; ``tb.bench`` reads the benches.
"""

import ast
import importlib
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from dnnpress import cores

__all__ = ["Bench", "Run", "TB", "modules", "cocotb_tests", "decorated_tests", "core_of",
           "other_sets"]

#: the folder of the testbench modules
TB = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Run:
    """How one cocotb test runs otherwise than on the module's ``PARAM_SETS``.

    Parameters
    ----------
    param_sets : tuple of dict, optional
        The parameter sets; ``None``: the module's ``PARAM_SETS``; empty: ``make test`` does not
        run the test (``elsewhere`` says what does).
    env : dict
        Extra environment variables of the simulation.
    shared : dict
        Environment variable -> file under ``../shared`` (:func:`dnnpress.paths.shared`) that
        the test reads. Without the file the item is skipped, saying which file is missing;
        with ``optional`` it runs without the variable first and is then skipped, saying what
        was not checked.
    optional : bool
        See ``shared``.
    imports : tuple of str
        Python modules the test needs (the item is skipped, naming them, where absent).
    label : str
        Appended to the pytest id (to tell a regression run from the ``make test`` one).
    elsewhere : str
        With empty ``param_sets``: what runs the test instead.
    axis : bool
        The test runs on the core's AXI4-Stream top (``<module>_axis``, :mod:`tb.axis`).
    """

    param_sets: tuple | None = None
    env: dict = field(default_factory=dict)
    shared: dict = field(default_factory=dict)
    optional: bool = False
    imports: tuple = ()
    label: str = ""
    elsewhere: str = ""
    axis: bool = False


@dataclass(frozen=True)
class Bench:
    """What ``make bench`` measures on a core: its ``test`` (default ``throughput``) on each
    parameter set, with the goal and, where measured, the EBPC authors' RTL figure per data kind
    (for the first parameter set, the core's defaults).

    Parameters
    ----------
    param_sets : tuple of dict
        Parameter sets over the core's defaults.
    goals : dict
        Data kind -> words/cycle wanted.
    source : str
        Where the goals and the authors' figures come from, in words.
    authors : dict
        Data kind -> words/cycle of the authors' RTL, measured the same way.
    test : str
        The cocotb test that measures (it writes rows to ``DNNPRESS_BENCH``).
    """

    param_sets: tuple
    goals: dict
    source: str
    authors: dict = field(default_factory=dict)
    test: str = "throughput"


def modules():
    """The testbench modules ``tb.*_tb``, imported, in name order."""
    return [importlib.import_module(f"tb.{p.stem}") for p in sorted(TB.glob("*_tb.py"))]


def core_of(module):
    """The :class:`dnnpress.cores.Core` a testbench module simulates."""
    return module.CORE if isinstance(module.CORE, cores.Core) else cores.core(module.CORE)


def other_sets(core, param_sets):
    """Every parameter set ``core`` (a registered name) offers, the product of its parameters'
    choices, that ``param_sets`` (overrides of its defaults) does not hold, as overrides of its
    defaults: for a ``REGRESS`` run that reaches every configuration a user can ask for."""
    c = cores.core(core)
    defaults = c.defaults()
    held = [{**defaults, **s} for s in param_sets]
    out = []
    for combo in itertools.product(*(p.choices for p in c.params)):
        values = dict(zip((p.name for p in c.params), combo))
        if values not in held:
            out.append({k: v for k, v in values.items() if v != defaults[k]})
    return tuple(out)


def cocotb_tests(module):
    """The cocotb tests of ``module`` by base name (a parametrised test is one name, as
    :func:`tb.runner.run` selects it), found as cocotb's regression manager finds them: the
    module's :class:`cocotb.regression.Test` and ``TestGenerator`` objects."""
    from cocotb.regression import Test, TestGenerator

    return [obj.name.partition("/")[0] for obj in vars(module).values()
            if isinstance(obj, TestGenerator | Test)]


def decorated_tests(module):
    """The names of the functions decorated ``@cocotb.test`` in the module's source, read with
    :mod:`ast` (independent of :func:`cocotb_tests`)."""
    tree = ast.parse(Path(module.__file__).read_text())

    def is_test(d):
        d = d.func if isinstance(d, ast.Call) else d
        return (isinstance(d, ast.Attribute) and d.attr == "test"
                and isinstance(d.value, ast.Name) and d.value.id == "cocotb")

    return [n.name for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            and any(is_test(d) for d in n.decorator_list)]
