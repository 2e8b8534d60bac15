"""The pictures optuna-dashboard shows on a COMPLETE trial's page: its learning curves and its
validation confusion matrix, as PNG artifacts of the trial.

matplotlib is imported only where a picture is drawn, so commands that never train never load
it. Figures are small and drawn on Agg canvases without pyplot: no global backend, no window,
and tens of milliseconds each.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import optuna

from search.stats import confusion_counts

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from search.storage.artifacts import ArtifactStore


class EpochResult(Protocol):
    """What the pictures need of an epoch (``engine.training.EpochResult`` has it)."""

    epoch: int
    loss: float
    val_loss: float
    val_accuracy: float


CURVES_FILE = "learning_curves.png"
CONFUSION_FILE = "confusion_matrix.png"
FIGURE_INCHES = (5.0, 4.0)
DPI = 90
COUNTS_UP_TO = 15  # classes whose counts are written in the cells; more would not be legible
NAMES_UP_TO = 30  # classes named on the axes; beyond that the labels overlap


def upload_trial_pictures(
    trial: optuna.Trial,
    store: ArtifactStore,
    history: Sequence[EpochResult],
    best_epoch: int,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    class_names: Sequence[str],
) -> list[str]:
    """Draw the trial's learning curves and confusion matrix and upload them; their ids.

    ``optuna.artifacts.upload_artifact`` records each file on the trial, where the dashboard
    lists it and shows a PNG inline.
    """
    pictures = {
        CURVES_FILE: learning_curves_png(history, best_epoch),
        CONFUSION_FILE: confusion_matrix_png(y_true, y_pred, class_names),
    }
    ids = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, png in pictures.items():
            path = Path(tmp) / name  # the file name is the one the dashboard shows
            path.write_bytes(png)
            ids.append(
                optuna.artifacts.upload_artifact(
                    artifact_store=store, file_path=str(path), study_or_trial=trial
                )
            )
    return ids


def learning_curves_png(history: Sequence[EpochResult], best_epoch: int) -> bytes:
    """Training and validation loss above, validation accuracy below, per epoch."""
    from matplotlib.ticker import MaxNLocator

    figure = _figure()
    figure.subplots_adjust(left=0.16, right=0.97, bottom=0.12, top=0.92, hspace=0.08)
    loss, accuracy = figure.subplots(2, 1, sharex=True)
    epochs = [result.epoch for result in history]
    # Markers, so that a one-epoch trial still shows its points.
    loss.plot(epochs, [r.loss for r in history], "o-", ms=3, label="training")
    loss.plot(epochs, [r.val_loss for r in history], "o-", ms=3, label="validation")
    loss.set_ylabel("loss")
    loss.legend(fontsize="small")
    accuracy.plot(epochs, [r.val_accuracy for r in history], "o-", ms=3, color="C2")
    accuracy.set_ylabel("validation accuracy")
    accuracy.set_xlabel("epoch")
    accuracy.xaxis.set_major_locator(MaxNLocator(integer=True))
    for axes in (loss, accuracy):
        axes.axvline(best_epoch, color="grey", linestyle=":", linewidth=1)
        axes.grid(alpha=0.3)
    figure.suptitle(f"kept epoch {best_epoch} (dotted)", fontsize="medium")
    return _png(figure)


def confusion_matrix_png(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]
) -> bytes:
    """The confusion matrix of the validation split, true classes down, predicted across."""
    n = len(class_names)
    counts = confusion_counts(y_true, y_pred, n)
    figure = _figure()
    figure.subplots_adjust(left=0.25, right=0.97, bottom=0.25, top=0.93)
    axes = figure.subplots()
    axes.imshow(counts, cmap="Blues")
    if n <= COUNTS_UP_TO:
        dark = counts.max() / 2
        for (row, column), count in np.ndenumerate(counts):
            if count == 0:
                continue  # blank reads as none, and each text costs a millisecond or two
            axes.text(
                column,
                row,
                str(count),
                ha="center",
                va="center",
                fontsize="x-small",
                color="white" if count > dark else "black",
            )
    if n <= NAMES_UP_TO:
        names = [name if len(name) <= 12 else name[:11] + "…" for name in class_names]
        axes.set_xticks(range(n), names, rotation=45, ha="right", fontsize="x-small")
        axes.set_yticks(range(n), names, fontsize="x-small")
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    correct, total = int(np.trace(counts)), int(counts.sum())
    axes.set_title(
        f"validation: {correct} of {total} right ({correct / max(total, 1):.1%})",
        fontsize="medium",
    )
    return _png(figure)


def _figure() -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Fixed margins: constrained layout would measure every label first, doubling the time.
    figure = Figure(figsize=FIGURE_INCHES, dpi=DPI)
    FigureCanvasAgg(figure)  # Agg whatever backend the process chose, and no pyplot state
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
