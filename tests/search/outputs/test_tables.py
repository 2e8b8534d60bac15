"""The trials table, CSV and JSON, and the best trial's text, from a study built trial by trial."""

from __future__ import annotations

import dataclasses
import io
import json

import optuna
import pandas as pd
import pytest
from optuna.distributions import IntDistribution
from optuna.trial import TrialState, create_trial

from search.outputs.tables import (
    TABLE_WIDTH,
    best_output,
    best_report,
    thin_numbers,
    trials_output,
)
from search.storage import records
from search.storage.records import (
    EnsembleChoice,
    EnsembleEvaluation,
    Repeat,
    StudentEvaluation,
    TestEvaluation,
    store_ensemble_choice,
    store_ensemble_evaluation,
    store_repeat,
    store_student,
    store_test_evaluation,
    student_key,
)
from search.storage.trials import best_trial

SPACE = {
    name: IntDistribution(1, 256) for name in ("conv1_channels", "conv2_channels", "dense_units")
}


def add(study: optuna.Study, state: TrialState, params: dict, curve: list[float], **attrs) -> None:
    fixed = {"epochs": 10, "batch_size": 32, "learning_rate": 0.001}
    study.add_trial(
        create_trial(
            state=state,
            # As study.tell records them: a pruned trial's value is its last reported one.
            value={TrialState.COMPLETE: max(curve), TrialState.PRUNED: curve[-1]}.get(state),
            params=params,
            distributions={name: SPACE[name] for name in params},
            intermediate_values=dict(enumerate(curve, start=1)),
            user_attrs={
                records.HYPERPARAMETERS: {**fixed, **params},
                records.EPOCHS_RUN: len(curve),
                records.PARAM_COUNT: 100_000 + params.get("dense_units", 0),
                **({records.ARTIFACT_ID: "model"} if state == TrialState.COMPLETE else {}),
                **attrs,
            },
        )
    )


@pytest.fixture
def study() -> optuna.Study:
    study = optuna.create_study(study_name="s", direction="maximize")
    add(
        study,
        TrialState.COMPLETE,
        {"conv1_channels": 16, "conv2_channels": 32, "dense_units": 32},
        [0.8, 0.85],
        best_epoch=2,
    )
    add(
        study,
        TrialState.PRUNED,
        {"conv1_channels": 4, "conv2_channels": 8, "dense_units": 16},
        [0.5, 0.6, 0.61],
    )
    add(
        study,
        TrialState.COMPLETE,
        {"conv1_channels": 30, "conv2_channels": 60, "dense_units": 100},
        [0.9, 0.88],
        best_epoch=1,
    )
    reason = "loss or weights became NaN or infinite in epoch 3 " + "and a long tail " * 10
    add(
        study,
        TrialState.FAIL,
        {"conv1_channels": 200, "conv2_channels": 250, "dense_units": 256},
        [0.1],
        fail_reason=reason,
    )
    return study


def test_table_marks_the_best_says_how_trials_ended_and_fits_100_columns(study) -> None:
    lines = trials_output(study).splitlines()
    assert lines[0].split() == [
        "trial",
        "state",
        "conv1",
        "conv2",
        "dense",
        "val_acc",
        "epoch",
        "params",
        "sec",
        "note",
    ]
    assert lines[1].split()[:2] == ["0", "COMPLETE"]
    assert lines[3].split()[:2] == ["*2", "COMPLETE"]  # the best
    assert lines[2].endswith("pruned at epoch 3 (0.6100)")
    assert "  -  " in lines[2]  # a pruned trial has no value in the val_acc column
    # A failure reason too long for the note column gets a line of its own.
    assert lines[4].split()[:2] == ["3", "FAIL"]
    assert lines[5].startswith("      failed: loss or weights became NaN or infinite in epoch 3")
    assert lines[5].endswith("…")
    assert lines[6] == "4 trials: 2 complete, 1 pruned, 1 fail"
    assert max(map(len, lines)) <= TABLE_WIDTH


def test_table_with_every_hyperparameter_still_fits(study) -> None:
    add(
        study,
        TrialState.COMPLETE,
        {"conv1_channels": 1},
        [0.2],
        best_epoch=1,
        **{
            records.HYPERPARAMETERS: {
                "conv1_channels": 1,
                "conv2_channels": 2,
                "dense_units": 3,
                "dropout_conv": 0.25,
                "dropout_dense": 0.125,
                "epochs": 15,
                "batch_size": 128,
                "learning_rate": 0.00123,
            }
        },
    )
    lines = trials_output(study).splitlines()
    assert "drop_conv" in lines[0] and "lr" in lines[0]
    assert max(map(len, lines)) <= TABLE_WIDTH


