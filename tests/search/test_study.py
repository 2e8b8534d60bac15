import dataclasses
import shutil
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from search.config import load_config
from search.data import load_dataset
from search.errors import ConfigError, StorageError
from search.records import (
    TestEvaluation,
    evaluated_on_test,
    store_test_evaluation,
    stored_test_evaluation,
)
from search.study import run_study
from tests.conftest import copy_of, write_study


def load(folder: Path, name: str = "tiny") -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{folder}/{name}.db")


def test_run_keeps_each_complete_trials_model_and_record(finished_study: Path) -> None:
    study = load(finished_study)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2
    for trial in study.trials:
        attrs = trial.user_attrs
        assert trial.value == max(trial.intermediate_values.values())
        assert attrs["best_epoch"] == max(
            trial.intermediate_values, key=trial.intermediate_values.get
        )
        assert attrs["epochs_run"] == attrs["hyperparameters"]["epochs"]
        assert attrs["param_count"] > 0 and attrs["flops"] > 0
        assert attrs["train_seconds"] > 0 and attrs["validation_seconds"] > 0
        artifact = finished_study / "tiny_artifacts" / attrs["artifact_id"]
        assert artifact.is_file() and artifact.stat().st_size > 1000
    assert study.user_attrs["artifact_dir"] == str(finished_study.resolve() / "tiny_artifacts")
    assert study.user_attrs["data"]["class_names"] == ["circle", "horizontal", "vertical"]


def test_test_split_is_evaluated_once_for_the_best_trial(finished_study: Path) -> None:
    study = load(finished_study)
    assert evaluated_on_test(study) == [study.best_trial.number]
    stored = stored_test_evaluation(study, study.best_trial.number)
    assert 0 <= stored.accuracy <= 1 and stored.loss > 0 and stored.n_images == 15


def test_resume_runs_up_to_n_trials_and_reuses_the_test_result(
    finished_study: Path, tmp_path: Path
) -> None:
    folder = copy_of(finished_study, tmp_path)
    config = load_config(folder / "tiny.toml", n_trials=3)
    result = run_study(config, load_dataset(config.data))
    assert [t.number for t in result.study.trials] == [0, 1, 2]
    assert all(t.state == TrialState.COMPLETE for t in result.study.trials)
    # Resumed trials draw new parameters rather than replaying the first run's.
    assert len({tuple(t.params.values()) for t in result.study.trials}) == 3
    # Nothing to do: n_trials is reached; the stored test result is reused, not recomputed.
    store_test_evaluation(result.study, TestEvaluation(result.test.trial, -1.0, -1.0))
    again = run_study(config, load_dataset(config.data))
    assert len(again.study.trials) == 3
    assert (again.test.loss, again.test.accuracy) == (-1.0, -1.0)


def test_changed_settings_are_refused_unless_allowed(finished_study: Path, tmp_path: Path) -> None:
    folder = copy_of(finished_study, tmp_path)
    path = folder / "tiny.toml"
    path.write_text(
        path.read_text()
        .replace("epochs = { low = 1, high = 3 }", "epochs = { low = 1, high = 2 }")
        .replace("validation_split = 0.25", "validation_split = 0.3")
    )
    config = load_config(path)
    database = folder / "tiny.db"
    before = database.read_bytes()
    with pytest.raises(ConfigError) as error:
        run_study(config, load_dataset(config.data))
    assert str(error.value) == (
        f'study "tiny" was made with other settings than {path} has now: '
        "data.validation_split 0.25 -> 0.3; search_space.epochs.high 3 -> 2. "
        "Pass --allow-changes to go on with the new settings and data, or give the study "
        "another [study] name"
    )
    assert database.read_bytes() == before
    config = dataclasses.replace(config, study=dataclasses.replace(config.study, n_trials=2))
    run_study(config, load_dataset(config.data), allow_changes=True)
    study = load(folder)
    assert study.user_attrs["settings_changes"] == [
        ["data.validation_split 0.25 -> 0.3", "search_space.epochs.high 3 -> 2"]
    ]
    run_study(config, load_dataset(config.data))  # the new settings are now the study's


def test_allow_changes_cannot_change_a_distribution_optuna_keeps(
    finished_study: Path, tmp_path: Path
) -> None:
    folder = copy_of(finished_study, tmp_path)
    path = folder / "tiny.toml"
    path.write_text(
        path.read_text().replace(
            "dense_units = { low = 4, high = 16 }",
            "dense_units = { low = 4, high = 16, log = true }",
        )
    )
    config = load_config(path, n_trials=3)
    before = (folder / "tiny.db").read_bytes()
    with pytest.raises(ConfigError) as error:
        run_study(config, load_dataset(config.data), allow_changes=True)
    assert str(error.value).startswith(
        "even with --allow-changes, [search_space] dense_units cannot change that way within one "
        "study ("
    )
    assert str(error.value).endswith("); give the study another [study] name")
    assert (folder / "tiny.db").read_bytes() == before


def test_a_study_that_minimizes_is_refused(study_file: Path) -> None:
    config = load_config(study_file)
    optuna.create_study(study_name="tiny", storage=config.study.storage)  # minimizes
    before = (study_file.parent / "tiny.db").read_bytes()
    with pytest.raises(ConfigError) as error:
        run_study(config, load_dataset(config.data))
    assert str(error.value) == (
        'study "tiny" minimizes its objective, but lenet-search maximizes validation accuracy; '
        "give the study another [study] name"
    )
    assert (study_file.parent / "tiny.db").read_bytes() == before


