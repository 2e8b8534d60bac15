"""What every command shares: a study named by --storage and --study-name."""

from __future__ import annotations

from pathlib import Path

import optuna

from search.cli.main import main
from search.storage.records import stored_test_evaluation
from search.storage.trials import best_trial


def test_trials_and_best_by_storage_url(finished_study: Path, capsys) -> None:
    url = f"sqlite:///{finished_study}/tiny.db"
    assert main(["trials", "--storage", url, "--study-name", "tiny"]) == 0
    table = capsys.readouterr().out.splitlines()
    # The tiny study fixes batch size and learning rate away from the tutorial's: shown.
    header = ["trial", "state", "conv1", "conv2", "dense", "epochs", "batch", "lr", "val_acc"]
    assert table[0].split() == [*header, "epoch", "params", "sec", "note"]
    assert [line.split()[1] for line in table[1:3]] == ["COMPLETE", "COMPLETE"]
    assert table[3] == "2 trials: 2 complete"
    assert main(["best", "--storage", url, "--study-name", "tiny"]) == 0
    report = capsys.readouterr().out
    study = optuna.load_study(study_name="tiny", storage=url)
    test = stored_test_evaluation(study, best_trial(study).number)
    assert f"  validation accuracy: {best_trial(study).value:.4f} (epoch " in report
    assert f"  test accuracy:       {test.accuracy:.4f} (loss {test.loss:.4f})" in report
