"""One self-contained HTML page about a study: what it searched, how, and how well the best did.

The page needs no network: plotly.js is embedded once, the pictures are data: URLs and the
fonts are the reader's own. It reads the storage, and the artifact store only for the best
trial's stored test predictions; nothing here imports TensorFlow, and the test split is only
shown, never used to choose anything.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import plotly.graph_objects as go
from optuna.trial import TrialState

from search import records
from search.artifact_location import ArtifactLocation
from search.errors import LenetSearchError, StorageError
from search.evaluation import Predictions, load_predictions
from search.progress import format_params
from search.records import TrialRecord, stored_test_evaluation, trial_records
from search.storage import display_url
from search.trials import best_trial

REPORT_FILE = "report.html"
GALLERY_LIMIT = 60  # wrong predictions shown; the page says how many there are in all
Z_95 = 1.959963984540054  # the standard normal's 97.5% quantile
PLOT_CONFIG = {"displaylogo": False, "responsive": True}  # the logo would link to plotly.com
TARGET_NAME = "validation accuracy"


def default_output(study_name: str) -> Path:
    """``<study name>_report``, in the current folder, with unsafe characters replaced."""
    return Path(re.sub(r"[^A-Za-z0-9._-]", "_", study_name) + "_report")


def wilson_interval(correct: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``correct / n`` (95% for the default ``z``).

    Unlike the normal approximation it stays within 0..1 and is sound near 100% accuracy.
    """
    if n <= 0:
        return 0.0, 1.0
    p = correct / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points no other beats on both counts (smaller x, higher y), by x."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], -math.inf
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


@dataclass(frozen=True)
class ReportSummary:
    """What ``write_report`` wrote."""

    path: Path
    plots: int  # plotly figures on the page
    wrong_shown: int  # images in the gallery of wrong test predictions


def write_report(
    study: optuna.Study,
    output: Path,
    *,
    storage_url: str,
    artifacts: ArtifactLocation | None,
) -> ReportSummary:
    """Write ``output/report.html`` about ``study``.

    Args:
        study: the study to describe.
        output: the folder to write into (made if missing; an older report there is replaced).
        storage_url: where the study is, shown without its password.
        artifacts: the study's artifact store, for the stored test predictions; a store that is
            missing or unreadable only leaves those out, saying why.

    Raises:
        StorageError: ``output`` cannot be written.
    """
    page = _Page()
    records_ = trial_records(study)
    page.section("Study", _summary(study, records_, storage_url))
    page.section("Optimization history", _history(page, study, records_))
    page.section("Learning curves", _learning_curves(page, records_))
    page.section("Parameter importances", _importances(page, study, records_))
    page.section("Parallel coordinates", _parallel(page, study, records_))
    page.section("Accuracy against model size", _size(page, records_))
    page.section("Best model on the test split", _test_section(page, study, artifacts))
    page.section("Trials", _trials_table(records_))
    text = page.render(f"lenet-search report: {study.study_name}")
    path = output / REPORT_FILE
    try:
        output.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{REPORT_FILE}.partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)  # a reader never sees half a page
    except OSError as e:
        raise StorageError(f"cannot write the report to {path}: {e.strerror or e}") from None
    return ReportSummary(path, page.plots, page.images)


# --- the page ----------------------------------------------------------------------------------


