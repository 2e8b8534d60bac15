"""A study made or resumed: its settings, data and artifact store checked."""

import dataclasses
import shutil
from pathlib import Path

import optuna
import pytest

from search.config.study_file import load_config
from search.data.loading import load_dataset
from search.engine.runner import run_study
from search.errors import ConfigError, StorageError
from search.storage import records
from tests.helpers import copy_of, stored_study, write_study


def test_changed_settings_are_refused_unless_allowed(finished_study: Path, tmp_path: Path) -> None:
    folder = copy_of(finished_study, tmp_path)
    path = write_study(
        folder, search_space={"epochs": {"low": 1, "high": 2}}, data={"validation_split": 0.3}
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
    study = stored_study(folder)
    assert records.study_record(study, records.SETTINGS_CHANGES) == [
        ["data.validation_split 0.25 -> 0.3", "search_space.epochs.high 3 -> 2"]
    ]
    run_study(config, load_dataset(config.data))  # the new settings are now the study's


def test_allow_changes_cannot_change_a_distribution_optuna_keeps(
    finished_study: Path, tmp_path: Path
) -> None:
    folder = copy_of(finished_study, tmp_path)
    path = write_study(folder, search_space={"dense_units": {"low": 4, "high": 16, "log": True}})
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
    path = write_study(tmp_path, study={"artifacts": "blocker/models"})
    config = load_config(path)
    with pytest.raises(StorageError) as error:
        run_study(config, load_dataset(config.data))
    assert str(error.value) == (
        f"cannot make the artifact folder {tmp_path.resolve()}/blocker/models: Not a directory"
    )
    assert not (tmp_path / "tiny.db").exists()


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
    changes = records.study_record(result.study, records.SETTINGS_CHANGES)
    assert changes[-1][0].startswith("2 files added")
    assert records.study_record(result.study, records.DATA)["sizes"]["train"] == 34


def test_an_artifact_folder_serves_one_study(finished_study: Path, tmp_path: Path) -> None:
    folder = copy_of(finished_study, tmp_path)
    other = write_study(folder, name="other", study={"artifacts": "tiny_artifacts"})
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


def test_a_study_older_than_uids_is_named_when_opened(tmp_path: Path, image_folder: Path) -> None:
    from search.engine.study import create_or_resume_study
    from search.storage.artifacts import open_artifact_store, store_owner

    config = load_config(write_study(tmp_path))
    old = optuna.create_study(
        study_name="tiny", storage=config.study.storage, direction="maximize"
    )
    store = open_artifact_store(config.study.artifacts, create=True)
    study = create_or_resume_study(config, load_dataset(config.data), store)
    assert records.study_uid(old) == records.study_uid(study) == store_owner(store).uid
