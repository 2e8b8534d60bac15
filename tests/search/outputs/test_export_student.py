"""`export` of the student: the model a user should take when it beats the best trial on
validation, as Keras files and as int8 LiteRT, reloaded and re-evaluated to the stored values."""

import json
from pathlib import Path

import keras
import pytest

from search.config.study_file import load_config
from search.data.loading import load_dataset
from search.errors import StorageError
from search.outputs.export import ExportFormat
from search.outputs.litert import LiteRTModel, accuracy
from search.outputs.predict import predict_images
from search.outputs.take_home import export_chosen, export_student
from search.storage.artifacts import open_artifact_store
from search.storage.records import EnsembleChoice, latest_student, store_ensemble_choice
from search.storage.trials import best_trial, ensemble_members
from tests.helpers import accuracy_of, copy_of, distilled_study, run_here, stored_study


@pytest.fixture(scope="module")
def distilled(finished_study: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """(study, folder, store, data) of a copy of the finished study with its student."""
    study, folder = distilled_study(finished_study, tmp_path_factory.mktemp("distilled"))
    store = open_artifact_store(folder / "tiny_artifacts", create=False)
    return study, folder, store, load_dataset(load_config(folder / "tiny.toml").data)


def test_the_exported_student_reloads_and_scores_what_the_run_stored(
    distilled: tuple, tmp_path: Path
) -> None:
    study, folder, store, data = distilled
    student = latest_student(study)
    card = export_student(study, store, tmp_path / "s", validation=(data.x_val, data.y_val))
    assert (card["model"], card["trial"], card["params"]) == (
        "student",
        student.trial,
        student.params,
    )
    assert card["distilled_from"]["teachers"] == student.teachers
    assert card["validation_accuracy"] == card["exported_validation_accuracy"]
    assert card["validation_accuracy"] == student.val_accuracy
    assert json.loads((tmp_path / "s" / "model_card.json").read_text()) == card
    model = keras.saving.load_model(tmp_path / "s" / "model.keras")
    test_accuracy = accuracy_of(model, data.x_test, data.y_test)
    assert test_accuracy == student.test_accuracy == card["test_accuracy"]
    [prediction] = predict_images(
        tmp_path / "s", [next((folder / "shapes" / "vertical").glob("*"))]
    )
    assert prediction.error is None and len(prediction.top) == 3


def test_the_student_exports_as_int8_litert(distilled: tuple, tmp_path: Path) -> None:
    study, _, store, data = distilled
    int8 = ExportFormat("litert", "int8", data.x_train)
    card = export_student(
        study, store, tmp_path / "q", validation=(data.x_val, data.y_val), export_format=int8
    )
    assert sorted(p.name for p in (tmp_path / "q").iterdir()) == [
        "model.tflite",
        "model_card.json",
    ]
    measured = accuracy(LiteRTModel(tmp_path / "q" / "model.tflite"), data.x_val, data.y_val)
    assert card["exported_validation_accuracy"] == measured
    assert card["float32_validation_accuracy"] == latest_student(study).val_accuracy


def test_export_takes_the_better_of_the_student_and_the_best_trial_by_validation(
    distilled: tuple, tmp_path: Path
) -> None:
    study, _, store, data = distilled
    student = latest_student(study)
    card = export_chosen(study, store, tmp_path / "c", validation=(data.x_val, data.y_val))
    scores = (
        f"the student scored {student.val_accuracy:.4f} on validation, trial {student.trial} "
        f"{student.single_val_accuracy:.4f}"
    )
    expected = "student" if student.preferred else "best trial"
    assert card["chosen"] == {"model": expected, "why": scores}
    assert card["model"] == ("student" if student.preferred else "trial")


def test_without_a_student_export_takes_the_best_trial_and_says_why(
    finished_study: Path, tmp_path: Path
) -> None:
    folder = copy_of(finished_study, tmp_path)
    study = stored_study(folder)
    store = open_artifact_store(folder / "tiny_artifacts", create=False)
    data = load_dataset(load_config(folder / "tiny.toml").data)
    # The best trial alone scored best on validation: no ensemble, so no student.
    store_ensemble_choice(study, EnsembleChoice(5, ensemble_members(study, 5), [0.6, 0.5]))
    card = export_chosen(study, store, tmp_path / "t", validation=(data.x_val, data.y_val))
    assert card["model"] == "trial" and card["trial"] == best_trial(study).number
    assert card["chosen"] == {
        "model": "best trial",
        "why": "no student: one is distilled from an ensemble, and the study has none",
    }
    with pytest.raises(StorageError) as error:
        export_student(study, store, tmp_path / "s", validation=(data.x_val, data.y_val))
    assert str(error.value) == (
        'study "tiny" has no student: one is distilled from its ensemble by `lenet-search run` '
        "or `lenet-search ensemble`"
    )


def test_the_command_exports_the_student(
    distilled: tuple, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    study, folder, _, _ = distilled
    student = latest_student(study)
    result = run_here(
        capsys, "export", str(folder / "tiny.toml"), "--student", "--output", str(tmp_path / "e")
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        f"exported the student (trial {student.trial}'s network, distilled from the ensemble) "
        'of study "tiny"'
    )
