"""What a running study reports: trials started and ended, each epoch, and the study as a whole.

Workers in other processes report through ``PipeProgress``; the parent hands each event to its
own ``Progress``, so that one display covers the whole study however many workers run it. How
the events are shown is the CLI's (``search.outputs.console``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from search.storage.trials import StudyTally


@dataclass(frozen=True)
class TrialOutcome:
    """How a trial ended, as the display needs it (picklable, for events between processes)."""

    number: int
    state: str  # "COMPLETE", "PRUNED" or "FAIL"
    value: float | None  # validation accuracy of a COMPLETE trial
    epochs_run: int | None
    reason: str | None = None  # why it failed, or why it was over the size budget
    over_budget: bool = False  # pruned before training: over [search_space]'s size budget
    val_loss: float | None = None  # of a COMPLETE trial's best epoch: ties in value go by it


class Progress:
    """Silent progress: the interface, used as it is for ``--quiet``."""

    def run_started(self, tally: StudyTally, workers: int, notes: list[str]) -> None:
        pass

    def trial_started(self, number: int, params: dict[str, Any]) -> None:
        pass

    def epoch_ended(self, number: int, epoch: int, epochs: int, accuracy: float) -> None:
        pass

    def trial_ended(self, outcome: TrialOutcome) -> None:
        pass

    def note(self, text: str) -> None:
        """A line on what the run does besides trials (the student it distills, say)."""


# What a worker process sends its parent, each as (worker index, event): picklable records.


@dataclass(frozen=True)
class TrialStarted:
    number: int
    params: dict[str, Any]


@dataclass(frozen=True)
class EpochEnded:
    number: int
    epoch: int
    epochs: int
    accuracy: float


@dataclass(frozen=True)
class TrialEnded:
    outcome: TrialOutcome


@dataclass(frozen=True)
class Noted:
    text: str


@dataclass(frozen=True)
class WorkerError:
    """The worker stopped on a problem the user can fix: its one line."""

    text: str


@dataclass(frozen=True)
class WorkerCrashed:
    """The worker stopped on a bug: its traceback."""

    traceback: str


@dataclass(frozen=True)
class WorkerRetired:
    """The worker ran its trials_per_worker and ended, to be replaced by a fresh process."""


WorkerEvent = (
    TrialStarted | EpochEnded | TrialEnded | Noted | WorkerError | WorkerCrashed | WorkerRetired
)


class PipeProgress(Progress):
    """A worker's progress: each event goes to the parent process through ``pipe`` (the
    worker's end of a ``multiprocessing.Pipe``) as ``(worker index, event)``."""

    def __init__(self, pipe: Any, worker: int) -> None:
        self.pipe, self.worker = pipe, worker

    def send(self, event: WorkerEvent) -> None:
        self.pipe.send((self.worker, event))

    def trial_started(self, number: int, params: dict[str, Any]) -> None:
        self.send(TrialStarted(number, params))

    def epoch_ended(self, number: int, epoch: int, epochs: int, accuracy: float) -> None:
        self.send(EpochEnded(number, epoch, epochs, accuracy))

    def trial_ended(self, outcome: TrialOutcome) -> None:
        self.send(TrialEnded(outcome))

    def note(self, text: str) -> None:
        self.send(Noted(text))
