"""Every hyperparameter declared once, with the tutorial's values as defaults."""

import dataclasses

from models import LeNetArchitecture
from search.space.hyperparameters import (
    HYPERPARAMETERS,
    TrainingParams,
    architecture,
    training_params,
    worth_showing,
)


def test_every_field_of_the_model_and_the_training_is_a_hyperparameter_once() -> None:
    names = [hp.name for hp in HYPERPARAMETERS]
    model_fields = [f.name for f in dataclasses.fields(LeNetArchitecture)][2:]  # after shape
    training_fields = [f.name for f in dataclasses.fields(TrainingParams)]
    assert sorted(names) == sorted(model_fields + training_fields)
    assert len({hp.label for hp in HYPERPARAMETERS}) == len(HYPERPARAMETERS)


def test_defaults_are_the_tutorials() -> None:
    defaults = {hp.name: hp.default for hp in HYPERPARAMETERS}
    assert defaults == {
        "conv1_channels": 16,
        "conv2_channels": 32,
        "dense_units": 32,
        "dropout_conv": 0.0,
        "dropout_dense": 0.0,
        "epochs": 10,
        "batch_size": 32,
        "learning_rate": 0.001,
    }


def test_values_split_into_the_network_and_its_training() -> None:
    values = {hp.name: hp.default for hp in HYPERPARAMETERS} | {"dense_units": 64, "epochs": 3}
    arch = architecture(values, (28, 28, 1), 10)
    assert arch == LeNetArchitecture((28, 28, 1), 10, dense_units=64)
    assert training_params(values) == TrainingParams(epochs=3)


def test_only_searched_or_changed_values_are_worth_showing() -> None:
    values = {hp.name: hp.default for hp in HYPERPARAMETERS} | {"batch_size": 64}
    assert worth_showing(values, searched={"conv1_channels"}) == {
        "conv1_channels": 16,
        "batch_size": 64,
    }
