"""A worker's progress crosses to the parent through its pipe, event by event."""

import multiprocessing

from search.engine.events import PipeProgress, TrialOutcome


def test_each_event_arrives_as_worker_method_and_arguments() -> None:
    reader, writer = multiprocessing.Pipe(duplex=False)
    progress = PipeProgress(writer, worker=3)
    progress.trial_started(7, {"epochs": 2})
    progress.epoch_ended(7, 1, 2, 0.5)
    progress.trial_ended(TrialOutcome(7, "COMPLETE", 0.6, 2))
    assert [reader.recv() for _ in range(3)] == [
        (3, "trial_started", (7, {"epochs": 2})),
        (3, "epoch_ended", (7, 1, 2, 0.5)),
        (3, "trial_ended", (TrialOutcome(7, "COMPLETE", 0.6, 2),)),
    ]
