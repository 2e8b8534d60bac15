"""Run a study's trials in several spawned worker processes and show them as one.

Workers are spawned, never forked, so that each starts its own TensorFlow with its own thread
count; each is pinned to its share of the cores. They coordinate only through the storage (the
study lock and the trials there), as Optuna's distributed mode does; the parent only starts them,
shows their progress, stops them on Ctrl-C or SIGTERM, and fails any trial a dead worker left
RUNNING the moment its process ends, so that a live worker runs the retry.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.connection import Connection, wait
from typing import Any

from optuna.trial import TrialState

from search.errors import LenetSearchError
from search.runtime import interrupts
from search.scheduler.events import (
    EpochEnded,
    Noted,
    Progress,
    TrialEnded,
    TrialOutcome,
    TrialStarted,
    WorkerCrashed,
    WorkerError,
    WorkerEvent,
    WorkerRetired,
)
from search.scheduler.handle import StudyHandle
from search.scheduler.plan import WorkerPlan
from search.scheduler.recovery import fail_and_retry
from search.scheduler.worker import RunLimits
from search.scheduler.worker_process import WorkerJob, worker_main
from search.storage import records
from search.storage.optuna_internals import trial_id

STOP_SECONDS = 60  # how long stopped workers get to record their trials before they are killed


def run_worker_pool(
    handle: StudyHandle,
    plan: WorkerPlan,
    limits: RunLimits,
    progress: Progress,
    *,
    config: Any,
    open_study: Callable[[Any], StudyHandle],
    objective_factory: Callable[..., Any],
) -> None:
    """Run the study's missing trials in ``plan.count`` processes, within ``limits`` (its
    budget shared by them all), until they end or a stop signal arrives
    (``search.runtime.interrupts``). Each process opens the study with ``open_study(config)``
    and runs the objective that ``objective_factory`` gives it (``WorkerJob``).

    Raises:
        LenetSearchError: a worker met a problem in the user's input or environment.
        RuntimeError: a worker crashed (a bug); its traceback is in the message.
    """
    context = multiprocessing.get_context("spawn")
    budget = context.Value("i", limits.budget.value)
    watch = _Watch(progress)
    jobs = [
        WorkerJob(
            index,
            config,
            plan.cpus[index],
            plan.threads,
            plan.gpus[index],
            replace(limits, budget=None),
            open_study,
            objective_factory,
        )
        for index in range(plan.count)
    ]

    def start(job: WorkerJob) -> multiprocessing.Process:
        # A pipe of its own per worker, not one queue for all: a worker killed while it writes
        # (SIGKILL, out of memory) would keep a shared queue's lock, and every other worker
        # would hang on its next event (seen: the pool waited for good).
        reader, writer = context.Pipe(duplex=False)
        with interrupts.ignored():  # inherited: a worker ignores them until its handler is set
            process = context.Process(
                target=worker_main, args=(job, budget, writer), name=f"worker-{job.index}"
            )
            process.start()
        writer.close()  # the worker holds the only writing end: its end is the pipe's end
        watch.pipes[reader] = job.index
        return process

    workers = [start(job) for job in jobs]
    # Ctrl-C in a terminal reaches the workers too; SIGTERM may reach this process alone.
    while not watch.problems and not interrupts.received():
        watch.take(timeout=0.2)
        _fail_orphans(handle, watch, workers)
        for index in sorted(watch.retired):  # it ran its trials_per_worker: a fresh one follows
            if index not in watch.pipes.values():  # all it said is read: its index is free
                workers[index].join()
                workers[index] = start(jobs[index])
                watch.retired.discard(index)
        # Done when every worker has ended and all it said is read: each pipe has ended.
        if not watch.pipes and not watch.retired:
            break
    if interrupts.received() or watch.problems:
        _stop(workers, watch)
    for worker in workers:
        worker.join()
    watch.drain()
    _fail_orphans(handle, watch, workers)
    if watch.errors:
        raise LenetSearchError(watch.errors[0])
    if watch.crashes:
        raise RuntimeError(f"a worker process crashed:\n{watch.crashes[0]}")


class _Watch:
    """Hands workers' events to the progress display and remembers what they report."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.running: dict[int, int] = {}  # trial number -> index of the worker running it
        self.errors: list[str] = []
        self.crashes: list[str] = []
        self.retired: set[int] = set()  # indexes of workers that ended to be replaced
        self.pipes: dict[Connection, int] = {}  # reading end -> worker index, while it is open
        self.ended: set[int] = set()  # indexes of workers whose pipe ended since last looked at

    @property
    def problems(self) -> bool:
        return bool(self.errors or self.crashes)

    def take(self, timeout: float) -> bool:
        """Handle the events that arrive within ``timeout``; whether there were any."""
        received = False
        for pipe in wait(list(self.pipes), timeout):
            try:
                event = pipe.recv()
            except EOFError:  # the worker ended (or died mid-event): nothing more will come
                self.ended.add(self.pipes.pop(pipe))
                pipe.close()
                continue
            self._handle(*event)
            received = True
        return received

    def _handle(self, worker: int, event: WorkerEvent) -> None:
        match event:
            case WorkerError(text):
                self.errors.append(text)
            case WorkerCrashed(trace):
                self.crashes.append(trace)
            case WorkerRetired():
                self.retired.add(worker)
            case TrialStarted(number, params):
                self.running[number] = worker
                self.progress.trial_started(number, params)
            case EpochEnded(number, epoch, epochs, accuracy):
                self.progress.epoch_ended(number, epoch, epochs, accuracy)
            case TrialEnded(outcome):
                self.running.pop(outcome.number, None)
                self.progress.trial_ended(outcome)
            case Noted(text):
                self.progress.note(text)
            case _:
                raise TypeError(f"not a worker event: {event!r}")

    def drain(self) -> None:
        while self.pipes:  # every worker has ended: each pipe ends with EOF
            self.take(timeout=0.1)


def _stop(workers: list, watch: _Watch) -> None:
    """SIGTERM every worker (idempotent: each stops once), then wait, reading their events."""
    for worker in workers:
        if worker.is_alive():
            os.kill(worker.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while any(w.is_alive() for w in workers) and time.monotonic() < deadline:
        watch.take(timeout=0.2)
    for worker in workers:
        if worker.is_alive():
            worker.kill()


def _fail_orphans(handle: StudyHandle, watch: _Watch, workers: list) -> None:
    """Fail the trials that workers which ended (killed, crashed) left RUNNING; retry them once.

    Done as soon as a worker's pipe ends, not when the run does: the retry is enqueued while
    other workers still reserve trials, so the study ends with its n_trials (a killed worker's
    heartbeat only goes stale after the grace period, often after the last trial started).
    """
    ended, watch.ended = watch.ended, set()
    orphans = {n: i for n, i in watch.running.items() if i in ended}
    if not orphans:
        return
    study = handle.study
    running = {t.number: t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
    for number, index in orphans.items():
        del watch.running[number]
        if number not in running:
            continue
        workers[index].join(timeout=5)  # its pipe has ended: the process is ending
        code = workers[index].exitcode
        reason = f"its worker process ended without recording it (exit code {code})"
        # Under the lock: a heartbeat's recovery may be failing the same trial.
        with handle.lock.held():
            failed = fail_and_retry(study, trial_id(running[number]), reason)
        if failed is not None:
            epochs_run = running[number].user_attrs.get(records.EPOCHS_RUN)
            watch.progress.trial_ended(TrialOutcome(number, "FAIL", None, epochs_run, reason))
