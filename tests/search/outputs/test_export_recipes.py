"""A study whose trials train with the opt-in recipes (batch normalization, shifts, flips, a
learning-rate schedule): recorded, tabled, exported as Keras and int8 LiteRT, and ensembled."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from models import trained_network
from models.lenet import MIRROR_MEAN
from search.config.study_file import load_config
from search.data.loading import load_dataset
from search.engine.runner import run_study
from search.outputs.export import ExportFormat, export_trial
from search.outputs.litert import LiteRTModel, accuracy
from search.outputs.tables import trials_output
from search.storage.artifacts import load_trial_model, open_artifact_store
from search.storage.trials import best_trial
from tests.helpers import accuracy_of, make_image_folder, write_study

RECIPE = {"batch_norm": 1, "shift": 2, "flip": 1}


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """(study, artifact store, data): two float32 trials of small networks with every recipe
    on and the schedule sampled; no ensemble (nor student) to wait for."""
    folder = tmp_path_factory.mktemp("recipes")
    make_image_folder(folder / "shapes")
    path = write_study(
        folder,
        name="recipes",
        data={"flips": True},  # a mirrored bar or ring is still one
        training={"precision": "float32"},
        ensemble={"size": 0},
        search_space={
            "conv1_channels": 4,
            "conv2_channels": 8,
            "dense_units": 8,
            "epochs": 2,
            **RECIPE,
            "lr_schedule": {"choices": ["cosine", "one_cycle"]},
        },
    )
    config = load_config(path)
    data = load_dataset(config.data)
    finished = run_study(config, data).study
    return finished, open_artifact_store(config.study.artifacts, create=False), data


def test_trials_record_and_table_their_recipe(study: tuple) -> None:
    finished, _, _ = study
    for trial in finished.trials:
        assert trial.state.name == "COMPLETE"
        assert trial.params["lr_schedule"] in ("cosine", "one_cycle")  # a name, sampled
        recorded = trial.user_attrs["hyperparameters"]
        assert {name: recorded[name] for name in RECIPE} == RECIPE
    header, first_row = trials_output(finished).splitlines()[:2]
    columns = header.split()
    assert columns[columns.index("bn") :][:6] == [
        "bn",
        "epochs",
        "batch",
        "lr",
        "schedule",
        "shift",
    ]
    assert columns[columns.index("shift") + 1] == "flip"
    first = finished.trials[0]
    cells = dict(zip(columns, first_row.split(), strict=False))
    assert (cells["bn"], cells["shift"], cells["flip"]) == ("1", "2", "1")
    assert cells["schedule"] == first.params["lr_schedule"]
    rows = json.loads(trials_output(finished, fmt="json"))
    assert rows[0]["params"]["lr_schedule"] == first.params["lr_schedule"]
    header, row = trials_output(finished, fmt="csv").splitlines()[:2]
    csv_row = dict(zip(header.split(","), row.split(","), strict=True))
    assert csv_row["lr_schedule"] == first.params["lr_schedule"]


def test_keras_export_keeps_batch_norm_and_reproduces_the_trial(
    study: tuple, tmp_path: Path
) -> None:
    finished, store, data = study
    card = export_trial(finished, store, tmp_path / "keras", validation=(data.x_val, data.y_val))
    model = keras.saving.load_model(tmp_path / "keras" / "model.keras")  # plain Keras loads it
    # Trained on mirrored images, it predicts from the image and its mirror: one network, twice.
    assert model.layers[-1].name == MIRROR_MEAN
    names = [layer.name for layer in trained_network(model).layers]
    assert names[:4] == ["conv1", "batch_norm1", "relu1", "pool1"]  # no augmentation layer
    assert card["param_count"] == model.count_params()
    val_accuracy = accuracy_of(model, data.x_val, data.y_val)
    assert val_accuracy == card["exported_validation_accuracy"] == best_trial(finished).value


def test_int8_litert_export_folds_batch_norm_in(study: tuple, tmp_path: Path) -> None:
    finished, store, data = study
    folder = tmp_path / "int8"
    int8 = ExportFormat("litert", "int8", data.x_train)
    card = export_trial(
        finished, store, folder, validation=(data.x_val, data.y_val), export_format=int8
    )
    litert = LiteRTModel(folder / "model.tflite")
    assert card["exported_validation_accuracy"] == accuracy(litert, data.x_val, data.y_val)
    # The quantized network predicts the classes the float one does, all but an image or two.
    best = best_trial(finished)
    float_model = load_trial_model(store, best.user_attrs["artifact_id"])
    expected = float_model.predict(data.x_val, verbose=0).argmax(axis=1)
    agreed = np.mean(litert.predict(data.x_val).argmax(axis=1) == expected)
    assert agreed >= 1 - 2 / len(data.y_val)


def test_an_ensemble_of_batch_normalized_trials_averages_them(study: tuple) -> None:
    from search.engine.ensemble import ensemble_model

    finished, store, data = study
    model = ensemble_model(finished, store, [0, 1])
    members = [model.get_layer(f"trial_{n}") for n in (0, 1)]
    assert all(
        "batch_norm1" in [layer.name for layer in trained_network(m).layers] for m in members
    )
    mean = np.mean([m.predict(data.x_val, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(model.predict(data.x_val, verbose=0), mean, atol=1e-6)
