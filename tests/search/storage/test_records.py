"""What a study records, read back typed: trials, the test evaluation, the uid, the store."""

from pathlib import Path

import optuna
import pytest
from optuna.distributions import IntDistribution
from optuna.trial import TrialState, create_trial

from search.errors import StorageError
from search.storage import records
from search.storage.records import (
    TestEvaluation,
    TrialRecord,
    evaluated_on_test,
    give_uid,
    recorded_artifacts,
    set_study_record,
    store_test_evaluation,
    stored_test_evaluation,
    study_record,
    study_uid,
    trial_summary,
)


def pruned_and_complete() -> optuna.Study:
    study = optuna.create_study(study_name="r", direction="maximize")
    common = {"distributions": {"conv1_channels": IntDistribution(2, 64)}}
    study.add_trial(
        create_trial(
            state=TrialState.PRUNED,
            params={"conv1_channels": 8},
            intermediate_values={1: 0.5, 2: 0.6},
            user_attrs={records.EPOCHS_RUN: 2, records.HYPERPARAMETERS: {"epochs": 5}},
            **common,
        )
    )
    study.add_trial(
        create_trial(
            value=0.9,
            params={"conv1_channels": 32},
            intermediate_values={1: 0.8, 2: 0.9},
            user_attrs={
                records.HYPERPARAMETERS: {"conv1_channels": 32, "epochs": 2},
                records.BEST_EPOCH: 2,
                records.PARAM_COUNT: 1234,
                records.FLOPS: 5678,
            },
            **common,
        )
    )
    return study


def test_a_trial_record_has_what_it_trained_with_and_a_value_only_when_complete() -> None:
    pruned, complete = (TrialRecord.of(t) for t in pruned_and_complete().trials)
    assert (pruned.state, pruned.value, pruned.epochs_run) == ("PRUNED", None, 2)
    assert pruned.params == {"epochs": 5, "conv1_channels": 8}  # sampled over recorded
    assert pruned.curve == {1: 0.5, 2: 0.6}
    assert (complete.value, complete.best_epoch, complete.param_count) == (0.9, 2, 1234)


def test_the_test_evaluation_and_the_summary_read_back() -> None:
    study = pruned_and_complete()
    assert stored_test_evaluation(study, 1) is None
    store_test_evaluation(study, TestEvaluation(1, 0.3, 0.88, 10_000, "id"))
    assert stored_test_evaluation(study, 1) == TestEvaluation(1, 0.3, 0.88, 10_000, "id")
    assert trial_summary(study, study.trials[1]) == {
        "study": "r",
        "trial": 1,
        "params": {"conv1_channels": 32, "epochs": 2},
        "validation_accuracy": 0.9,
        "best_epoch": 2,
        "test_accuracy": 0.88,
        "test_loss": 0.3,
        "param_count": 1234,
        "flops": 5678,
    }


def test_a_uid_is_given() -> None:
    study = optuna.create_study()
    assert study_uid(study) is None
    uid = give_uid(study)
    assert study_uid(study) == uid and len(uid) == 32


def test_the_recorded_artifact_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    study = optuna.create_study(study_name="r")
    assert recorded_artifacts(study) is None
    study.set_user_attr(records.ARTIFACT_DIR, str(tmp_path / "models"))
    assert recorded_artifacts(study) == tmp_path / "models"
    study.set_user_attr(records.ARTIFACT_DIR, "s3://bucket/models")
    import importlib.util

    find_spec = importlib.util.find_spec  # a machine without boto3
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "boto3" else find_spec(name)
    )
    with pytest.raises(StorageError) as error:
        recorded_artifacts(study)
    assert str(error.value) == (
        'study "r": its artifact store "s3://bucket/models" needs the Python package boto3, '
        "which is not installed; install it with: pip install 'lenet-search[s3]'"
    )


def test_records_are_kept_out_of_the_dashboards_user_attributes() -> None:
    study = optuna.create_study(study_name="r")
    set_study_record(study, records.CONFIG, {"study": {"seed": 0}, "long": "x" * 5000})
    assert study_record(study, records.CONFIG)["long"] == "x" * 5000
    assert study.user_attrs == {}  # what optuna-dashboard's table lists


def test_records_of_studies_made_before_are_read_from_their_user_attributes() -> None:
    study = optuna.create_study(study_name="old")
    study.set_user_attr(records.DATA, {"dataset": "mnist"})
    study.set_user_attr("test_evaluation_trial_3", {"loss": 0.3, "accuracy": 0.9})
    assert study_record(study, records.DATA) == {"dataset": "mnist"}
    assert stored_test_evaluation(study, 3) == TestEvaluation(3, 0.3, 0.9)
    assert evaluated_on_test(study) == [3]
    set_study_record(study, records.DATA, {"dataset": "fashion_mnist"})  # a resume records anew
    assert study_record(study, records.DATA) == {"dataset": "fashion_mnist"}
