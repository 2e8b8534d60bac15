"""The trial loop every worker runs: reservations, interrupts, failures, heartbeats."""

import sqlite3
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from search.scheduler.events import Progress
from search.scheduler.handle import StudyHandle
from search.scheduler.worker import Budget, RunLimits, reserve_trial, run_trials
from search.storage.database import open_storage
from search.storage.optuna_internals import trial_id


def new_study(tmp_path: Path) -> tuple[optuna.Study, StudyHandle]:
    url = f"sqlite:///{tmp_path}/w.db"
    study = optuna.create_study(
        study_name="w",
        storage=open_storage(url, create=True, heartbeat=(60, 180)),
        direction="maximize",
    )
    return study, StudyHandle.of(study, url)


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")
def test_a_reservation_counts_running_trials_but_not_failed_ones(tmp_path: Path) -> None:
    study, handle = new_study(tmp_path)
    study.tell(study.ask(), 0.5)  # COMPLETE
    study.tell(study.ask(), state=TrialState.FAIL)  # holds no place
    study.ask()  # RUNNING in some other worker
    limits = RunLimits(n_trials=3, budget=Budget(5), deadline=None)
    assert reserve_trial(handle, limits) is not None
    assert reserve_trial(handle, limits) is None  # 1 complete + 2 running = 3
    assert limits.budget.value == 4


def test_a_reservation_stops_at_this_runs_budget(tmp_path: Path) -> None:
    study, handle = new_study(tmp_path)
    assert reserve_trial(handle, RunLimits(10, Budget(0), None)) is None
    assert study.trials == []


def run(handle: StudyHandle, objective, n_trials: int = 3, budget: int = 3) -> None:
    limits = RunLimits(n_trials, Budget(budget), None)
    run_trials(handle, objective, limits, Progress(), (ArithmeticError,))


def test_failing_trials_are_recorded_with_their_reason_and_the_loop_goes_on(
    tmp_path: Path,
) -> None:
    study, handle = new_study(tmp_path)

    def objective(trial: optuna.Trial) -> float:
        if trial.number == 1:
            raise ArithmeticError("loss became NaN in epoch 2")
        if trial.number == 2:
            raise optuna.TrialPruned()
        return 0.9

    run(handle, objective)
    assert [t.state for t in study.trials] == [
        TrialState.COMPLETE,
        TrialState.FAIL,
        TrialState.PRUNED,
    ]
    assert study.trials[1].user_attrs["fail_reason"] == "loss became NaN in epoch 2"
    # This run's budget is spent: the failed trial is topped up by the next run, not this one.
    assert all(
        "worker" in t.user_attrs and t.user_attrs["worker_rss_mb"] > 0 for t in study.trials
    )


@pytest.mark.parametrize(
    ("raised", "reason"),
    [(KeyboardInterrupt(), "interrupted (Ctrl-C)"), (KeyError("x"), "KeyError: 'x'")],
)
def test_an_interrupt_or_a_bug_fails_the_trial_and_is_raised(
    tmp_path: Path, raised: BaseException, reason: str
) -> None:
    study, handle = new_study(tmp_path)

    def objective(trial: optuna.Trial) -> float:
        raise raised

    with pytest.raises(type(raised)):
        run(handle, objective)
    assert [t.state for t in study.trials] == [TrialState.FAIL]
    assert study.trials[0].user_attrs["fail_reason"] == reason


def test_a_running_trial_has_a_heartbeat(tmp_path: Path) -> None:
    study, handle = new_study(tmp_path)
    beats = []

    def objective(trial: optuna.Trial) -> float:
        with sqlite3.connect(tmp_path / "w.db") as db:
            beats.extend(db.execute("SELECT trial_id FROM trial_heartbeats").fetchall())
        return 1.0

    run(handle, objective, n_trials=1)
    assert beats == [(trial_id(study.trials[0]),)]


class LastStartAt:
    """A closing that leaves no time for trials after ``at``."""

    def __init__(self, at: float) -> None:
        self.at = at

    def last_start(self, study: optuna.Study, deadline: float) -> float:
        return min(deadline, self.at)


def test_no_trial_starts_after_the_deadline_or_the_closings_last_start(tmp_path: Path) -> None:
    study, handle = new_study(tmp_path)
    now = time.time()
    assert RunLimits(1, Budget(1), None).may_start(study)  # no deadline: only n_trials ends it
    assert RunLimits(1, Budget(1), now + 60).may_start(study)
    assert not RunLimits(1, Budget(1), now - 1).may_start(study)
    assert not RunLimits(1, Budget(1), now + 60, closing=LastStartAt(now - 1)).may_start(study)
    run(handle, lambda trial: 1.0)
    assert len(study.trials) == 3
    late = RunLimits(3, Budget(3), now + 60, closing=LastStartAt(now - 1))
    run_trials(handle, lambda trial: 1.0, late, Progress(), ())
    assert len(study.trials) == 3
