"""The search space in Optuna's terms: the only place that calls ``trial.suggest_*``."""

from __future__ import annotations

from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from search.space.ranges import Choices, Fixed, FloatRange, IntRange, Param


def trial_seed(study_seed: int, trial_number: int) -> int:
    """A trial's Keras seed: the same study seed and trial number always give the same seed."""
    return (study_seed * 1_000_003 + trial_number) % 2**31


def suggest(trial: optuna.Trial, space: dict[str, Param]) -> dict[str, Any]:
    """One value per hyperparameter: sampled where ``space`` searches it, else the fixed one."""
    values: dict[str, Any] = {}
    for name, param in space.items():
        if isinstance(param, Fixed):
            values[name] = param.value
        elif isinstance(param, Choices):
            values[name] = trial.suggest_categorical(name, list(param.choices))
        elif isinstance(param, IntRange):
            values[name] = trial.suggest_int(name, param.low, param.high, log=param.log)
        elif isinstance(param, FloatRange):
            values[name] = trial.suggest_float(name, param.low, param.high, log=param.log)
    return values


def distributions(space: dict[str, Param]) -> dict[str, BaseDistribution]:
    """The Optuna distribution of every searched (not fixed) name."""
    result: dict[str, BaseDistribution] = {}
    for name, param in space.items():
        if isinstance(param, Choices):
            result[name] = CategoricalDistribution(list(param.choices))
        elif isinstance(param, IntRange):
            result[name] = IntDistribution(param.low, param.high, log=param.log)
        elif isinstance(param, FloatRange):
            result[name] = FloatDistribution(param.low, param.high, log=param.log)
    return result
