"""The run's progress on a terminal: a line per trial start, per epoch and per trial end."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from search.outputs.text import clock, format_params
from search.scheduler.events import Progress, TrialOutcome
from search.storage.trials import StudyTally
from search.words import plural


class ConsoleProgress(Progress):
    """A line per trial start, per epoch and per trial end, on stderr so stdout stays a report.

    Each trial-end line also says where the study stands: trials done of ``n_trials`` (None: a
    study that runs until its timeout), how many run now, the best so far, the time elapsed and
    an estimate of the time left.
    """

    def __init__(
        self, n_trials: int | None, timeout: float | None = None, stream: TextIO | None = None
    ) -> None:
        # sys.stderr when it prints, not when this module was imported: the CLI may move it.
        self.n_trials, self.timeout, self._stream = n_trials, timeout, stream
        self.tally = StudyTally()
        self._started = time.perf_counter()
        self._trial_started: dict[int, float] = {}
        self._trained_in_run = 0

    def _print(self, text: str) -> None:
        print(text, file=self._stream or sys.stderr, flush=True)

    def run_started(self, tally: StudyTally, workers: int, notes: list[str]) -> None:
        self.tally, self._started = tally, time.perf_counter()
        for note in notes:
            self._print(note)
        runs = f"{workers} worker processes" if workers > 1 else "one process"
        if self.n_trials is None:
            budget = clock(self.timeout or 0)  # a study without n_trials has a timeout
            self._print(f"trials until the timeout ({budget}) in {runs}; {tally.done} done before")
        elif self.n_trials > tally.done:
            left = self.n_trials - tally.done
            self._print(f"{plural(left, 'trial')} to run in {runs}; {tally.done} done before")

    def trial_started(self, number: int, params: dict[str, Any]) -> None:
        self._trial_started[number] = time.perf_counter()
        self._print(f"trial {number} ({format_params(params)})")

    def epoch_ended(self, number: int, epoch: int, epochs: int, accuracy: float) -> None:
        elapsed = time.perf_counter() - self._trial_started.get(number, self._started)
        self._print(
            f"  trial {number} epoch {epoch}/{epochs}  val_accuracy {accuracy:.4f}  {elapsed:.0f}s"
        )

    def note(self, text: str) -> None:
        self._print(text)

    def trial_ended(self, outcome: TrialOutcome) -> None:
        self._trial_started.pop(outcome.number, None)
        self.tally.add(
            outcome.number, outcome.state, outcome.value, outcome.over_budget, outcome.val_loss
        )
        self._trained_in_run += not outcome.over_budget  # those take no time: not the rate
        line = f"trial {outcome.number} {outcome.state}"
        if outcome.over_budget:
            line += " before training"
        elif outcome.state == "PRUNED":
            line += f" after epoch {outcome.epochs_run}"
        elif outcome.value is not None:
            line += f" val_accuracy {outcome.value:.4f}"
        if outcome.reason:
            line += f" ({outcome.reason})"
        self._print(f"{line}\n  {self.status()}")

    def status(self) -> str:
        """Where the study stands, in one line."""
        tally = self.tally
        parts = [
            f"{tally.done}{'' if self.n_trials is None else f'/{self.n_trials}'} done "
            f"({tally.complete} complete, {tally.pruned} pruned"
            + (f", {tally.over_budget} over budget" if tally.over_budget else "")
            + (f", {tally.failed} failed)" if tally.failed else ")"),
            f"{len(self._trial_started)} running",
        ]
        if tally.best_number is not None:
            parts.append(f"best: trial {tally.best_number} val_accuracy {tally.best_value:.4f}")
        elapsed = time.perf_counter() - self._started
        parts.append(f"{clock(elapsed)} elapsed, ETA {self._eta(elapsed)}")
        return " | ".join(parts)

    def _eta(self, elapsed: float) -> str:
        """Time left: trials left at this run's rate of trained trials so far, capped by the
        timeout."""
        estimate = None
        if self.n_trials is not None:
            left = self.n_trials - self.tally.done
            if left <= 0:
                return "0:00"
            estimate = left * elapsed / self._trained_in_run if self._trained_in_run else None
        if self.timeout is not None:
            # The timeout stops new trials; those running then still finish.
            by_timeout = max(self.timeout - elapsed, 0.0)
            if estimate is None or estimate > by_timeout:
                return f"{clock(by_timeout)}+ (timeout)"
        return clock(estimate) if estimate is not None else "unknown yet"
