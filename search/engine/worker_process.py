"""A spawned worker process, from its side: get its objective from the job's factory (for a
study, ``engine.worker_objective``: TensorFlow started, the data loaded once), run trials.

It talks to the parent (``search.engine.pool``) only through its end of a pipe; everything else
goes through the study's storage. Its standard error is the parent's: quiet under the CLI
(``search.runtime.tensorflow.hide_native_output``).
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from search.engine.events import PipeProgress, WorkerCrashed, WorkerError, WorkerRetired
from search.engine.worker import RunLimits, run_trials
from search.errors import LenetSearchError
from search.runtime import interrupts


@dataclass(frozen=True)
class WorkerJob:
    """What a spawned worker needs; picklable, so that ``spawn`` can send it."""

    index: int
    config: Any  # the StudyConfig
    precision: str
    cpus: tuple[int, ...]  # the cores it is pinned to; none: not pinned
    threads: int  # TensorFlow's threads per op pool
    gpu: str | None  # the one GPU it sees (CUDA_VISIBLE_DEVICES); None: as the parent does
    n_trials: int | None
    deadline: float | None
    # (job, progress) -> (objective, exceptions that fail a trial only), called in the worker
    # (a study's: engine.worker_objective.lenet_objective); a module-level function, so that
    # it pickles by name.
    objective_factory: Callable[..., tuple[Callable[..., float], tuple]]
    closing: Any = None  # a Closing: what the run does after its trials


def worker_main(job: WorkerJob, budget: Any, events: Any) -> None:
    """Entry point of a spawned worker: get the objective from the job's factory, run trials.

    Reports through ``events`` (its end of a pipe, as ``PipeProgress``): progress, then a
    ``WorkerError`` with the line of a problem the user can fix, or a ``WorkerCrashed`` with
    the traceback of a bug. Exits 130 when interrupted, 2 after an error, 1 after a crash.
    """
    code = 0
    progress = PipeProgress(events, job.index)
    # The parent started this process with the stop signals ignored; from here they are counted.
    with interrupts.caught():
        try:
            _work(job, budget, progress)
        except KeyboardInterrupt:
            code = 130
        except Exception as e:  # noqa: BLE001 - everything must reach the parent, not a traceback
            if isinstance(e, LenetSearchError):
                progress.send(WorkerError(str(e)))
                code = 2
            else:
                progress.send(WorkerCrashed(traceback.format_exc()))
                code = 1
    events.close()  # send() has written every event: they reach the parent
    os._exit(code)  # skip TensorFlow's slow and sometimes noisy teardown


def _work(job: WorkerJob, budget: Any, progress: PipeProgress) -> None:
    from search.engine.study import load_study_for_trials

    if job.cpus:
        os.sched_setaffinity(0, job.cpus)
    config = job.config
    objective, failing = job.objective_factory(job, progress)
    study = load_study_for_trials(config)
    limits = RunLimits(
        job.n_trials, budget, job.deadline, config.run.trials_per_worker, job.closing
    )
    ran = run_trials(study, objective, limits, progress, config.study.storage, failing)
    if ran == limits.max_trials:
        progress.send(WorkerRetired())  # the pool starts a fresh process in its place
