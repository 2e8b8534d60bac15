"""What a running study prints: which trial, its parameters, each epoch and the best so far."""

from __future__ import annotations

import sys
import time
from typing import TextIO

import optuna
from optuna.trial import TrialState

from search.space import TrialParams
from search.trials import best_trial, count_done

SHORT_NAMES = {
    "conv1_channels": "conv1",
    "conv2_channels": "conv2",
    "dense_units": "dense",
    "epochs": "epochs",
    "batch_size": "batch",
    "learning_rate": "lr",
}


def format_params(params: dict) -> str:
    return " ".join(f"{SHORT_NAMES.get(k, k)}={_number(v)}" for k, v in params.items())


def _number(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


class Progress:
    """Silent progress: the interface, used as it is for ``--quiet``."""

    def trial_started(self, number: int, params: TrialParams) -> None:
        pass

    def epoch_ended(self, epoch: int, epochs: int, accuracy: float) -> None:
        pass

    def trial_ended(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        pass


class ConsoleProgress(Progress):
    """One line per epoch and one per finished trial, on stderr so stdout stays a report."""

    def __init__(self, n_trials: int, stream: TextIO = sys.stderr) -> None:
        self.n_trials = n_trials
        self.stream = stream
        self._number = 0
        self._started = 0.0

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def trial_started(self, number: int, params: TrialParams) -> None:
        self._number, self._started = number, time.perf_counter()
        self._print(f"trial {number} ({format_params(params.as_dict())})")

    def epoch_ended(self, epoch: int, epochs: int, accuracy: float) -> None:
        elapsed = time.perf_counter() - self._started
        self._print(
            f"  trial {self._number} epoch {epoch}/{epochs}  val_accuracy {accuracy:.4f}  "
            f"{elapsed:.0f}s"
        )

    def trial_ended(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        line = f"trial {trial.number} {trial.state.name}"
        if trial.state == TrialState.PRUNED:
            line += f" after epoch {trial.user_attrs.get('epochs_run')}"
        elif trial.value is not None:
            line += f" val_accuracy {trial.value:.4f}"
        if "fail_reason" in trial.user_attrs:
            line += f" ({trial.user_attrs['fail_reason']})"
        best = best_trial(study)
        if best is not None:
            line += f"  | best: trial {best.number} val_accuracy {best.value:.4f}"
        self._print(f"{line}  | {count_done(study)}/{self.n_trials} trials done")