class _Page:
    """The page's sections, and how many figures and images went into them."""

    def __init__(self) -> None:
        self.sections: list[str] = []
        self.plots = 0
        self.images = 0

    def section(self, title: str, body: str) -> None:
        self.sections.append(f"<section><h2>{_esc(title)}</h2>\n{body}\n</section>")

    def figure(self, figure: go.Figure, height: int = 440) -> str:
        self.plots += 1
        figure.update_layout(template="plotly_white", height=height)
        return figure.to_html(
            full_html=False,
            include_plotlyjs=False,  # embedded once, in the head
            config=PLOT_CONFIG,
            div_id=f"plot-{self.plots}",
        )

    def render(self, title: str) -> str:
        from plotly.offline import get_plotlyjs

        made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        return (
            "<!DOCTYPE html>\n"
            f'<html lang="en"><head><meta charset="utf-8"><title>{_esc(title)}</title>\n'
            f"<style>{STYLE}</style>\n"
            f"<script>{SELF_CHECK}</script>\n"
            f"<script>{get_plotlyjs()}</script>\n"
            f'</head><body data-plots="{self.plots}" data-images="{self.images}">\n'
            f"<h1>{_esc(title)}</h1><p class=note>made {made}</p>\n"
            + "\n".join(self.sections)
            + '\n<pre id="report-check" hidden></pre>\n</body></html>\n'
        )