def test_sort_by_value_puts_the_best_first_and_unvalued_last(study) -> None:
    numbers = [line.split()[0] for line in trials_output(study, sort="value").splitlines()[1:5]]
    assert numbers == ["*2", "0", "1", "3"]


def test_csv_and_json_read_back_as_the_database_has_them(study) -> None:
    frame = pd.read_csv(io.StringIO(trials_output(study, "csv")))
    assert frame["number"].tolist() == [0, 1, 2, 3]
    assert frame["state"].tolist() == ["COMPLETE", "PRUNED", "COMPLETE", "FAIL"]
    assert frame["best"].tolist() == [False, False, True, False]
    assert frame["value"].tolist()[0] == study.trials[0].value
    assert frame["dense_units"].tolist() == [32, 16, 100, 256]
    assert frame["fail_reason"][3] == study.trials[3].user_attrs[records.FAIL_REASON]
    rows = json.loads(trials_output(study, "json"))
    assert [row["number"] for row in rows] == [0, 1, 2, 3]
    assert rows[1]["curve"] == {"1": 0.5, "2": 0.6, "3": 0.61} and rows[1]["value"] == 0.61
    assert rows[2]["best"] and rows[2]["value"] == best_trial(study).value
    assert rows[0]["params"]["batch_size"] == 32


def test_best_as_json_csv_and_text_with_a_stored_repeat(study) -> None:
    store_test_evaluation(study, TestEvaluation(2, 0.31, 0.875, 1000))
    store_repeat(study, Repeat(2, [5, 6, 7], [0.88, 0.9, 0.86]))
    best = json.loads(best_output(study, "json"))
    assert best["trial"] == 2 and best["validation_accuracy"] == 0.9
    assert best["test_accuracy"] == 0.875 and best["repeat_val_accuracies"] == [0.88, 0.9, 0.86]
    row = pd.read_csv(io.StringIO(best_output(study, "csv")))
    assert row["trial"][0] == 2 and row["dense_units"][0] == 100 and row["test_loss"][0] == 0.31
    text = best_report(study)
    assert "  with other seeds:    0.8800 ± 0.0200 validation accuracy over 3 seeds" in text
    assert "  test accuracy:       0.8750 (loss 0.3100)" in text


def test_best_shows_the_latest_ensemble_and_whether_it_is_still_the_best(study) -> None:
    ensemble = EnsembleEvaluation(
        members=[2, 0],
        weights=[0.5, 0.5],
        size=5,
        val_accuracy=0.91,
        val_loss=0.3,
        n_val=1000,
        test_accuracy=0.9,
        test_loss=0.28,
        n_test=1000,
        single_test_accuracy=0.875,
        difference=0.025,
        difference_low=0.01,
        difference_high=0.04,
        param_count=200_132,
        flops=5_000_000,
    )
    # The plain curve would keep trial 2 alone; the cross-fitted one, which chooses, both.
    choice = EnsembleChoice(5, [2, 0], [0.9, 0.89], cross_fitted=[0.88, 0.9])
    store_ensemble_choice(study, choice)
    store_ensemble_evaluation(study, ensemble)
    lines = best_report(study).splitlines()
    assert lines[-8:] == [
        "  ensemble:            the mean of trials 2, 0 (the 2 best by validation accuracy)",
        "    chosen on:         validation, the mean of the top 1 to 2: 0.9000 0.8900",
        "      cross-fitted:    0.8800 0.9000 (ranked on half the images, scored on the other: "
        "k is chosen by these)",
        "    validation:        0.9100",
        "    test accuracy:     0.9000 (95% CI 0.8798 to 0.9171, loss 0.2800)",
        "    minus the best:    +2.50 points on the same test images (paired 95% CI +1.00 to "
        "+4.00)",
        "    size:              200,132 parameters, 5.00 MFLOPs/image in all",
        "  student:             none: the next `run` (or `lenet-search ensemble`) distills it",
    ]
    best = json.loads(best_output(study, "json"))
    assert best["ensemble"] == {
        "chosen": dataclasses.asdict(choice),
        **dataclasses.asdict(ensemble),
        "current": True,
    }
    row = pd.read_csv(io.StringIO(best_output(study, "csv")))
    assert (row["ensemble.test_accuracy"][0], row["ensemble.members"][0]) == (0.9, "[2, 0]")

    add(study, TrialState.COMPLETE, {"dense_units": 64}, [0.95])  # a better trial, since
    stale = best_report(study).splitlines()[-8]
    assert stale.endswith("; better trials completed since: the next `run` updates it")
    assert json.loads(best_output(study, "json"))["ensemble"]["current"] is False


