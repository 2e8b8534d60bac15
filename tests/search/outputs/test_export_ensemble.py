"""`export --ensemble`: one Keras model averaging the members, reloaded and re-evaluated to the
values the run stored, and read by `predict` like any export."""

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from search.config.study_file import load_config
from search.data.loading import load_dataset
from search.errors import StorageError
from search.outputs.export import export_ensemble
from search.outputs.predict import predict_images
from search.storage.artifacts import open_artifact_store
from search.storage.records import latest_ensemble_evaluation
from tests.helpers import accuracy_of, ensembled_study, run_here


def test_the_exported_ensemble_reloads_and_scores_what_the_run_stored(
    finished_study: Path, tmp_path: Path
) -> None:
    study, folder = ensembled_study(finished_study, tmp_path)
    store = open_artifact_store(folder / "tiny_artifacts", create=False)
    data = load_dataset(load_config(folder / "tiny.toml").data)
    output = tmp_path / "ensemble"
    card = export_ensemble(study, store, output, validation=(data.x_val, data.y_val))
    stored = latest_ensemble_evaluation(study)
    assert [m["trial"] for m in card["ensemble"]["members"]] == stored.members
    assert [m["weight"] for m in card["ensemble"]["members"]] == stored.weights
    assert (card["param_count"], card["flops"]) == (stored.param_count, stored.flops)
    assert card["validation_accuracy"] == card["exported_validation_accuracy"]
    assert json.loads((output / "model_card.json").read_text())["test_accuracy"] == (
        stored.test_accuracy
    )

    model = keras.saving.load_model(output / "model.keras")
    assert {layer.compute_dtype for layer in model.layers} == {"float32"}
    val_accuracy = accuracy_of(model, data.x_val, data.y_val)
    test_accuracy = accuracy_of(model, data.x_test, data.y_test)
    assert (val_accuracy, test_accuracy) == (stored.val_accuracy, stored.test_accuracy)
    served = tf.saved_model.load(str(output / "saved_model"))
    np.testing.assert_allclose(
        served.serve(data.x_val).numpy(), model.predict(data.x_val, verbose=0), atol=1e-5
    )
    [prediction] = predict_images(output, [next((folder / "shapes" / "circle").glob("*.png"))])
    assert prediction.error is None and len(prediction.top) == 3


def test_the_command_exports_the_ensemble(
    finished_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    study, folder = ensembled_study(finished_study, tmp_path)
    result = run_here(
        capsys, "export", str(folder / "tiny.toml"), "--ensemble", "--output", str(tmp_path / "e")
    )
    assert result.returncode == 0, result.stderr
    members = ", ".join(map(str, latest_ensemble_evaluation(study).members))
    assert result.stdout.startswith(f'exported the ensemble of trials {members} of study "tiny"')
    refused = run_here(capsys, "export", str(folder / "tiny.toml"), "--ensemble", "--trial", "0")
    assert refused.returncode == 2 and "not allowed with argument" in refused.stderr


def test_a_study_without_an_ensemble_says_how_to_make_one(tmp_path: Path) -> None:
    import optuna

    study = optuna.create_study(study_name="none", storage=f"sqlite:///{tmp_path}/n.db")
    store = open_artifact_store(tmp_path / "models", create=True)
    with pytest.raises(StorageError) as error:
        export_ensemble(study, store, tmp_path / "out", validation=(None, None))
    assert str(error.value) == (
        'study "none" has no ensemble yet; the next `lenet-search run` of it, or '
        "`lenet-search ensemble`, makes one"
    )
