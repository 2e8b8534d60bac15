"""Export: the model in float32, a SavedModel and a card; replacing only earlier exports."""

import json
import shutil
from pathlib import Path

import keras
import numpy as np
import optuna
import pytest
import tensorflow as tf

from search.config.study_file import load_config
from search.data.loading import load_dataset
from search.engine.runner import run_study
from search.errors import ExportError, StorageError
from search.outputs.export import export_trial
from search.outputs.predict import predict_images
from search.storage.artifacts import load_trial_model, open_artifact_store
from search.storage.records import stored_test_evaluation
from search.storage.trials import best_trial
from tests.helpers import accuracy_of, copy_of, run_here, stored_study, write_study


@pytest.fixture(scope="module")
def validation(finished_study: Path) -> tuple:
    data = load_dataset(load_config(finished_study / "tiny.toml").data)
    return data.x_val, data.y_val


@pytest.fixture(scope="module")
def exported(
    finished_study: Path, validation: tuple, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    study = stored_study(finished_study)
    store = open_artifact_store(finished_study / "tiny_artifacts", create=False)
    output = tmp_path_factory.mktemp("export") / "tiny"
    export_trial(study, store, output, validation=validation, storage_url="sqlite:///x.db")
    return output


def test_export_writes_model_savedmodel_and_card(exported: Path, finished_study: Path) -> None:
    assert sorted(p.name for p in exported.iterdir()) == [
        "model.keras",
        "model_card.json",
        "saved_model",
    ]
    card = json.loads((exported / "model_card.json").read_text())
    study = stored_study(finished_study)
    best = best_trial(study)
    assert card["trial"] == best.number
    assert card["validation_accuracy"] == best.value
    # Trained in float32 (the tiny study's CPU-independent "auto" may pick either: see below).
    assert card["training_precision"] == best.user_attrs["precision"]
    assert card["params"] == best.user_attrs["hyperparameters"]
    assert card["class_names"] == ["circle", "horizontal", "vertical"]
    assert card["input_shape"] == [28, 28, 1]
    assert card["preprocessing"]["color_mode"] == "grayscale"
    assert card["test_accuracy"] == stored_test_evaluation(study, best.number).accuracy
    assert set(card["versions"]) == {
        "lenet-search",
        "tensorflow",
        "keras",
        "optuna",
        "numpy",
        "ai-edge-litert",
    }
    assert card["storage"] == "sqlite:///x.db"


def test_exported_model_reproduces_the_trial_value(exported: Path, finished_study: Path) -> None:
    config = load_config(finished_study / "tiny.toml")
    data = load_dataset(config.data)
    model = keras.saving.load_model(exported / "model.keras")
    accuracy = accuracy_of(model, data.x_val, data.y_val)
    card = json.loads((exported / "model_card.json").read_text())
    assert accuracy == card["exported_validation_accuracy"]  # to the last bit
    if card["training_precision"] == "float32":
        assert accuracy == card["validation_accuracy"]  # the trial's own value, too
    # The SavedModel for serving computes the same probabilities.
    served = tf.saved_model.load(str(exported / "saved_model"))
    np.testing.assert_allclose(
        served.serve(data.x_val).numpy(), model.predict(data.x_val, verbose=0), atol=1e-5
    )


def test_export_replaces_only_an_earlier_export_and_only_when_forced(
    finished_study: Path, exported: Path, validation: tuple, tmp_path: Path
) -> None:
    study = stored_study(finished_study)
    store = open_artifact_store(finished_study / "tiny_artifacts", create=False)
    output = Path(shutil.copytree(exported, tmp_path / "earlier"))
    (output / "stale.txt").write_text("from before")
    with pytest.raises(ExportError) as error:
        export_trial(study, store, output, validation=validation)
    assert str(error.value) == f"{output} already exists; pass --force to replace it"
    assert (output / "stale.txt").is_file()
    export_trial(study, store, output, validation=validation, force=True)
    assert (output / "model.keras").is_file() and not (output / "stale.txt").exists()

    other = tmp_path / "mine"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(ExportError) as error:
        export_trial(study, store, other, validation=validation, force=True)
    assert str(error.value) == (
        f"{other} is not an earlier export (it has no model_card.json); "
        "not replacing it, even with --force"
    )
    assert (other / "keep.txt").read_text() == "mine"


def test_export_before_any_complete_trial(tmp_path: Path, validation: tuple) -> None:
    study = optuna.create_study(study_name="empty", storage=f"sqlite:///{tmp_path}/e.db")
    store = open_artifact_store(tmp_path / "artifacts", create=True)
    with pytest.raises(StorageError) as error:
        export_trial(study, store, tmp_path / "out", validation=validation)
    assert str(error.value) == 'study "empty" has no complete trial yet; nothing to export'
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_bfloat16_trained_export_reproduces_its_trial_value(
    tmp_path: Path, image_folder: Path, capsys: pytest.CaptureFixture
) -> None:
    path = write_study(
        tmp_path,
        n_trials=1,
        training={"precision": "mixed_bfloat16"},
    )
    config = load_config(path)
    data = load_dataset(config.data)
    study = run_study(config, data).study
    assert study.trials[0].user_attrs["precision"] == "mixed_bfloat16"
    store = open_artifact_store(config.study.artifacts, create=False)
    card = export_trial(study, store, tmp_path / "out", validation=(data.x_val, data.y_val))
    assert (card["training_precision"], card["validation_accuracy"]) == (
        "mixed_bfloat16",
        best_trial(study).value,
    )
    # The export computes in float32, layer by layer, with the trial's weights.
    model = keras.saving.load_model(tmp_path / "out" / "model.keras")
    assert {layer.compute_dtype for layer in model.layers} == {"float32"}
    trained = load_trial_model(store, best_trial(study).user_attrs["artifact_id"])
    assert trained.layers[0].compute_dtype == "bfloat16"
    for exported_weights, trained_weights in zip(
        model.get_weights(), trained.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(exported_weights, trained_weights)
    accuracy = accuracy_of(model, data.x_val, data.y_val)
    assert accuracy == card["exported_validation_accuracy"]
    served = tf.saved_model.load(str(tmp_path / "out" / "saved_model"))
    assert served.serve(data.x_val).dtype == tf.float32

    shown = run_here(capsys, "export", str(path), "--output", str(tmp_path / "by-cli"))
    assert shown.returncode == 0, shown.stderr
    assert (
        f"(validation accuracy {best_trial(study).value:.4f} as trained in mixed_bfloat16, "
        f"{card['exported_validation_accuracy']:.4f} as exported in float32, test accuracy "
    ) in shown.stdout
    [prediction] = predict_images(
        tmp_path / "out", [next((image_folder / "circle").glob("*.png"))]
    )
    assert abs(sum(p for _, p in prediction.top) - 1) < 1e-3  # all three classes, in float32


def test_export_of_another_complete_trial(
    finished_study: Path, validation: tuple, tmp_path: Path
) -> None:
    study = stored_study(finished_study)
    store = open_artifact_store(finished_study / "tiny_artifacts", create=False)
    [other] = [t for t in study.trials if t.number != best_trial(study).number]
    card = export_trial(
        study, store, tmp_path / "other", validation=validation, trial_number=other.number
    )
    assert card["trial"] == other.number and card["validation_accuracy"] == other.value
    assert card["params"]["dense_units"] == other.params["dense_units"]
    assert card["test_accuracy"] is None  # only the best trial's model met the test split


def test_export_of_a_trial_without_a_model_names_those_with_one(
    finished_study: Path, validation: tuple, tmp_path: Path
) -> None:
    folder = copy_of(finished_study, tmp_path)
    study = stored_study(folder)
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL))
    store = open_artifact_store(folder / "tiny_artifacts", create=False)
    for number, what in ((2, "is FAIL"), (7, "does not exist")):
        with pytest.raises(StorageError) as error:
            export_trial(
                study, store, tmp_path / "out", validation=validation, trial_number=number
            )
        assert str(error.value) == (
            f'--trial {number}: trial {number} of study "tiny" {what}; only COMPLETE trials '
            "keep a model: 0, 1"
        )


def test_export_refuses_data_unlike_the_studys(
    finished_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    folder = copy_of(finished_study, tmp_path)
    image = next((folder / "shapes" / "vertical").glob("*.png"))
    image.write_bytes((folder / "shapes" / "circle" / "0.png").read_bytes())
    result = run_here(
        capsys, "export", str(folder / "tiny.toml"), "--output", str(tmp_path / "out")
    )
    assert result.returncode == 2
    assert result.stderr == (
        'Error: the data of study "tiny" changed since the study was made: 1 file changed '
        f"(vertical/{image.name}); the export's validation accuracy would not be comparable\n"
    )
    assert not (tmp_path / "out").exists()
