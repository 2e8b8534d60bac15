"""The report's plots of the search."""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from search.outputs.report.plots import (
    history,
    learning_curves,
    log_ticks,
    parallel_coordinates,
    pareto_front,
)
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


def _trial(number: int, state: str, curve: dict, params: dict | None = None) -> TrialRecord:
    value = max(curve.values()) if state == "COMPLETE" else list(curve.values())[-1]
    return TrialRecord(
        number, state, params or {}, params or {}, value, curve, len(curve), None, None, None,
        None, None, None, None, None,
    )  # fmt: skip


def test_the_history_shows_pruned_trials_apart_on_whole_trial_numbers() -> None:
    trials = [
        _trial(0, "COMPLETE", {1: 0.8}),
        _trial(1, "PRUNED", {1: 0.5, 2: 0.55}),
        _trial(2, "COMPLETE", {1: 0.9}),
    ]
    figure = history(trials)
    complete, pruned, best = figure.data
    assert (list(complete.x), list(pruned.x), list(pruned.y)) == ([0, 2], [1], [0.55])
    assert (pruned.name, pruned.marker.symbol) == ("pruned (last value)", "x")
    assert list(best.y) == [0.8, 0.9]
    assert figure.layout.xaxis.dtick == 1 and figure.layout.xaxis.tickformat == "d"
    # More trials than ticks: whole numbers still, where plotly puts them.
    many = history([_trial(n, "COMPLETE", {1: 0.5 + n / 100}) for n in range(30)])
    assert many.layout.xaxis.tickformat == "d" and many.layout.xaxis.dtick is None


def test_a_one_epoch_trial_is_drawn_large_enough_to_see() -> None:
    figure = learning_curves(
        [_trial(0, "COMPLETE", {1: 0.8}), _trial(1, "COMPLETE", {1: 0.7, 2: 0.9})]
    )
    assert list(figure.data[0].marker.size) == [10] and list(figure.data[1].marker.size) == [5, 5]


def test_log_axes_have_readable_ticks() -> None:
    assert log_ticks(50_000, 300_000) == {
        "tickvals": [50_000, 100_000, 200_000, 500_000],
        "ticktext": ["50k", "100k", "200k", "500k"],
    }
    assert log_ticks(900, 1_200_000)["ticktext"] == [
        "500",
        "1k",
        "2k",
        "5k",
        "10k",
        "20k",
        "50k",
        "100k",
        "200k",
        "500k",
        "1M",
        "2M",
    ]


def test_integer_parameters_get_integer_ticks_in_parallel_coordinates() -> None:
    import optuna
    from optuna.distributions import IntDistribution
    from optuna.trial import create_trial

    study = optuna.create_study(direction="maximize")
    space = {"epochs": IntDistribution(1, 3), "dense_units": IntDistribution(8, 64)}
    for epochs, dense, value in ((1, 8, 0.7), (3, 40, 0.9), (2, 64, 0.8)):
        study.add_trial(
            create_trial(
                value=value, params={"epochs": epochs, "dense_units": dense}, distributions=space
            )
        )
    figure = parallel_coordinates(study)
    axes = list(figure.layout.xaxis.ticktext)
    labels = {
        name: [a.text for a in figure.layout.annotations if a.x == i]
        for i, name in enumerate(axes)
    }
    assert labels["epochs"] == ["1", "2", "3"]  # not 1.5 and 2.5
    assert labels["dense_units"] == ["8", "22", "36", "50", "64"]
    assert len(labels[axes[0]]) == 5  # the objective's axis keeps its five labels


def test_a_parameter_of_names_gets_an_axis_labelled_with_them() -> None:
    from optuna.distributions import CategoricalDistribution, IntDistribution
    from optuna.trial import create_trial

    study = optuna.create_study(direction="maximize")
    space = {
        "lr_schedule": CategoricalDistribution(["constant", "cosine", "one_cycle"]),
        "epochs": IntDistribution(1, 3),
    }
    for schedule, epochs, value in (("cosine", 1, 0.7), ("one_cycle", 3, 0.9), ("cosine", 2, 0.8)):
        study.add_trial(
            create_trial(
                value=value,
                params={"lr_schedule": schedule, "epochs": epochs},
                distributions=space,
            )
        )
    figure = parallel_coordinates(study)
    axes = list(figure.layout.xaxis.ticktext)
    labels = {
        name: [a.text for a in figure.layout.annotations if a.x == i]
        for i, name in enumerate(axes)
    }
    assert labels["lr_schedule"] == ["cosine", "one_cycle"]
    assert labels["epochs"] == ["1", "2", "3"]
