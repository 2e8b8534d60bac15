"""The values a study file gives a hyperparameter: a range, a list of choices or one value."""

from __future__ import annotations

import json
from collections.abc import Mapping
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
    choices: tuple[int | float | str, ...]  # names only for a hyperparameter of names


@dataclass(frozen=True)
class Fixed:
    value: int | float | str


Param = IntRange | FloatRange | Choices | Fixed
KINDS: dict[str, type] = {kind.__name__: kind for kind in (IntRange, FloatRange, Choices, Fixed)}


def contains(param: Param, value: Any) -> bool:
    """Whether ``value`` is one that ``param`` can take (a warm start's configuration, say)."""
    if isinstance(param, IntRange | FloatRange):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        kind_ok = isinstance(value, int) if isinstance(param, IntRange) else True
        return number and kind_ok and param.low <= value <= param.high
    if isinstance(param, Choices):
        return value in param.choices
    return value == param.value


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


def largest(param: Param) -> int | float | str:
    """The largest value ``param`` can take (the pruners' maximum resource, for epochs)."""
    if isinstance(param, Choices):
        return max(param.choices)
    if isinstance(param, IntRange | FloatRange):
        return param.high
    return param.value


def configurations(space: Mapping[str, Param]) -> int | None:
    """How many distinct configurations ``space`` holds; None where a float range makes it
    unbounded."""
    total = 1
    for param in space.values():
        if isinstance(param, FloatRange):
            return None
        if isinstance(param, IntRange):
            total *= param.high - param.low + 1
        elif isinstance(param, Choices):
            total *= len(set(param.choices))
    return total


def repetition_warning(space: Mapping[str, Param], n_trials: int | None) -> str | None:
    """What a study file should be told when its trials must repeat configurations."""
    count = configurations(space)
    if count == 1:
        return (
            "[search_space] searches nothing (every hyperparameter is fixed): each trial trains "
            "the same network, with a seed of its own"
        )
    if count is not None and n_trials is not None and count < n_trials:
        return (
            f"[search_space] holds {count} configurations, fewer than the {n_trials} trials: "
            "some will be trained again, each time with a seed of its own"
        )
    return None
