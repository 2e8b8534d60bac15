"""The report's plots of the search: optimization history, learning curves, parameter
importances, parallel coordinates, and accuracy against model size with the Pareto front."""

from __future__ import annotations

import math
from collections.abc import Sequence

import optuna
import plotly.graph_objects as go

from search.outputs.report.page import TARGET_NAME, Page, absent, esc
from search.outputs.text import format_params
from search.storage.records import TrialRecord


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other beats on both counts (smaller x, higher y), by x."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], -math.inf
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def history_section(page: Page, trials: list[TrialRecord]) -> str:
    figure = history(trials)
    if figure is None:
        return absent("No trial has completed yet.")
    return (
        "<p class=note>Each complete trial's value; the pruned ones at the last value they "
        "reported, as grey crosses; the best so far as the line.</p>" + page.figure(figure)
    )


def history(trials: list[TrialRecord]) -> go.Figure | None:
    """The trials' values by trial number, pruned ones apart, and the best so far; None before
    one completes. (Optuna's own plot leaves the pruned trials out.)"""
    complete = [t for t in trials if t.state == "COMPLETE"]
    if not complete:
        return None
    pruned = [t for t in trials if t.state == "PRUNED" and t.value is not None]
    best, running = [], -math.inf
    for t in complete:
        running = max(running, t.value)
        best.append(running)
    figure = go.Figure()
    for shown, name, marker in (
        (complete, "complete", {"color": "#1f77b4", "size": 8}),
        (pruned, "pruned (last value)", {"color": "#999", "symbol": "x", "size": 8}),
    ):
        figure.add_trace(
            go.Scatter(
                x=[t.number for t in shown],
                y=[t.value for t in shown],
                mode="markers",
                name=name,
                marker=marker,
                text=[esc(format_params(t.params)) for t in shown],
                hovertemplate="trial %{x}: %{y:.4f}<br>%{text}<extra></extra>",
            )
        )
    figure.add_trace(
        go.Scatter(
            x=[t.number for t in complete],
            y=best,
            mode="lines",
            line={"shape": "hv", "color": "#d62728"},
            name="best so far",
        )
    )
    figure.update_layout(xaxis_title="trial", yaxis_title=TARGET_NAME)
    figure.update_xaxes(**whole_ticks(max(t.number for t in trials)))
    return figure


def whole_ticks(largest: float) -> dict:
    """Axis settings that put ticks on whole numbers only (trials, epochs), never at 0.5."""
    return {"tickformat": "d", "dtick": 1} if largest <= 20 else {"tickformat": "d"}


def learning_curves_section(page: Page, trials: list[TrialRecord]) -> str:
    figure = learning_curves(trials)
    if figure is None:
        return absent("No trial has reported an epoch yet.")
    return (
        "<p class=note>Validation accuracy after each epoch. Pruned trials are dashed and end "
        "in an x, at the epoch after which they were stopped; failed ones are dotted.</p>"
        + page.figure(figure)
    )


def learning_curves(trials: list[TrialRecord]) -> go.Figure | None:
    """Each trial's validation accuracy per epoch, one line a trial; None when none reported."""
    curves = [t for t in trials if t.curve]
    if not curves:
        return None
    figure = go.Figure()
    for t in curves:
        epochs, values = list(t.curve), list(t.curve.values())
        pruned, state = t.state == "PRUNED", t.state.lower()
        # A pruned trial's line is dashed and ends in an x: the epoch after which it was stopped.
        symbols = ["circle"] * len(epochs)
        sizes = [5 if len(epochs) > 1 else 10] * len(epochs)  # a one-epoch trial is one point
        if pruned:
            symbols[-1], sizes[-1] = "x", 11
        figure.add_trace(
            go.Scatter(
                x=epochs,
                y=values,
                mode="lines+markers",
                name=f"trial {t.number}" + ("" if t.state == "COMPLETE" else f" ({state})"),
                line={"dash": "dash" if pruned else "dot" if t.state == "FAIL" else "solid"},
                marker={"symbol": symbols, "size": sizes},
                hovertemplate=(
                    f"trial {t.number} ({state})<br>{esc(format_params(t.params))}"
                    "<br>epoch %{x}: %{y:.4f}<extra></extra>"
                ),
            )
        )
    figure.update_layout(xaxis_title="epoch", yaxis_title=TARGET_NAME)
    figure.update_xaxes(**whole_ticks(max(max(t.curve) for t in curves)))
    return figure


