"""Elaboration parameters of the top components: declared once, validated by one function.

Every top component (one per core of :mod:`dnnpress.cores`) declares its parameter space as a
class attribute ``PARAMS``, a tuple of :class:`Param` (name, allowed values, one line of
meaning), decorated with :func:`parametrised`. The decorator reads each default from the
component's ``__init__`` signature (so a default is written once, where a Python user looks for
it), appends a numpydoc ``Parameters`` section to the class docstring, and makes every
construction call :func:`validate` first. The registry, the CLI (``dnnpress emit --list``), the
testbenches and the synthesis flow read ``PARAMS``; nothing restates the allowed values.

No Amaranth import here: listing the cores needs none.
"""

import functools
import inspect
from dataclasses import dataclass, replace

__all__ = ["Param", "parametrised", "validate", "parse", "label"]


def _run(values):
    return len(values) > 3 and values == list(range(values[0], values[-1] + 1))


def _shown(choices):
    """``8, 16`` or, for a run of consecutive integers, ``8..16``."""
    values = list(choices)
    return f"{values[0]}..{values[-1]}" if _run(values) else ", ".join(map(str, values))


def _phrase(choices):
    """What a value must be: ``8 or 16``, ``in 3..8`` or ``one of 1, 2, 4, 8``."""
    values = list(choices)
    if len(values) == 2:
        return f"{values[0]} or {values[1]}"
    return f"in {_shown(values)}" if _run(values) else f"one of {_shown(values)}"


@dataclass(frozen=True)
class Param:
    """An elaboration parameter: ``name``, allowed integer ``choices``, one line ``doc``; the
    ``default`` comes from the component's ``__init__`` (filled in by :func:`parametrised`)."""

    name: str
    choices: tuple
    doc: str
    default: int | None = None

    @property
    def allowed(self):
        """The allowed values as text: ``8, 16`` or ``8..16``."""
        return _shown(self.choices)

    def check(self, value):
        """``value`` if allowed; else ``ValueError`` saying what is allowed."""
        if isinstance(value, bool) or not isinstance(value, int) or value not in self.choices:
            raise ValueError(f"{self.name} must be {_phrase(self.choices)}, not {value!r}")
        return value

    def parse(self, text):
        """The value of ``text`` (command line): a decimal integer (``16``; not ``0x10``, not
        ``16.0``) among the choices; else ``ValueError`` saying what is allowed."""
        stripped = text.strip()
        digits = stripped.removeprefix("-")
        if not (digits.isascii() and digits.isdigit()):
            raise ValueError(f"{self.name} must be one of {self.allowed}, not {text!r} "
                             f"(decimal integers only)")
        value = int(stripped)
        if value not in self.choices:
            raise ValueError(f"{self.name} must be one of {self.allowed}, not {value}")
        return value


def validate(params, values):
    """Check ``values`` (a mapping name -> value, extra names ignored) against ``params``;
    ``ValueError`` for the first value that is not allowed. Returns the checked values."""
    return {p.name: p.check(values[p.name]) for p in params}


def parse(params, settings, owner="the core"):
    """Values of ``params`` (of ``owner``) from ``NAME=VALUE`` strings over their defaults.

    ``ValueError`` (one line, saying what is allowed) for an item without ``=``, an unknown
    name, a name given twice, or a value that is not allowed.
    """
    values = {p.name: p.default for p in params}
    by_name = {p.name: p for p in params}
    seen = set()
    for item in settings:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep:
            raise ValueError(f"--set takes NAME=VALUE, not {item!r}")
        if name not in by_name:
            known = ", ".join(by_name) or "none"
            raise ValueError(f"{owner} has no parameter {name!r}; parameters: {known}")
        if name in seen:
            raise ValueError(f"{name} is set twice; give each parameter once")
        seen.add(name)
        values[name] = by_name[name].parse(text)
    return values


def label(values, empty="defaults"):
    """``NAME=VALUE,...`` of a parameter mapping (as ``--set`` takes them), or ``empty`` for
    none: how testbench items, benchmarks and synthesis configurations name a parameter set."""
    return ",".join(f"{k}={v}" for k, v in values.items()) or empty


def _parameters_section(params):
    lines = ["", "Parameters", "----------"]
    for p in params:
        lines += [f"{p.name} : int", f"    {p.allowed} (default {p.default}): {p.doc}."]
    return "\n".join(lines) + "\n"


def parametrised(cls):
    """Class decorator of a top component with a ``PARAMS`` tuple (see the module docstring).

    Fills in each :class:`Param`'s default from ``cls.__init__``, appends the ``Parameters``
    section to the docstring and validates every construction. ``TypeError`` at import time
    when ``PARAMS`` and the ``__init__`` signature disagree.
    """
    init = cls.__init__
    signature = inspect.signature(init)
    names = [n for n in signature.parameters if n != "self"]
    declared = [p.name for p in cls.PARAMS]
    if names != declared:
        raise TypeError(f"{cls.__name__}: PARAMS {declared} do not match __init__ {names}")
    cls.PARAMS = tuple(replace(p, default=p.check(signature.parameters[p.name].default))
                       for p in cls.PARAMS)

    @functools.wraps(init)
    def checked_init(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        validate(cls.PARAMS, bound.arguments)
        init(self, *args, **kwargs)

    cls.__init__ = checked_init
    doc = inspect.cleandoc(cls.__doc__ or cls.__name__)
    head, sep, rest = doc.partition("\nMembers\n-------")
    doc = head.rstrip() + "\n" + _parameters_section(cls.PARAMS) + (sep + rest if sep else "")
    cls.__doc__ = "\n".join(("    " + line).rstrip() for line in doc.splitlines()).lstrip()
    return cls
