"""`best`: the best trial, or a clear line when there is none."""

from __future__ import annotations

from pathlib import Path

import optuna

from tests.helpers import error_of


def test_best_before_any_complete_trial(tmp_path: Path, capsys) -> None:
    optuna.create_study(study_name="empty", storage=f"sqlite:///{tmp_path}/e.db")
    url = f"sqlite:///{tmp_path}/e.db"
    assert error_of(capsys, "best", "--storage", url, "--study-name", "empty") == (
        'study "empty" has no complete trial yet'
    )