def test_best_says_when_the_best_alone_beat_every_ensemble(study) -> None:
    store_ensemble_choice(study, EnsembleChoice(5, [2, 0], [0.9, 0.85]))
    assert best_report(study).splitlines()[-3:] == [
        "  ensemble:            none: the best trial alone scored best",
        "    chosen on:         validation, the mean of the top 1 to 2: 0.9000 0.8500",
        "  student:             none: a student learns from the study's ensemble, and it has none",
    ]
    assert json.loads(best_output(study, "json"))["ensemble"] == {
        "chosen": {
            "size": 5,
            "considered": [2, 0],
            "val_accuracies": [0.9, 0.85],
            "left_out": None,  # the size budget kept no trial out
            "cross_fitted": None,  # a choice stored before k was cross-fitted
        },
        "current": True,
    }


def test_a_pruned_trials_value_is_its_last_as_optuna_records_it(study) -> None:
    [pruned] = [r for r in json.loads(trials_output(study, "json")) if r["state"] == "PRUNED"]
    assert pruned["value"] == 0.61 == study.trials[1].value  # trials_dataframe's value too
    frame = pd.read_csv(io.StringIO(trials_output(study, "csv")))
    assert frame.loc[frame["state"] == "PRUNED", "value"].tolist() == [0.61]
    row = next(line for line in trials_output(study).splitlines() if "PRUNED" in line)
    assert " - " in row and row.endswith("pruned at epoch 3 (0.6100)")  # the table says which


def test_best_warns_where_a_few_images_decided() -> None:
    assert thin_numbers(0.9, 12) == [
        "only 12 validation images: one is 8.3 points, and the 95% interval of 0.9000 is 0.6461 "
        "to 0.9851; more images (or a larger validation_split, or [data] folds) tell trials apart"
    ]
    assert thin_numbers(1.0, 6000) == [
        "100% on validation: the split no longer tells the best trials apart; give the study "
        "more validation images (a larger validation_split, more photos, [data] folds) or harder "
        "ones, never "
        "the test split: it only reports"
    ]
    assert thin_numbers(0.91, 6000) == [] and thin_numbers(0.91, None) == []


def test_best_shows_the_student_and_which_model_export_takes(study) -> None:
    members = [2, 0]
    store_ensemble_choice(study, EnsembleChoice(5, members, [0.9, 0.91]))
    ensemble = EnsembleEvaluation(
        members, [0.5, 0.5], 5, 0.91, 0.3, 1000, 0.9, 0.28, 1000, 0.875, 0.025, 0.01, 0.04, 2, 2
    )
    store_ensemble_evaluation(study, ensemble)
    student = StudentEvaluation(
        teachers=members,
        trial=2,
        params={"dense_units": 100, "epochs": 12},
        temperature=2.0,
        soft_weight=0.7,
        seed=5,
        best_epoch=11,
        train_seconds=80.0,
        artifact_id="a",
        val_accuracy=0.905,
        val_loss=0.3,
        n_val=1000,
        test_accuracy=0.89,
        test_loss=0.29,
        n_test=1000,
        single_val_accuracy=0.9,
        single_test_accuracy=0.875,
        difference=0.015,
        difference_low=0.001,
        difference_high=0.029,
        param_count=100_066,
        flops=2_500_000,
    )
    store_student(study, student_key(members, 12, 2.0, 0.7), student)
    assert best_report(study).splitlines()[-5:] == [
        "  student:             trial 2's network distilled from the ensemble (temperature 2, "
        "soft weight 0.7, epoch 11 of 12)",
        "    validation:        0.9050 (trial 2: 0.9000): `export` takes the student",
        "    test accuracy:     0.8900 (95% CI 0.8691 to 0.9079, loss 0.2900)",
        "    minus the best:    +1.50 points on the same test images (paired 95% CI +0.10 to "
        "+2.90)",
        "    size:              100,066 parameters, 2.50 MFLOPs/image",
    ]
    assert json.loads(best_output(study, "json"))["student"] == {
        **dataclasses.asdict(student),
        "preferred": True,
    }
    # Another ensemble since: the student is not the current one's.
    store_ensemble_choice(study, EnsembleChoice(5, [2, 1], [0.9, 0.92]))
    assert json.loads(best_output(study, "json"))["student"] is None