def test_bad_artifact_folder_is_an_error_before_the_database(tmp_path: Path, image_folder) -> None:
    (tmp_path / "blocker").write_text("a file where the artifact folder should go")
    path = write_study(tmp_path, edits={"seed = 0": 'seed = 0\nartifacts = "blocker/models"'})
    config = load_config(path)
    with pytest.raises(StorageError) as error:
        run_study(config, load_dataset(config.data))
    assert str(error.value) == (
        f"cannot make the artifact folder {tmp_path.resolve()}/blocker/models: Not a directory"
    )
    assert not (tmp_path / "tiny.db").exists()


def test_same_seed_samples_the_same_parameters(tmp_path: Path, image_folder: Path) -> None:
    sampled = []
    for name in ("first", "second"):
        config = load_config(write_study(tmp_path, name=name, n_trials=3))
        study = run_study(config, load_dataset(config.data)).study
        sampled.append([t.params for t in study.trials])
    assert sampled[0] == sampled[1]
    assert len({tuple(p.values()) for p in sampled[0]}) == 3


def test_nan_loss_fails_the_trial_and_the_study_goes_on(study_file: Path) -> None:
    config = load_config(study_file)
    data = load_dataset(config.data)
    x_train = data.x_train.copy()
    x_train[0, 0, 0, 0] = np.nan
    result = run_study(config, dataclasses.replace(data, x_train=x_train))
    trials = result.study.trials
    assert [t.state for t in trials] == [TrialState.FAIL] * 2
    assert {t.user_attrs["fail_reason"] for t in trials} == {
        "loss or weights became NaN or infinite in epoch 1"
    }
    assert result.test is None and not result.interrupted


def test_median_pruner_prunes_a_trial_that_cannot_learn(tmp_path: Path, image_folder) -> None:
    path = write_study(
        tmp_path,
        edits={
            'kind = "none"': 'kind = "median"\nn_startup_trials = 1\nn_warmup_steps = 1',
            "epochs = { low = 1, high = 3 }": "epochs = { low = 1, high = 5 }",
            "learning_rate = 0.01\n": "",
            "[search_space]": (
                "[search_space]\nlearning_rate = { low = 1e-7, high = 0.1, log = true }"
            ),
        },
    )
    config = load_config(path)
    study = optuna.create_study(
        study_name="tiny", storage=config.study.storage, direction="maximize"
    )
    learns = {"conv1_channels": 8, "conv2_channels": 8, "dense_units": 16, "learning_rate": 0.01}
    stuck = {"conv1_channels": 2, "conv2_channels": 2, "dense_units": 4, "learning_rate": 1e-7}
    study.enqueue_trial({**learns, "epochs": 3})
    study.enqueue_trial({**stuck, "epochs": 5})  # room to prune it before its last epoch
    trials = run_study(config, load_dataset(config.data)).study.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE, TrialState.PRUNED]
    pruned = trials[1]
    assert pruned.user_attrs["epochs_run"] == len(pruned.intermediate_values) <= 3
    assert "artifact_id" not in pruned.user_attrs


def test_changed_data_is_refused_naming_the_change(finished_study: Path, tmp_path: Path) -> None:
    folder = copy_of(finished_study, tmp_path)
    circle = folder / "shapes" / "circle"
    for n in (20, 21):  # two more images of one class
        shutil.copy(circle / "0.png", circle / f"{n}.png")
    config = load_config(folder / "tiny.toml", n_trials=3)
    before = (folder / "tiny.db").read_bytes()
    with pytest.raises(ConfigError) as error:
        run_study(config, load_dataset(config.data))
    assert str(error.value) == (
        'the data of study "tiny" changed since the study was made: 2 files added '
        "(circle/20.png, circle/21.png); train split 33 -> 34 images; test split 15 -> 16 "
        "images. Pass --allow-changes to go on with the new settings and data, or give the "
        "study another [study] name"
    )
    assert (folder / "tiny.db").read_bytes() == before
    result = run_study(config, load_dataset(config.data), allow_changes=True)
    assert result.study.user_attrs["settings_changes"][-1][0].startswith("2 files added")
    assert result.study.user_attrs["data"]["sizes"]["train"] == 34


def test_an_artifact_folder_serves_one_study(finished_study: Path, tmp_path: Path) -> None:
    folder = copy_of(finished_study, tmp_path)
    other = write_study(
        folder, name="other", edits={"seed = 0": 'seed = 0\nartifacts = "tiny_artifacts"'}
    )
    config = load_config(other)
    with pytest.raises(StorageError) as error:
        run_study(config, load_dataset(config.data))
    assert str(error.value) == (
        f'the artifact folder {folder.resolve()}/tiny_artifacts belongs to study "tiny", not to '
        'study "other"; give this study one of its own with [study] artifacts'
    )
    assert not (folder / "other.db").exists()


def test_a_new_study_of_the_same_name_does_not_take_the_old_ones_folder(
    finished_study: Path, tmp_path: Path
) -> None:
    folder = copy_of(finished_study, tmp_path)
    (folder / "tiny.db").rename(folder / "old.db")
    config = load_config(folder / "tiny.toml")
    with pytest.raises(StorageError) as error:
        run_study(config, load_dataset(config.data))
    assert str(error.value) == (
        f"the artifact folder {folder.resolve()}/tiny_artifacts belongs to another study named "
        '"tiny" (an earlier one, whose database moved or was deleted?); give this study one '
        "of its own with [study] artifacts"
    )
