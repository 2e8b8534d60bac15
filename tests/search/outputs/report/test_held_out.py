"""The report's test-split section when what it shows is missing."""

from __future__ import annotations

from pathlib import Path

import optuna
from optuna.trial import TrialState

from search.cli.main import main
from search.outputs.report.document import write_report
from search.storage.records import (
    TestEvaluation,
    store_test_evaluation,
)
from search.storage.trials import best_trial
from tests.helpers import copy_of, stored_study


def test_report_without_stored_predictions_says_so(finished_study: Path, tmp_path: Path) -> None:
    folder = copy_of(finished_study, tmp_path)
    study = stored_study(folder)
    # As a study evaluated before the predictions were kept recorded it.
    store_test_evaluation(study, TestEvaluation(best_trial(study).number, 0.5, 0.8, 15))
    assert main(["report", str(folder / "tiny.toml"), "--output", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "report.html").read_text()
    assert "evaluated before lenet-search kept each test image&#x27;s prediction" in text
    assert "test accuracy <b>0.8000</b> (12 of 15 images)" in text
    assert 'data-plots="5"' in text  # no confusion matrix, no per-class accuracy


def test_report_with_its_artifact_store_gone_says_so(finished_study: Path, tmp_path: Path) -> None:
    gone = tmp_path / "moved"
    argv = ["report", str(finished_study / "tiny.toml"), "--output", str(tmp_path / "out")]
    assert main([*argv, "--artifacts", str(gone)]) == 0
    text = (tmp_path / "out" / "report.html").read_text()
    assert f"The test predictions cannot be shown: artifact folder not found: {gone}" in text
    assert "test accuracy <b>" in text and "95% Wilson interval" in text


def test_report_of_a_study_with_no_complete_trial(tmp_path: Path) -> None:
    study = optuna.create_study(direction="maximize")
    trial = study.ask()
    trial.report(0.4, 1)
    study.tell(trial, state=TrialState.PRUNED)
    url = "postgresql://search:secret@db.example.org/studies"
    summary = write_report(study, tmp_path, storage_url=url, artifacts=None)
    assert (summary.plots, summary.wrong_shown) == (1, 0)  # the learning curves
    text = summary.path.read_text()
    assert "postgresql://search:***@db.example.org/studies" in text and "secret" not in text
    assert "Parameter importances need at least 2 complete trials; this study has 0." in text
    assert "No trial has completed, so no model was evaluated on the test split." in text
