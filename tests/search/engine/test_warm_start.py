"""Warm starts: a new study's first trials are an earlier study's best, within its space."""

from __future__ import annotations

from pathlib import Path

import pytest
from optuna.trial import TrialState

from search.config.study_file import load_config
from search.data.loading import load_dataset
from search.engine.study import create_or_resume_study
from search.engine.warm_start import warm_start_note
from search.errors import ConfigError
from search.space.ranges import describe
from search.storage import records
from search.storage.artifacts import open_artifact_store
from search.storage.trials import ranked_trials
from tests.helpers import STUDY, copy_of, stored_study, write_study

SEARCHED = ("conv1_channels", "conv2_channels", "dense_units", "epochs")


def new_study(folder: Path, **sections):  # noqa: ANN003, ANN201
    """The study "warm" beside the finished one, warm-started from it, as `run` makes it."""
    path = write_study(folder, name="warm", study={"warm_start": "tiny.toml"}, **sections)
    config = load_config(path)
    dataset = load_dataset(config.data)
    store = open_artifact_store(config.study.artifacts, create=True)
    return create_or_resume_study(config, dataset, store)


def test_the_earlier_studys_best_come_first_and_one_outside_the_space_is_named(
    finished_study: Path, tmp_path: Path
) -> None:
    folder = copy_of(finished_study, tmp_path)
    best, second = ranked_trials(stored_study(folder))
    # A range of the first hyperparameter the two differ in that keeps the best's value only.
    key = next(k for k in SEARCHED if best.params[k] != second.params[k])
    bounds = dict(STUDY["search_space"][key])
    kept, other = best.params[key], second.params[key]
    bounds.update({"high": kept} if other > kept else {"low": kept})
    study = new_study(folder, search_space={key: bounds})

    waiting = study.get_trials(states=(TrialState.WAITING,))
    assert len(waiting) == 1
    assert waiting[0].user_attrs[records.WARM_START_FROM] == f"tiny trial {best.number}"
    space = describe(load_config(folder / "warm.toml").search_space[key])
    left_out = f"trial {second.number} ({key} {other} is outside {space})"
    record = records.study_record(study, records.WARM_START)
    assert (record["trials"], record["left_out"]) == ([best.number], [left_out])
    assert warm_start_note(study) == (
        f'warm start: 1 configuration of study "tiny" first (its trials {best.number}); '
        f"left out: {left_out}"
    )


def test_a_configuration_over_the_size_budget_is_left_out(
    finished_study: Path, tmp_path: Path
) -> None:
    folder = copy_of(finished_study, tmp_path)
    study = new_study(folder, search_space={"max_params": 10})
    record = records.study_record(study, records.WARM_START)
    assert record["trials"] == [] and len(record["left_out"]) == 2
    assert all("parameters, over max_params = 10)" in why for why in record["left_out"])
    assert study.get_trials(states=(TrialState.WAITING,)) == []
    assert warm_start_note(study) == (  # nothing enqueued, and said so
        f'warm start: nothing from study "tiny"; left out: {", ".join(record["left_out"])}'
    )


def test_a_resumed_study_is_not_warm_started_again(finished_study: Path, tmp_path: Path) -> None:
    folder = copy_of(finished_study, tmp_path)
    new_study(folder)
    again = new_study(folder)
    assert len(again.get_trials(states=(TrialState.WAITING,))) == 2


SHAPES = ' must be a study file ("quickstart.toml") or { storage = "URL", study_name = "NAME" }'


@pytest.mark.parametrize(
    ("warm_start", "error"),
    [
        (3, SHAPES + ", got 3"),
        ("warm.toml", " names this study file itself; name an earlier study's"),
        ("none.toml", ": study file not found: FOLDER/none.toml"),
        ({"storage": "sqlite:///tiny.db"}, SHAPES + ', got { storage = "sqlite:///tiny.db" }'),
    ],
)
def test_a_bad_warm_start_is_one_error(tmp_path: Path, warm_start, error) -> None:  # noqa: ANN001
    path = write_study(tmp_path, name="warm", study={"warm_start": warm_start})
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == f"{path}: [study] warm_start" + error.replace(
        "FOLDER", str(tmp_path)
    )


def test_a_failed_warm_start_is_tried_again_by_the_next_run(
    finished_study: Path, tmp_path: Path
) -> None:
    folder = copy_of(finished_study, tmp_path)
    (folder / "tiny.db").rename(folder / "away.db")
    with pytest.raises(ConfigError):
        new_study(folder)
    (folder / "away.db").rename(folder / "tiny.db")  # back: the new study starts from it now
    study = new_study(folder)
    assert len(study.get_trials(states=(TrialState.WAITING,))) == 2


def test_an_earlier_study_that_is_not_there_is_one_error(tmp_path: Path, image_folder) -> None:  # noqa: ANN001
    write_study(tmp_path)  # tiny.toml, never run
    with pytest.raises(ConfigError) as raised:
        new_study(tmp_path)
    assert str(raised.value) == (
        f'[study] warm_start: there is no study "tiny" in sqlite:///{tmp_path}/tiny.db to start '
        "from; run it first, or name another"
    )
