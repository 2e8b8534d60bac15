"""Every hyperparameter declared once, with the tutorial's values as defaults."""

import dataclasses

from models import LeNetArchitecture
from search.space.hyperparameters import (
    BY_NAME,
    HYPERPARAMETERS,
    LR_SCHEDULES,
    TrainingParams,
    architecture,
    training_params,
    worth_showing,
)


def test_every_field_of_the_model_and_the_training_is_a_hyperparameter_once() -> None:
    names = [hp.name for hp in HYPERPARAMETERS]
    model_fields = [f.name for f in dataclasses.fields(LeNetArchitecture)][2:]  # after shape
    training_fields = [f.name for f in dataclasses.fields(TrainingParams)]
    model_fields.remove("mirror")  # not searched: it follows flip
    assert sorted(names) == sorted(model_fields + training_fields)
    assert [architecture({"flip": flip}, (28, 28, 1), 10).mirror for flip in (0, 1)] == [0, 1]
    assert len({hp.label for hp in HYPERPARAMETERS}) == len(HYPERPARAMETERS)


def test_defaults_are_the_tutorials() -> None:
    defaults = {hp.name: hp.default for hp in HYPERPARAMETERS}
    assert defaults == {
        "conv1_channels": 16,
        "conv2_channels": 32,
        "dense_units": 32,
        "dropout_conv": 0.0,
        "dropout_dense": 0.0,
        "batch_norm": 0,
        "epochs": 10,
        "batch_size": 32,
        "learning_rate": 0.001,
        "lr_schedule": "constant",
        "shift": 0,
        "flip": 0,
    }


def test_a_hyperparameter_of_names_takes_its_names_alone() -> None:
    schedule = BY_NAME["lr_schedule"]
    assert schedule.kind is str
    assert [schedule.bounds.accepts(name) for name in LR_SCHEDULES] == [True, True, True]
    assert not schedule.bounds.accepts("linear")
    assert schedule.bounds.text == 'one of "constant", "cosine", "one_cycle"'


def test_values_split_into_the_network_and_its_training() -> None:
    values = {hp.name: hp.default for hp in HYPERPARAMETERS} | {"dense_units": 64, "epochs": 3}
    arch = architecture(values, (28, 28, 1), 10)
    assert arch == LeNetArchitecture((28, 28, 1), 10, dense_units=64)
    assert training_params(values) == TrainingParams(epochs=3)


def test_a_trial_recorded_before_a_hyperparameter_existed_trained_with_its_default() -> None:
    old = {"conv1_channels": 8, "conv2_channels": 8, "dense_units": 16, "epochs": 2}
    assert architecture(old, (28, 28, 1), 10) == LeNetArchitecture((28, 28, 1), 10, 8, 8, 16)
    assert training_params(old) == TrainingParams(epochs=2, lr_schedule="constant", shift=0)


def test_only_searched_or_changed_values_are_worth_showing() -> None:
    values = {hp.name: hp.default for hp in HYPERPARAMETERS} | {"batch_size": 64}
    assert worth_showing(values, searched={"conv1_channels"}) == {
        "conv1_channels": 16,
        "batch_size": 64,
    }
