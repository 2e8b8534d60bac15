"""The report's plots of the search."""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from search.outputs.report.plots import learning_curves, pareto_front
from search.storage.records import (
    TrialRecord,
)


def test_learning_curves_mark_pruned_trials() -> None:
    study = optuna.create_study(direction="maximize")
    for state, values in ((TrialState.COMPLETE, [0.5, 0.7, 0.8]), (TrialState.PRUNED, [0.3])):
        trial = study.ask()
        for epoch, value in enumerate(values, start=1):
            trial.report(value, epoch)
        study.tell(trial, values[-1] if state == TrialState.COMPLETE else None, state=state)
    complete, pruned = learning_curves([TrialRecord.of(t) for t in study.trials]).data
    assert (complete.name, complete.line.dash) == ("trial 0", "solid")
    assert list(complete.y) == [0.5, 0.7, 0.8] and "x" not in complete.marker.symbol
    assert (pruned.name, pruned.line.dash) == ("trial 1 (pruned)", "dash")
    assert list(pruned.marker.symbol) == ["x"]


def test_pareto_front_keeps_what_no_smaller_model_beats() -> None:
    points = [(100, 0.9), (50, 0.8), (200, 0.95), (150, 0.85), (50, 0.7), (300, 0.95)]
    assert pareto_front(points) == [1, 0, 2]
