"""The values a study file gives a hyperparameter: a range, a list of choices or one value."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class IntRange:
    low: int
    high: int
    log: bool = False


@dataclass(frozen=True)
class FloatRange:
    low: float
    high: float
    log: bool = False


@dataclass(frozen=True)
class Choices:
    choices: tuple[int | float, ...]


@dataclass(frozen=True)
class Fixed:
    value: int | float


Param = IntRange | FloatRange | Choices | Fixed
KINDS: dict[str, type] = {kind.__name__: kind for kind in (IntRange, FloatRange, Choices, Fixed)}


def describe(param: Param) -> str:
    """The values as people read them: "2 to 8, log scale", "one of 8, 16", "32 (fixed)"."""
    if isinstance(param, IntRange | FloatRange):
        return f"{param.low} to {param.high}{', log scale' if param.log else ''}"
    if isinstance(param, Choices):
        return "one of " + ", ".join(json.dumps(choice) for choice in param.choices)
    return f"{param.value} (fixed)"


def from_toml(value: Any) -> Param | None:
    """The Param a study file's ``[search_space]`` entry as written means, or None when the
    value is not a range or a list of choices (the parser has checked it already)."""
    if isinstance(value, dict) and set(value) == {"choices"}:
        return Choices(tuple(value["choices"]))
    if isinstance(value, dict) and {"low", "high"} <= set(value) <= {"low", "high", "log"}:
        ints = all(isinstance(value[key], int) for key in ("low", "high"))
        kind = IntRange if ints else FloatRange
        return kind(value["low"], value["high"], bool(value.get("log", False)))
    return None


def largest(param: Param) -> int | float:
    """The largest value ``param`` can take (the pruners' maximum resource, for epochs)."""
    if isinstance(param, Choices):
        return max(param.choices)
    if isinstance(param, IntRange | FloatRange):
        return param.high
    return param.value