# The page checks itself once drawn and writes what it found into #report-check: figures drawn,
# images decoded and any error or console.error. A headless browser (the tests) reads it back.
SELF_CHECK = """
window.reportErrors = [];
window.addEventListener("error", function (e) {
  var t = e.target || {};
  window.reportErrors.push(e.message || ("cannot load " + (t.src || t.href || t.tagName)));
}, true);
window.addEventListener("unhandledrejection", function (e) {
  window.reportErrors.push("unhandled rejection: " + e.reason);
});
(function () {
  var original = console.error;
  console.error = function () {
    window.reportErrors.push(Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
})();
window.addEventListener("load", function () {
  setTimeout(function () {
    var plots = Array.prototype.slice.call(document.querySelectorAll(".plotly-graph-div"));
    var images = Array.prototype.slice.call(document.querySelectorAll("img"));
    document.getElementById("report-check").textContent = JSON.stringify({
      plots: plots.length,
      drawn: plots.filter(function (p) { return p.querySelector(".main-svg"); }).length,
      images: images.length,
      loaded: images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length,
      errors: window.reportErrors
    });
  }, 500);
});
"""

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #222; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
table { border-collapse: collapse; margin: .5em 0; }
td, th { padding: .15em .8em .15em 0; text-align: left; vertical-align: top; }
table.trials td, table.trials th { border-bottom: 1px solid #eee; text-align: right; }
.note { color: #666; }
.absent { color: #8a5a00; background: #fff8e6; padding: .5em .8em; }
.gallery { display: flex; flex-wrap: wrap; gap: 10px; }
.gallery figure { margin: 0; width: 124px; font-size: 12px; text-align: center; }
.gallery img { width: 112px; height: 112px; image-rendering: pixelated; object-fit: contain;
               border: 1px solid #ccc; }
.big { font-size: 1.3em; }
"""


# --- sections ----------------------------------------------------------------------------------


def _summary(study: optuna.Study, trials: list[TrialRecord], storage_url: str) -> str:
    counts = {state.name: sum(t.state == state.name for t in trials) for state in TrialState}
    shown = ", ".join(f"{n} {state.lower()}" for state, n in counts.items() if n) or "none"
    rows = [
        ("study", study.study_name),
        ("storage", display_url(storage_url)),
        ("trials", f"{len(trials)} ({shown})"),
    ]
    best = best_trial(study)
    if best is not None:
        record = TrialRecord.of(best)
        rows.append(
            (
                "best trial",
                f"trial {best.number}: {TARGET_NAME} {best.value:.4f} "
                f"(epoch {record.best_epoch}), {format_params(record.params)}",
            )
        )
    data = study.user_attrs.get(records.DATA)
    if data:
        sizes = data.get("sizes", {})
        rows += [
            ("dataset", str(data.get("dataset"))),
            ("classes", ", ".join(map(str, data.get("class_names", [])))),
            ("input shape", " x ".join(map(str, data.get("input_shape", [])))),
            ("images", ", ".join(f"{n:,} {split}" for split, n in sizes.items())),
        ]
        fingerprint = data.get("fingerprint") or {}
        if "digest" in fingerprint:
            files = len(fingerprint.get("files", {}))
            rows.append(("data fingerprint", f"{fingerprint['digest'][:16]}... ({files} files)"))
    else:
        rows.append(("data", "not recorded (a study made by another program?)"))
    body = _table(rows)
    settings = study.user_attrs.get(records.SETTINGS)
    if settings:
        flat = _flatten(settings)
        body += "<h3>Settings, as the study file gave them</h3>" + _table(flat.items())
    changes = study.user_attrs.get(records.SETTINGS_CHANGES) or []
    if any(changes):
        items = "".join(
            f"<li>resume {i + 1}: {_esc('; '.join(c))}</li>" for i, c in enumerate(changes) if c
        )
        body += f"<h3>Settings changed when resumed</h3><ul>{items}</ul>"
    return body


def _history(page: _Page, study: optuna.Study, trials: list[TrialRecord]) -> str:
    if not any(t.state == "COMPLETE" for t in trials):
        return _absent("No trial has completed yet.")
    from optuna.visualization import plot_optimization_history

    return page.figure(plot_optimization_history(study, target_name=TARGET_NAME))


def _learning_curves(page: _Page, trials: list[TrialRecord]) -> str:
    figure = learning_curves(trials)
    if figure is None:
        return _absent("No trial has reported an epoch yet.")
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
        sizes = [5] * len(epochs)
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
                    f"trial {t.number} ({state})<br>{_esc(format_params(t.params))}"
                    "<br>epoch %{x}: %{y:.4f}<extra></extra>"
                ),
            )
        )
    figure.update_layout(xaxis_title="epoch", yaxis_title=TARGET_NAME)
    if max(max(t.curve) for t in curves) <= 20:
        figure.update_xaxes(dtick=1)  # whole epochs, not 1.5
    return figure


def _importances(page: _Page, study: optuna.Study, trials: list[TrialRecord]) -> str:
    complete = [t for t in trials if t.state == "COMPLETE"]
    if len(complete) < 2:
        return _absent(
            f"Parameter importances need at least 2 complete trials; this study has "
            f"{len(complete)}."
        )
    # Optuna weighs the parameters every complete trial sampled; one that never varied has none.
    shared = set.intersection(*(set(t.sampled) for t in complete))
    varying = sorted(n for n in shared if len({repr(t.sampled[n]) for t in complete}) > 1)
    if not varying:
        return _absent(
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


def _parallel(page: _Page, study: optuna.Study, trials: list[TrialRecord]) -> str:
    complete = [t for t in trials if t.state == "COMPLETE"]
    if not any(t.sampled for t in complete):
        return _absent("Parallel coordinates need a complete trial with sampled parameters.")
    from optuna.visualization import plot_parallel_coordinate

    return page.figure(plot_parallel_coordinate(study, target_name=TARGET_NAME))


def _size(page: _Page, trials: list[TrialRecord]) -> str:
    measured = [
        t
        for t in trials
        if t.state == "COMPLETE" and t.param_count is not None and t.flops is not None
    ]
    if not measured:
        return _absent("No complete trial recorded its parameter count and FLOPs.")
    from plotly.subplots import make_subplots

    figure = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        subplot_titles=("parameters", "forward FLOPs per image"),
        horizontal_spacing=0.06,
    )
    values = [t.value for t in measured]
    hover = [f"trial {t.number}<br>{_esc(format_params(t.params))}" for t in measured]
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
    figure.update_xaxes(type="log")
    figure.update_yaxes(title_text=TARGET_NAME, row=1, col=1)
    return (
        "<p class=note>Complete trials. In red, the Pareto front: the trials that no other "
        "beats with both a higher validation accuracy and a smaller model.</p>"
        + page.figure(figure)
    )


def _test_section(page: _Page, study: optuna.Study, artifacts: ArtifactLocation | None) -> str:
    best = best_trial(study)
    if best is None:
        return _absent("No trial has completed, so no model was evaluated on the test split.")
    evaluation = stored_test_evaluation(study, best.number)
    if evaluation is None:
        return _absent(
            f"The best trial, {best.number}, has not been evaluated on the test split yet "
            "(the next `lenet-search run` of the study evaluates it)."
        )
    intro = (
        f"<p class=note>Trial {best.number}'s saved model, chosen on validation accuracy alone, "
        "evaluated once on the held-out test split; nothing was chosen by these numbers.</p>"
    )
    predictions, why_not = _predictions(evaluation.predictions_id, artifacts)
    if predictions is None:
        n = evaluation.n_images  # None in the oldest records: no interval then
        accuracy = (
            _accuracy_line(round(evaluation.accuracy * n), n)
            if n
            else f"<p class=big>test accuracy <b>{evaluation.accuracy:.4f}</b></p>"
        )
        return intro + accuracy + _absent(why_not)

    y_true, y_pred = predictions.y_true, predictions.y_pred
    n = len(y_true)
    correct = int(np.sum(y_true == y_pred))
    names = _class_names(study, predictions.probabilities.shape[1])
    body = intro + _accuracy_line(correct, n)
    body += f"<p class=note>test loss {evaluation.loss:.4f}</p>"

    matrix = np.zeros((len(names), len(names)), dtype=np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    confusion = go.Figure(
        go.Heatmap(
            z=matrix,
            x=names,
            y=names,
            colorscale="Blues",
            texttemplate="%{z}",
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
        )
    )
    confusion.update_layout(xaxis_title="predicted class", yaxis_title="true class")
    confusion.update_yaxes(autorange="reversed", type="category")
    confusion.update_xaxes(type="category")
    body += "<h3>Confusion matrix</h3>" + page.figure(confusion, height=200 + 36 * len(names))

    per_class = matrix.sum(axis=1)
    right = np.diag(matrix)
    shown = [i for i in range(len(names)) if per_class[i]]
    intervals = [wilson_interval(int(right[i]), int(per_class[i])) for i in shown]
    accuracy = [right[i] / per_class[i] for i in shown]
    bars = go.Figure(
        go.Bar(
            x=[names[i] for i in shown],
            y=accuracy,
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [high - a for a, (_, high) in zip(accuracy, intervals, strict=True)],
                "arrayminus": [a - low for a, (low, _) in zip(accuracy, intervals, strict=True)],
            },
            customdata=[[int(right[i]), int(per_class[i])] for i in shown],
            hovertemplate="%{x}: %{y:.3f} (%{customdata[0]} of %{customdata[1]})<extra></extra>",
        )
    )
    bars.update_layout(yaxis_title="test accuracy", yaxis_range=[0, 1.05])
    bars.update_xaxes(type="category")
    body += (
        "<h3>Accuracy per class</h3><p class=note>With 95% Wilson intervals.</p>"
        + page.figure(bars, height=380)
    )
    return body + "<h3>Wrong predictions</h3>" + _gallery(page, predictions, names)


def _predictions(
    predictions_id: str | None, artifacts: ArtifactLocation | None
) -> tuple[Predictions | None, str]:
    """The stored predictions, or None and the sentence that says why there are none."""
    if predictions_id is None:
        return None, (
            "This study was evaluated before lenet-search kept each test image's prediction, "
            "so there is no confusion matrix, per-class accuracy or gallery of mistakes."
        )
    if artifacts is None:
        return None, (
            "The test predictions are in the study's artifact store, which this study does not "
            "record; pass --artifacts DIR to show them."
        )
    from search.artifacts import open_artifact_store

    try:
        return load_predictions(open_artifact_store(artifacts, create=False), predictions_id), ""
    except LenetSearchError as e:
        return None, f"The test predictions cannot be shown: {e}."


def _accuracy_line(correct: int, n: int) -> str:
    low, high = wilson_interval(correct, n)
    return (
        f"<p class=big>test accuracy <b>{correct / n:.4f}</b> ({correct:,} of {n:,} images); "
        f"95% Wilson interval {low:.4f} to {high:.4f}</p>"
    )


def _gallery(page: _Page, predictions: Predictions, names: list[str]) -> str:
    wrong = predictions.wrong_index
    if len(wrong) == 0:
        return "<p>The model classified every test image correctly.</p>"
    probabilities = predictions.probabilities.astype(np.float32)
    predicted = predictions.y_pred[wrong]
    confidence = probabilities[wrong, predicted]
    order = np.argsort(-confidence, kind="stable")[:GALLERY_LIMIT]  # most confident first
    figures = []
    for k in order:
        index, true = int(wrong[k]), int(predictions.y_true[wrong[k]])
        caption = (
            f"true <b>{_esc(names[true])}</b><br>predicted <b>{_esc(names[predicted[k]])}</b> "
            f"{confidence[k]:.0%}<br>(true class {probabilities[index, true]:.0%})"
        )
        alt = f"test image {index}"
        figures.append(
            f'<figure><img src="{_png(predictions.wrong_images[k])}" alt="{alt}" '
            f'title="{alt}"><figcaption>{caption}</figcaption></figure>'
        )
    page.images += len(figures)
    total = len(wrong)
    counted = f"all {total}" if total <= GALLERY_LIMIT else f"the {len(figures)} of {total}"
    return (
        f"<p class=note>{counted} wrong predictions, most confident first: the image, its true "
        "class, the predicted class with its probability, and the true class's probability."
        f'</p><div class="gallery">{"".join(figures)}</div>'
    )


def _trials_table(trials: list[TrialRecord]) -> str:
    if not trials:
        return "<p>No trials yet.</p>"
    names = sorted({name for t in trials for name in t.sampled})
    head = ["trial", "state", *names, TARGET_NAME, "epochs run", "best epoch", "parameters"]
    head += ["MFLOPs", "seconds"]
    rows = []
    for t in trials:
        cells = [t.number, t.state.lower(), *(t.sampled.get(name) for name in names)]
        cells += [t.value, t.epochs_run, t.best_epoch, t.param_count]
        cells += [None if t.flops is None else t.flops / 1e6, t.seconds]
        rows.append("".join(f"<td>{_esc(_cell(c))}</td>" for c in cells))
    header = "".join(f"<th>{_esc(h)}</th>" for h in head)
    body = "".join(f"<tr>{row}</tr>" for row in rows)
    return (
        f"<details><summary>{len(trials)} trials</summary>"
        f'<table class="trials"><tr>{header}</tr>{body}</table></details>'
    )


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return f"{value:,}" if isinstance(value, int) else str(value)


# --- helpers -----------------------------------------------------------------------------------


def _class_names(study: optuna.Study, n_classes: int) -> list[str]:
    names = list(study.user_attrs.get(records.DATA, {}).get("class_names", []))
    if len(names) != n_classes:  # a study made by another program: number the classes
        names = list(range(n_classes))
    return [str(name) for name in names]


def _png(image: np.ndarray) -> str:
    """A data: URL of a (height, width, channels) uint8 image."""
    from PIL import Image

    pixels = image[..., 0] if image.shape[-1] == 1 else image
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _table(rows: Any) -> str:
    cells = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(_show(v))}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def _show(value: Any) -> str:
    if isinstance(value, dict) and _is_range(value):
        if "choices" in value:
            return "one of " + ", ".join(map(json.dumps, value["choices"]))
        step = f", step {value['step']}" if "step" in value else ""
        scale = ", log scale" if value.get("log") else ""
        return f"{value.get('low')} to {value.get('high')}{step}{scale}"
    return value if isinstance(value, str) else json.dumps(value)


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict) and not _is_range(value):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _is_range(value: dict[str, Any]) -> bool:
    """A search-space entry ({low, high, log} or {choices}) reads best on one line."""
    return bool(value) and set(value) <= {"low", "high", "log", "step", "choices"}


def _absent(sentence: str) -> str:
    return f'<p class="absent">{_esc(sentence)}</p>'


def _esc(text: object) -> str:
    return html.escape(str(text))
