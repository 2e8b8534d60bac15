"""A study file's ``[search_space]``: each hyperparameter a range, a list of choices or one
value, checked against the hyperparameter table; and the size budget beside them.

Part of reading a study file (``study_file.load_config``); every error names the file and key.
"""

from __future__ import annotations

import math
from typing import Any

from search.config.reader import Table, show
from search.config.settings import BUDGET_KEYS, DataSettings, SizeBudget
from search.errors import ConfigError
from search.space.hyperparameters import HYPERPARAMETERS, Hyperparameter
from search.space.ranges import Choices, Fixed, FloatRange, IntRange, Param, largest


def read_search_space(table: Table, training: Table) -> dict[str, Param]:
    """Every hyperparameter: what [search_space] (or [training], for those it may fix) gives
    it, else its default."""
    space: dict[str, Param] = {}
    for hp in HYPERPARAMETERS:
        in_training = hp.fixable_in_training and training.has(hp.name)
        if table.has(hp.name) and in_training:
            raise ConfigError(
                f"{table.where(hp.name)} is also set in [training]; keep it in one of the two"
            )
        if in_training:
            space[hp.name] = Fixed(_fixed(training, hp))
        elif table.has(hp.name):
            space[hp.name] = _param(table, hp)
        else:
            space[hp.name] = Fixed(hp.default)
    table.reject_unknown((*(hp.name for hp in HYPERPARAMETERS), *BUDGET_KEYS))
    return space


def read_budget(table: Table) -> SizeBudget:
    """[search_space]'s size budget: max_params and max_mflops, either or both."""
    max_mflops = table.get("max_mflops", float)
    if max_mflops is not None and not 0 < max_mflops < math.inf:
        raise ConfigError(
            f"{table.where('max_mflops')} must be a positive number, got {max_mflops}"
        )
    return SizeBudget(table.positive_int("max_params"), max_mflops)


def check_flips(table: Table, flip: Param, data: DataSettings) -> None:
    """Refuse mirrored training images unless [data] says a mirrored image keeps its class."""
    if largest(flip) and not data.flips:
        raise ConfigError(
            f"{table.where('flip')} = {show(table.raw['flip'])} mirrors training images, but "
            "[data] flips is not true: set flips = true in [data] if a mirrored image keeps "
            "its class, or flip = 0"
        )


def _fixed(table: Table, hp: Hyperparameter) -> int | float | str:
    value = table.take(hp.name)
    _check_value(table.where(hp.name), value, hp)
    return float(value) if hp.kind is float else value


def _param(table: Table, hp: Hyperparameter) -> Param:
    raw = table.take(hp.name)
    where = table.where(hp.name)
    if not isinstance(raw, dict):
        return Fixed(_fixed(table, hp))
    spec = Table(raw, table.path, f"search_space.{hp.name}")
    if hp.kind is str and "choices" not in raw:
        raise ConfigError(
            f"{where} takes a name or {{ choices = [...] }} of names, each {hp.bounds.text}; "
            f"names have no low and high, got {show(raw)}"
        )
    if "choices" in raw:
        choices = spec.get("choices", list)
        if not choices:
            raise ConfigError(f"{where}: choices must not be empty")
        for value in choices:
            _check_value(where, value, hp)
        spec.reject_unknown(("choices",))
        return Choices(tuple(choices))
    if "low" not in raw or "high" not in raw:
        raise ConfigError(
            f"{where} must be a number, {{ low = ..., high = ..., log = ... }} "
            f"or {{ choices = [...] }}, got {show(raw)}"
        )
    low, high = spec.get("low", hp.kind), spec.get("high", hp.kind)
    log = spec.get("log", bool, False)
    spec.reject_unknown(("low", "high", "log"))
    _check_value(where, low, hp)
    _check_value(where, high, hp)
    if low > high:
        raise ConfigError(f"{where} is an empty range: low = {low} > high = {high}")
    if log and low <= 0:
        raise ConfigError(f"{where}: a log range needs low > 0, got low = {low}")
    return IntRange(low, high, log) if hp.kind is int else FloatRange(low, high, log)


def _check_value(where: str, value: Any, hp: Hyperparameter) -> None:
    if hp.kind is str:
        if not isinstance(value, str) or not hp.bounds.accepts(value):
            raise ConfigError(f"{where} takes {hp.bounds.text}, got {show(value)}")
        return
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if hp.kind is int and not (isinstance(value, int) and not isinstance(value, bool)):
        raise ConfigError(f"{where} takes integers, got {show(value)}")
    if not is_number or math.isnan(value) or not hp.bounds.accepts(value):
        raise ConfigError(f"{where} takes {hp.bounds.text}, got {show(value)}")
