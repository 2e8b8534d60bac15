"""Every hyperparameter a trial can vary, declared once.

A hyperparameter's type and default (the tutorial's value) are those of the dataclass field that
takes it: ``LeNetArchitecture`` (models/) for the network, ``TrainingParams`` below for the
training. ``HYPERPARAMETERS`` adds what the search needs: the short label of progress lines and
tables, the values that are valid, and whether ``[training]`` may fix it. The study-file parser,
``space.suggest``, the progress lines and the trials table all read this one table, so a new
hyperparameter is a dataclass field, a row here and the code that uses it.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from models.architecture import LeNetArchitecture

Value = int | float | str

# How the learning rate moves over a trial's steps (engine.schedule builds each).
LR_SCHEDULES = ("constant", "cosine", "one_cycle")


@dataclass(frozen=True)
class TrainingParams:
    """How one trial trains; the defaults are the tutorial's (no schedule, no augmentation)."""

    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 0.001  # Adam's default; the peak of a schedule
    lr_schedule: str = "constant"  # one of LR_SCHEDULES
    shift: int = 0  # training images shifted at random by up to this many pixels each way
    flip: int = 0  # 1: training images mirrored left-right at random (where [data] flips allows)


@dataclass(frozen=True)
class Bounds:
    """The values a hyperparameter may take, and how to say so in an error."""

    accepts: Callable[[Value], bool]
    text: str


POSITIVE_INTEGER = Bounds(lambda v: v >= 1, "positive integers")
POSITIVE_NUMBER = Bounds(lambda v: 0 < v < math.inf, "positive numbers")
NON_NEGATIVE_INTEGER = Bounds(lambda v: v >= 0, "integers from 0 up")
RATE = Bounds(lambda v: 0 <= v < 1, "numbers from 0 up to, not including, 1")
SWITCH = Bounds(lambda v: v in (0, 1), "0 (off) or 1 (on)")


def names(valid: tuple[str, ...]) -> Bounds:
    """The bounds of a hyperparameter whose values are names, such as a schedule's."""
    return Bounds(lambda v: v in valid, "one of " + ", ".join(json.dumps(n) for n in valid))


@dataclass(frozen=True)
class Hyperparameter:
    name: str
    label: str  # short name in progress lines and tables
    owner: type  # the dataclass that takes it: LeNetArchitecture or TrainingParams
    bounds: Bounds
    fixable_in_training: bool = False  # may be set in [training] instead of [search_space]

    @property
    def default(self) -> Value:
        return self.owner.__dataclass_fields__[self.name].default

    @property
    def kind(self) -> type:
        """``int``, ``float`` or ``str`` (a name among ``bounds``), the type of the default."""
        return type(self.default)


HYPERPARAMETERS: tuple[Hyperparameter, ...] = (
    Hyperparameter("conv1_channels", "conv1", LeNetArchitecture, POSITIVE_INTEGER),
    Hyperparameter("conv2_channels", "conv2", LeNetArchitecture, POSITIVE_INTEGER),
    Hyperparameter("dense_units", "dense", LeNetArchitecture, POSITIVE_INTEGER),
    Hyperparameter("dropout_conv", "drop_conv", LeNetArchitecture, RATE),
    Hyperparameter("dropout_dense", "drop_dense", LeNetArchitecture, RATE),
    Hyperparameter("batch_norm", "bn", LeNetArchitecture, SWITCH),
    Hyperparameter("epochs", "epochs", TrainingParams, POSITIVE_INTEGER),
    Hyperparameter("batch_size", "batch", TrainingParams, POSITIVE_INTEGER, True),
    Hyperparameter("learning_rate", "lr", TrainingParams, POSITIVE_NUMBER, True),
    Hyperparameter("lr_schedule", "schedule", TrainingParams, names(LR_SCHEDULES)),
    Hyperparameter("shift", "shift", TrainingParams, NON_NEGATIVE_INTEGER),
    Hyperparameter("flip", "flip", TrainingParams, SWITCH),
)
BY_NAME: Mapping[str, Hyperparameter] = {hp.name: hp for hp in HYPERPARAMETERS}


def label(name: str) -> str:
    """The short label of a hyperparameter (the name itself for names not in the table)."""
    return BY_NAME[name].label if name in BY_NAME else name


def worth_showing(values: Mapping[str, Value], searched: Collection[str]) -> dict[str, Value]:
    """The values a reader needs: those searched, and fixed ones away from the tutorial's."""
    return {
        name: value
        for name, value in values.items()
        if name in searched or name not in BY_NAME or value != BY_NAME[name].default
    }


def architecture(
    values: Mapping[str, Value], input_shape: tuple[int, int, int], n_classes: int
) -> LeNetArchitecture:
    """The network that ``values`` (one value per hyperparameter) describe for this data: one
    trained on mirrored images also predicts from the mirror image (``mirror``), since both
    views then help; one not, not (measured: 85% against 92% on Fashion-MNIST)."""
    return LeNetArchitecture(
        input_shape, n_classes, mirror=mirrors(values), **_owned_by(LeNetArchitecture, values)
    )


def mirrors(values: Mapping[str, Value]) -> int:
    """1 where the network ``values`` describe predicts from the image and its mirror image too
    (it trained on mirrored images), else 0."""
    return training_params(values).flip


def training_params(values: Mapping[str, Value]) -> TrainingParams:
    return TrainingParams(**_owned_by(TrainingParams, values))


def _owned_by(owner: type, values: Mapping[str, Value]) -> dict[str, Any]:
    # A name missing from ``values`` takes the dataclass's default: a trial recorded before
    # that hyperparameter existed trained with the tutorial's value.
    return {
        hp.name: values[hp.name]
        for hp in HYPERPARAMETERS
        if hp.owner is owner and hp.name in values
    }


def _check_owners_match_the_table() -> None:
    # Fail at import, not mid-study, if a row names a field its dataclass does not have.
    for hp in HYPERPARAMETERS:
        fields = {f.name for f in dataclasses.fields(hp.owner)}
        assert hp.name in fields, f"{hp.owner.__name__} has no field {hp.name}"
        assert hp.kind in (int, float, str), f"{hp.name}: default must be an int, float or str"
        assert hp.bounds.accepts(hp.default), f"{hp.name}: its default is out of its bounds"


_check_owners_match_the_table()
