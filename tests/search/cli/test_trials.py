"""`trials` and `best` for scripts: CSV and JSON that read back as the database has them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from search.cli.main import main
from search.storage.records import stored_test_evaluation
from search.storage.trials import best_trial
from tests.helpers import error_of, stored_study


def test_trials_and_best_as_csv_and_json_match_the_database(finished_study: Path, capsys) -> None:
    study_file = str(finished_study / "tiny.toml")
    study = stored_study(finished_study)
    assert main(["trials", study_file, "--format", "csv", "--sort", "value"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    by_value = sorted(study.trials, key=lambda t: -t.value)
    assert frame["number"].tolist() == [t.number for t in by_value]
    assert frame["value"].tolist() == [t.value for t in by_value]
    assert frame["conv1_channels"].tolist() == [t.params["conv1_channels"] for t in by_value]
    assert frame["best"].tolist() == [True, False]
    assert main(["trials", study_file, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["number"], r["state"], r["value"]) for r in rows] == [
        (t.number, t.state.name, t.value) for t in study.trials
    ]
    assert [r["curve"] for r in rows] == [
        {str(k): v for k, v in sorted(t.intermediate_values.items())} for t in study.trials
    ]
    assert main(["best", study_file, "--format", "json"]) == 0
    best = json.loads(capsys.readouterr().out)
    test = stored_test_evaluation(study, best_trial(study).number)
    assert (best["trial"], best["validation_accuracy"], best["test_accuracy"]) == (
        best_trial(study).number,
        best_trial(study).value,
        test.accuracy,
    )
    assert best["params"]["dense_units"] == study.best_params["dense_units"]
    assert main(["best", study_file, "--format", "csv"]) == 0
    row = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert row["trial"][0] == best_trial(study).number and row["test_loss"][0] == test.loss
    assert error_of(capsys, "trials", study_file, "--format", "xml") == (
        "argument --format: invalid choice: 'xml' (choose from 'table', 'csv', 'json') "
        "(see `lenet-search trials --help`)"
    )
