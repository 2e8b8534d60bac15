"""A worker's progress crosses to the parent through its pipe, event by event, as records."""

import multiprocessing

from search.scheduler.events import (
    EpochEnded,
    PipeProgress,
    Progress,
    TrialEnded,
    TrialOutcome,
    TrialStarted,
    WorkerCrashed,
    WorkerError,
    WorkerRetired,
)
from search.scheduler.pool import _Watch

ENDED = TrialOutcome(7, "COMPLETE", 0.6, 2)


def test_each_event_arrives_as_the_worker_and_a_record() -> None:
    reader, writer = multiprocessing.Pipe(duplex=False)
    progress = PipeProgress(writer, worker=3)
    progress.trial_started(7, {"epochs": 2})
    progress.epoch_ended(7, 1, 2, 0.5)
    progress.trial_ended(ENDED)
    progress.send(WorkerRetired())
    assert [reader.recv() for _ in range(4)] == [
        (3, TrialStarted(7, {"epochs": 2})),
        (3, EpochEnded(7, 1, 2, 0.5)),
        (3, TrialEnded(ENDED)),
        (3, WorkerRetired()),
    ]


class _Seen(Progress):
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def trial_started(self, number, params) -> None:  # noqa: ANN001
        self.calls.append(("started", number, params))

    def epoch_ended(self, number, epoch, epochs, accuracy) -> None:  # noqa: ANN001
        self.calls.append(("epoch", number, epoch, epochs, accuracy))

    def trial_ended(self, outcome) -> None:  # noqa: ANN001
        self.calls.append(("ended", outcome))


def test_the_parent_shows_progress_and_keeps_which_worker_runs_what_and_how_workers_end() -> None:
    seen = _Seen()
    watch = _Watch(seen)
    watch._handle(1, TrialStarted(7, {"epochs": 2}))
    assert watch.running == {7: 1}
    watch._handle(1, EpochEnded(7, 1, 2, 0.5))
    watch._handle(1, TrialEnded(ENDED))
    assert watch.running == {}
    assert seen.calls == [
        ("started", 7, {"epochs": 2}),
        ("epoch", 7, 1, 2, 0.5),
        ("ended", ENDED),
    ]
    watch._handle(0, WorkerError("the data changed"))
    watch._handle(2, WorkerCrashed("Traceback ..."))
    watch._handle(3, WorkerRetired())
    assert (watch.errors, watch.crashes, watch.retired) == (
        ["the data changed"],
        ["Traceback ..."],
        {3},
    )
