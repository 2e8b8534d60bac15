"""A spawned worker process, from its side: open the study, get its objective from the job's
factory (for a study, ``engine.worker_objective``: TensorFlow started, the data loaded once),
run trials.

It talks to the parent (``search.scheduler.pool``) only through its end of a pipe; everything else
goes through the study's storage. Its standard error is the parent's: quiet under the CLI
(``search.runtime.tensorflow.hide_native_output``).
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from search.errors import LenetSearchError
from search.runtime import interrupts
from search.scheduler.events import PipeProgress, WorkerCrashed, WorkerError, WorkerRetired
from search.scheduler.handle import StudyHandle
from search.scheduler.worker import RunLimits, run_trials


@dataclass(frozen=True)
class WorkerJob:
    """What a spawned worker needs; picklable, so that ``spawn`` can send it."""

    index: int
    config: Any  # what the factories read (the StudyConfig); the scheduler does not
    cpus: tuple[int, ...]  # the cores it is pinned to; none: not pinned
    threads: int  # the objective's threads per op pool
    gpu: str | None  # the one GPU it sees (CUDA_VISIBLE_DEVICES); None: as the parent does
    limits: RunLimits  # its budget is replaced by the pool's shared one
    # config -> the study opened to run trials (engine.study.open_for_trials), called in the
    # worker; module-level functions (or partials of them), so that they pickle by name.
    open_study: Callable[[Any], StudyHandle]
    # (job, progress) -> (objective, exceptions that fail a trial only), called in the worker
    # (a study's: engine.worker_objective.lenet_objective).
    objective_factory: Callable[..., tuple[Callable[..., float], tuple]]


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
    if job.cpus:
        os.sched_setaffinity(0, job.cpus)
    objective, failing = job.objective_factory(job, progress)
    limits = replace(job.limits, budget=budget)
    ran = run_trials(job.open_study(job.config), objective, limits, progress, failing)
    if ran == limits.max_trials:
        progress.send(WorkerRetired())  # the pool starts a fresh process in its place
