"""The parameter space of the top components (hw.params) and the registry built from it."""

import inspect
import re

import pytest
from amaranth.lib import wiring

from dnnpress import cores
from hw.params import Param, parametrised


@pytest.mark.parametrize("name", list(cores.CORES))
def test_registry_reads_the_component(name):
    c = cores.core(name)
    signature = inspect.signature(c.component.__init__)
    assert [p.name for p in c.params] == [n for n in signature.parameters if n != "self"]
    for p in c.params:
        assert p.default == signature.parameters[p.name].default
        assert p.default in p.choices and p.doc
        assert f"{p.name} : int" in c.component.__doc__       # documented from PARAMS
    assert c.module == name.replace("-", "_") and c.doc


@pytest.mark.parametrize("name", list(cores.CORES))
def test_every_out_of_range_value_is_refused(name):
    c = cores.core(name)
    for p in c.params:
        bad = max(p.choices) + 1
        with pytest.raises(ValueError, match=rf"^{p.name} must be .*, not {bad}$"):
            c.component(**{**c.defaults(), p.name: bad})
        with pytest.raises(ValueError, match=rf"{p.name} must be one of .*, not {bad}$"):
            cores.resolve(c, [f"{p.name}={bad}"])


@pytest.mark.parametrize("text", ["0x10", "16.0", "1e1", "", "sixteen", "١٦"])
def test_values_are_decimal_integers_only(text):
    with pytest.raises(ValueError, match=re.escape(f"not {text!r} (decimal integers only)")):
        cores.resolve(cores.core("ebpc-encoder"), [f"word_bits={text}"])


def test_resolve_rules():
    c = cores.core("ebpc-encoder")
    assert cores.resolve(c, ["word_bits=16", " serial = 1"])["serial"] == 1
    with pytest.raises(ValueError, match="word_bits is set twice"):
        cores.resolve(c, ["word_bits=16", "word_bits=8"])
    with pytest.raises(ValueError, match="ebpc-encoder has no parameter 'G'; parameters: word_"):
        cores.resolve(c, ["G=4"])


def test_messages_name_what_is_allowed():
    assert Param("x", (8, 16), "d").allowed == "8, 16"
    assert Param("x", tuple(range(3, 9)), "d").allowed == "3..8"
    with pytest.raises(ValueError, match=r"^x must be in 3\.\.8, not 9$"):
        Param("x", tuple(range(3, 9)), "d").check(9)
    with pytest.raises(ValueError, match=r"^x must be one of 1, 2, 4, 8, not True$"):
        Param("x", (1, 2, 4, 8), "d").check(True)


def test_decorator_refuses_a_mismatch():
    with pytest.raises(TypeError, match=r"PARAMS \['a'\] do not match __init__ \['a', 'b'\]"):
        @parametrised
        class Bad(wiring.Component):
            PARAMS = (Param("a", (1, 2), "d"),)

            def __init__(self, a=1, b=2):
                super().__init__({})
    with pytest.raises(ValueError, match="a must be 1 or 2, not 3"):
        @parametrised
        class BadDefault(wiring.Component):
            PARAMS = (Param("a", (1, 2), "d"),)

            def __init__(self, a=3):
                super().__init__({})
