"""Config dataclasses, described once: each field's type, range, choices, default and help.

Every config of aekit (the models', :class:`~aekit.train.TrainConfig`) is a dataclass whose
``__post_init__`` calls :func:`check_fields`. The field's annotation gives its type, an optional
:func:`param` gives its range or choices, and the class docstring's numpydoc ``Parameters``
section gives its help text (:func:`field_help`). The command line's flags, the TOML tables of a
run specification, the scikit-learn estimators' parameter constraints and all validation are
derived from this, so a value is checked by the same code whichever door it came through, and
a wrong one raises :class:`ConfigError` naming the field.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import numbers
import re
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import MISSING, asdict, dataclass, fields, is_dataclass
from functools import cache
from typing import Any

import numpy as np

_KEY = "aekit"
SCALARS = (bool, int, float, str)


def python_spelling(field: str, value: Any = MISSING) -> str:
    """How Python code spells a setting: ``model`` or ``model='vae'``."""
    return field if value is MISSING else f"{field}={value!r}"


class ConfigError(ValueError):
    """A setting holds a value it does not accept.

    ``str(err)`` reads ``"{Owner}.{field} {problem}"``, Python's spelling. The problem may
    mention other settings as ``{key}`` placeholders (``mentions`` maps each key to a
    ``(field, value)`` pair, or to a list of field names), so a door that spells settings
    differently (the command line's ``--model vae``, an estimator's ``max_epochs``) rewords the
    whole message with :meth:`spelled`.
    """

    def __init__(
        self, field: str, problem: str, owner: str = "", mentions: dict[str, Any] | None = None
    ) -> None:
        self.field, self.problem, self.owner = field, problem, owner
        self.mentions = mentions or {}
        head = f"{owner}.{field} " if owner and field else f"{field} " if field else ""
        super().__init__(f"{head}{self.problem_text(python_spelling)}")

    def problem_text(self, spell: Callable[..., str]) -> str:
        words = {}
        for key, mention in self.mentions.items():
            if isinstance(mention, list):
                words[key] = ", ".join(spell(name) for name in mention)
            else:
                words[key] = spell(*mention)
        return self.problem.format(**words) if words else self.problem

    def spelled(self, spell: Callable[..., str]) -> str:
        """The message with every setting spelled by ``spell(field[, value])``."""
        head = f"{spell(self.field)} " if self.field else ""
        return f"{head}{self.problem_text(spell)}"

    def named(self, name: str) -> str:
        return f"{name} {self.problem_text(python_spelling)}"


@dataclass(frozen=True)
class Bounds:
    """What a scalar field accepts beyond its type: an interval and/or a set of choices."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    choices: Sequence[str] | Callable[[], Sequence[str]] | None = None

    def choice_list(self) -> list[str] | None:
        if self.choices is None:
            return None
        return list(self.choices() if callable(self.choices) else self.choices)

    def describe(self) -> str:
        """The interval in words, e.g. ``">= 0"`` or ``"in (0, 1)"``."""
        lo = (
            ("[", self.ge)
            if self.ge is not None
            else ("(", self.gt)
            if self.gt is not None
            else None
        )
        hi = (
            ("]", self.le)
            if self.le is not None
            else (")", self.lt)
            if self.lt is not None
            else None
        )
        if lo and hi:
            return f"in {lo[0]}{_num(lo[1])}, {_num(hi[1])}{hi[0]}"
        if lo:
            return f"{'>=' if lo[0] == '[' else '>'} {_num(lo[1])}"
        if hi:
            return f"{'<=' if hi[0] == ']' else '<'} {_num(hi[1])}"
        return ""

    def contains(self, v: float) -> bool:
        return not (
            (self.ge is not None and v < self.ge)
            or (self.gt is not None and v <= self.gt)
            or (self.le is not None and v > self.le)
            or (self.lt is not None and v >= self.lt)
        )


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(v)


def param(
    default: Any = MISSING,
    *,
    default_factory: Any = MISSING,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: Sequence[str] | Callable[[], Sequence[str]] | None = None,
) -> Any:
    """A dataclass field with a range or a set of choices, checked by :func:`check_fields`."""
    meta = {_KEY: Bounds(ge=ge, gt=gt, le=le, lt=lt, choices=choices)}
    if default_factory is not MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class FieldSpec:
    """One config field as every door sees it."""

    name: str
    kind: type | None  # bool, int, float or str; None for structured fields (lists, tuples)
    optional: bool  # None is a valid value
    default: Any
    bounds: Bounds
    help: str

    def describe(self) -> str:
        """What the field accepts, in words (for help texts and errors)."""
        parts = []
        if self.kind is not None:
            parts.append(
                {bool: "true or false", int: "an integer", float: "a number", str: "a string"}[
                    self.kind
                ]
            )
        if self.bounds.describe():
            parts.append(self.bounds.describe())
        choices = self.bounds.choice_list()
        if choices is not None:
            parts = [f"one of {choices}"]
        text = " ".join(parts)
        return f"{text} or None" if self.optional and text else text


