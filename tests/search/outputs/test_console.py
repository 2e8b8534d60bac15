"""The run's progress on a terminal: a line per trial start, epoch and end, and the study's."""

import io

from search.outputs.console import ConsoleProgress
from search.scheduler.events import TrialOutcome
from search.storage.trials import StudyTally


def test_each_event_is_one_line_and_each_end_says_where_the_study_stands() -> None:
    stream = io.StringIO()
    progress = ConsoleProgress(n_trials=4, stream=stream)
    progress.run_started(StudyTally(complete=1, best_number=0, best_value=0.8), 2, ["workers: 2"])
    progress.trial_started(1, {"conv1_channels": 8, "learning_rate": 0.01})
    progress.epoch_ended(1, 1, 3, 0.8512)
    progress.trial_ended(TrialOutcome(1, "COMPLETE", 0.9, 3))
    progress.trial_ended(TrialOutcome(2, "PRUNED", None, 1))
    progress.trial_ended(TrialOutcome(3, "FAIL", None, 1, "NaN loss"))
    lines = stream.getvalue().splitlines()
    assert lines[:4] == [
        "workers: 2",
        "3 trials to run in 2 worker processes; 1 done before",
        "trial 1 (conv1=8 lr=0.01)",
        "  trial 1 epoch 1/3  val_accuracy 0.8512  0s",
    ]
    assert lines[4] == "trial 1 COMPLETE val_accuracy 0.9000"
    assert lines[5].startswith(
        "  2/4 done (2 complete, 0 pruned) | 0 running | best: trial 1 val_accuracy 0.9000 | "
    )
    assert lines[6] == "trial 2 PRUNED after epoch 1"
    assert lines[8] == "trial 3 FAIL (NaN loss)"
    assert "3/4 done (2 complete, 1 pruned, 1 failed)" in lines[9]


def test_the_eta_is_capped_by_the_timeout() -> None:
    progress = ConsoleProgress(n_trials=100, timeout=60, stream=io.StringIO())
    progress.run_started(StudyTally(), 1, [])
    assert progress.status().endswith("ETA 1:00+ (timeout)")


def test_a_study_without_n_trials_runs_until_its_timeout() -> None:
    stream = io.StringIO()
    progress = ConsoleProgress(n_trials=None, timeout=1800, stream=stream)
    progress.run_started(StudyTally(complete=3), 2, [])
    progress.trial_ended(TrialOutcome(3, "COMPLETE", 0.9, 3))
    lines = stream.getvalue().splitlines()
    assert lines[0] == "trials until the timeout (30:00) in 2 worker processes; 3 done before"
    assert lines[2].startswith("  4 done (4 complete, 0 pruned) | 0 running | best: trial 3 ")
    assert lines[2].endswith("(timeout)")