def importances_section(page: Page, study: optuna.Study, trials: list[TrialRecord]) -> str:
    complete = [t for t in trials if t.state == "COMPLETE"]
    if len(complete) < 2:
        return absent(
            f"Parameter importances need at least 2 complete trials; this study has "
            f"{len(complete)}."
        )
    # Optuna weighs the parameters every complete trial sampled; one that never varied has none.
    shared = set.intersection(*(set(t.sampled) for t in complete))
    varying = sorted(n for n in shared if len({repr(t.sampled[n]) for t in complete}) > 1)
    if not varying:
        return absent(
            "Parameter importances need a parameter that the complete trials sampled with "
            "different values; "
            + ("they sampled none." if not shared else "theirs are all the same.")
        )
    from optuna.visualization import plot_param_importances

    # Optuna's default evaluator, PED-ANOVA: deterministic, and it needs no scikit-learn.
    figure = plot_param_importances(study, target_name=TARGET_NAME)
    return (
        f"<p class=note>Optuna's PED-ANOVA importances over the {len(complete)} complete "
        "trials: how much each parameter's value decides whether a trial is among the most "
        f"accurate (by {TARGET_NAME}).</p>" + page.figure(figure, height=120 + 40 * len(shared))
    )


def parallel_section(page: Page, study: optuna.Study, trials: list[TrialRecord]) -> str:
    complete = [t for t in trials if t.state == "COMPLETE"]
    if not any(t.sampled for t in complete):
        return absent("Parallel coordinates need a complete trial with sampled parameters.")
    return page.figure(parallel_coordinates(study))


def parallel_coordinates(study: optuna.Study) -> go.Figure:
    """Optuna's parallel coordinates, an integer parameter's axis (epochs, widths) labelled at
    integers only: Optuna labels every axis at five even steps, "1 1.5 2 2.5 3"."""
    from optuna.distributions import IntDistribution
    from optuna.visualization import plot_parallel_coordinate

    figure = plot_parallel_coordinate(study, target_name=TARGET_NAME)
    kinds = {
        name: distribution
        for trial in study.get_trials(deepcopy=False)
        for name, distribution in trial.distributions.items()
    }
    names = list(figure.layout.xaxis.ticktext or ())
    integer_axes = {
        i for i, name in enumerate(names) if isinstance(kinds.get(name), IntDistribution)
    }
    figure.layout.annotations = [
        label
        for label in figure.layout.annotations
        if label.x not in integer_axes or _is_whole(label.text)
    ]
    return figure


def _is_whole(text: str) -> bool:
    try:
        return float(text).is_integer()
    except ValueError:
        return True  # not a number: leave it


def size_section(page: Page, trials: list[TrialRecord]) -> str:
    measured = [
        t
        for t in trials
        if t.state == "COMPLETE" and t.param_count is not None and t.flops is not None
    ]
    if not measured:
        return absent("No complete trial recorded its parameter count and FLOPs.")
    from plotly.subplots import make_subplots

    figure = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        subplot_titles=("parameters", "forward FLOPs per image"),
        horizontal_spacing=0.06,
    )
    values = [t.value for t in measured]
    hover = [f"trial {t.number}<br>{esc(format_params(t.params))}" for t in measured]
    for col, sizes in ((1, [t.param_count for t in measured]), (2, [t.flops for t in measured])):
        figure.add_trace(
            go.Scatter(
                x=sizes,
                y=values,
                mode="markers",
                name="trial",
                legendgroup="trials",
                showlegend=col == 1,
                marker={"color": "#8fa8c8", "size": 8},
                text=hover,
                hovertemplate="%{text}<br>%{x:,}: %{y:.4f}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        front = pareto_front(list(zip(sizes, values, strict=True)))
        figure.add_trace(
            go.Scatter(
                x=[sizes[i] for i in front],
                y=[values[i] for i in front],
                mode="lines+markers",
                line={"shape": "hv", "color": "#d62728"},
                marker={"color": "#d62728", "size": 10},
                name="Pareto front",
                legendgroup="front",
                showlegend=col == 1,
                text=[hover[i] for i in front],
                hovertemplate="%{text}<br>%{x:,}: %{y:.4f}<extra>Pareto front</extra>",
            ),
            row=1,
            col=col,
        )
    for col, sizes in ((1, [t.param_count for t in measured]), (2, [t.flops for t in measured])):
        figure.update_xaxes(type="log", row=1, col=col, **log_ticks(min(sizes), max(sizes)))
    figure.update_yaxes(title_text=TARGET_NAME, row=1, col=1)
    return (
        "<p class=note>Complete trials. In red, the Pareto front: the trials that no other "
        "beats with both a higher validation accuracy and a smaller model.</p>"
        + page.figure(figure)
    )


def log_ticks(low: float, high: float) -> dict:
    """Ticks of a log axis at 1, 2 and 5 times the powers of ten around ``low`` to ``high``,
    labelled 20k, 100k, 2M (plotly's own labels a narrow range "2 3 ... 9 100k")."""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    values = [
        m * 10**e
        for e in range(first, last + 1)
        for m in (1, 2, 5)
        if low / 2 <= m * 10**e <= high * 2
    ]
    return {"tickvals": values, "ticktext": [_short(v) for v in values]}


def _short(value: float) -> str:
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"
