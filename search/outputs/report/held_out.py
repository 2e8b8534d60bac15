"""The report's section on the held-out test split: the best trial's single evaluation, with
its interval, the confusion matrix, accuracy per class and a gallery of the wrong predictions.

Read from what `run` stored when it evaluated the best trial (``engine.evaluation``): nothing
is evaluated here, and nothing is chosen by these numbers.
"""

from __future__ import annotations

import numpy as np
import optuna
import plotly.graph_objects as go

from search.engine.evaluation import Predictions, load_predictions
from search.errors import LenetSearchError
from search.outputs.report.page import Page, absent, esc, png_data_url
from search.stats import confusion_counts, wilson_interval
from search.storage import records
from search.storage.location import ArtifactLocation
from search.storage.records import stored_test_evaluation
from search.storage.trials import best_trial

GALLERY_LIMIT = 60  # wrong predictions shown; the page says how many there are in all


def test_section(page: Page, study: optuna.Study, artifacts: ArtifactLocation | None) -> str:
    best = best_trial(study)
    if best is None:
        return absent("No trial has completed, so no model was evaluated on the test split.")
    evaluation = stored_test_evaluation(study, best.number)
    if evaluation is None:
        return absent(
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
        return intro + accuracy + absent(why_not)

    y_true, y_pred = predictions.y_true, predictions.y_pred
    n = len(y_true)
    correct = int(np.sum(y_true == y_pred))
    names = _class_names(study, predictions.probabilities.shape[1])
    body = intro + _accuracy_line(correct, n)
    body += f"<p class=note>test loss {evaluation.loss:.4f}</p>"

    matrix = confusion_counts(y_true, y_pred, len(names))
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
    from search.storage.artifacts import open_artifact_store

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


def _gallery(page: Page, predictions: Predictions, names: list[str]) -> str:
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
            f"true <b>{esc(names[true])}</b><br>predicted <b>{esc(names[predicted[k]])}</b> "
            f"{confidence[k]:.0%}<br>(true class {probabilities[index, true]:.0%})"
        )
        alt = f"test image {index}"
        figures.append(
            f'<figure><img src="{png_data_url(predictions.wrong_images[k])}" alt="{alt}" '
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


def _class_names(study: optuna.Study, n_classes: int) -> list[str]:
    names = list(records.study_record(study, records.DATA, {}).get("class_names", []))
    if len(names) != n_classes:  # a study made by another program: number the classes
        names = list(range(n_classes))
    return [str(name) for name in names]
