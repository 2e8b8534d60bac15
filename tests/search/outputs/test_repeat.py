"""`best --repeat K`: the best configuration retrained with other seeds, stored on the study."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import optuna
import pytest

from search.cli.main import main
from search.outputs.repeat import repeat_seeds
from search.storage.records import stored_repeat, stored_test_evaluation
from search.storage.trials import best_trial
from tests.helpers import copy_of


def test_seeds_differ_from_the_trials_and_are_stable() -> None:
    assert repeat_seeds(5, 3) == repeat_seeds(5, 3)
    assert len(set(repeat_seeds(5, 3))) == 3 and 5 not in repeat_seeds(5, 3)
    assert repeat_seeds(5, 2) == repeat_seeds(5, 3)[:2]


@pytest.mark.slow
def test_repeat_retrains_stores_and_reports_mean_and_spread(
    finished_study: Path, tmp_path: Path, capsys
) -> None:
    folder = copy_of(finished_study, tmp_path)
    url = f"sqlite:///{folder}/tiny.db"
    test_before = stored_test_evaluation(
        optuna.load_study(study_name="tiny", storage=url),
        best_trial(optuna.load_study(study_name="tiny", storage=url)).number,
    )
    assert main(["best", str(folder / "tiny.toml"), "--repeat", "2", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    study = optuna.load_study(study_name="tiny", storage=url)
    repeat = stored_repeat(study, best_trial(study).number)
    assert len(repeat.seeds) == 2 and all(0 <= a <= 1 for a in repeat.val_accuracies)
    assert err.splitlines() == [
        f"repeat {i}/2 (seed {seed}): {accuracy:.4f}"
        for i, (seed, accuracy) in enumerate(zip(repeat.seeds, repeat.val_accuracies), start=1)
    ]
    best = json.loads(out)
    assert best["repeat_val_accuracies"] == repeat.val_accuracies
    # The test split is not used again: its one evaluation is unchanged.
    assert best["test_accuracy"] == test_before.accuracy
    assert stored_test_evaluation(study, best_trial(study).number) == test_before

    # Asked again: the stored repeats answer, nothing is retrained.
    assert main(["best", str(folder / "tiny.toml"), "--repeat", "2"]) == 0
    out, err = capsys.readouterr()
    mean = statistics.mean(repeat.val_accuracies)
    spread = statistics.stdev(repeat.val_accuracies)
    assert err == ""
    assert (
        f"  with other seeds:    {mean:.4f} ± {spread:.4f} validation accuracy over 2 seeds" in out
    )


def test_repeat_needs_two_seeds_at_least(finished_study: Path, capsys) -> None:
    assert main(["best", str(finished_study / "tiny.toml"), "--repeat", "1"]) == 2
    assert capsys.readouterr().err == "Error: --repeat must be an integer of at least 2, got 1\n"