def _scalar_kind(hint: Any) -> tuple[type | None, bool]:
    """``float | None`` -> ``(float, True)``; a list or tuple type -> ``(None, ...)``."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        optional = type(None) in args
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and rest[0] in SCALARS:
            return rest[0], optional
        return None, optional
    return (hint if hint in SCALARS else None), False


def field_specs(cls: type) -> dict[str, FieldSpec]:
    """Every field of config dataclass ``cls``, in order, with its type, bounds and help."""
    # Through a plain function: mypy takes a type[Any] argument for unhashable, a cache key.
    return _field_specs(cls)


@cache
def _field_specs(cls: type) -> dict[str, FieldSpec]:
    hints = typing.get_type_hints(cls)
    helps = field_help(cls)
    out = {}
    for f in fields(cls):
        kind, optional = _scalar_kind(hints[f.name])
        if f.default is not MISSING:
            default = f.default
        elif f.default_factory is not MISSING:
            default = f.default_factory()
        else:
            default = MISSING
        out[f.name] = FieldSpec(
            f.name, kind, optional, default, f.metadata.get(_KEY, Bounds()), helps.get(f.name, "")
        )
    return out


def field_help(cls: type) -> dict[str, str]:
    """Help text of each field, read from the numpydoc ``Parameters`` section of ``cls``'s
    docstring (``a, b : type`` documents both), RST markup removed: the one place it is
    written."""
    doc = inspect.getdoc(cls) or ""
    m = re.search(r"^Parameters\n-+\n(.*?)(?:^\S.*\n-+\n|\Z)", doc, re.S | re.M)
    if not m:
        return {}
    out: dict[str, str] = {}
    names: list[str] = []
    lines: list[str] = []

    def flush() -> None:
        text = " ".join(" ".join(lines).split())
        text = re.sub(r"``([^`]*)``", r"\1", text)
        text = re.sub(r":\w+:`~?([^`]*)`", r"\1", text)
        for n in names:
            out[n] = text

    for line in m.group(1).splitlines():
        if line and not line[0].isspace():
            flush()
            names = [n.strip() for n in line.split(":")[0].split(",")]
            lines = []
        elif line.strip():
            lines.append(line.strip())
    flush()
    return out


class ConfigTypeError(ConfigError, TypeError):
    """A config field holds a value of the wrong type (a string where a flag goes)."""


def _fail(config: Any, name: str, spec: FieldSpec, value: Any) -> ConfigError:
    wrong_type = spec.kind is not None and (
        (spec.kind is bool and not isinstance(value, bool | np.bool_))
        or (spec.kind is str and not isinstance(value, str))
        or (
            spec.kind in (int, float)
            and (isinstance(value, bool) or not isinstance(value, numbers.Real))
        )
        or (spec.kind is int and not isinstance(value, numbers.Integral))
    )
    cls = ConfigTypeError if wrong_type else ConfigError
    return cls(name, f"must be {spec.describe()}, got {value!r}", type(config).__name__)


def check_value(config: Any, spec: FieldSpec, value: Any) -> Any:
    """``value`` as field ``spec`` stores it (numpy scalars made plain), or a ConfigError."""
    if spec.kind is None or (value is None and spec.optional):
        return value
    if spec.kind is bool:
        if not isinstance(value, bool | np.bool_):
            # tied = "no" in a TOML file is a non-empty string, truthy: never guess.
            raise _fail(config, spec.name, spec, value)
        return bool(value)
    if spec.kind is str:
        if not isinstance(value, str):
            raise _fail(config, spec.name, spec, value)
        choices = spec.bounds.choice_list()
        if choices is not None and value not in choices:
            raise ConfigError(
                spec.name,
                f"must be one of {choices}, got {value!r}: an unknown "
                f"{spec.name.replace('_', ' ')}",
                type(config).__name__,
            )
        return value
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise _fail(config, spec.name, spec, value)
    if spec.kind is int:
        if not isinstance(value, numbers.Integral):
            raise _fail(config, spec.name, spec, value)
        value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):  # NaN slips through every comparison; say it by name
            raise _fail(config, spec.name, spec, value)
    if not spec.bounds.contains(value):
        raise _fail(config, spec.name, spec, value)
    return value


def check_fields(config: Any) -> None:
    """Check every scalar field of dataclass ``config`` against its type and bounds (and store
    numpy scalars as plain Python values, so the config is JSON-ready). Raises ConfigError."""
    for name, spec in field_specs(type(config)).items():
        value = getattr(config, name)
        checked = check_value(config, spec, value)
        if checked is not value:
            object.__setattr__(config, name, checked)  # also when frozen


# The old name: every model's __post_init__ called it for its bool fields.
check_flags = check_fields


def config_to_dict(config: Any) -> dict[str, Any]:
    """A dataclass config as a JSON-ready dict."""
    assert is_dataclass(config) and not isinstance(config, type)  # an instance, not its class
    return asdict(config)


def config_from_dict(cls: type, data: dict[str, Any]):
    """Build dataclass ``cls`` from ``data``, rejecting unknown keys with a clear message."""
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__} settings must be a table of keys, got {data!r}")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys {unknown}; known keys: {sorted(names)}")
    return cls(**data)
