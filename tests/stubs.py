"""Objectives that take milliseconds, for the scheduler's guarantees: exact trial counts with
several processes on one study, over real databases. Optuna tests its storages the same way
(``study.optimize(lambda _: 1.0, ...)``); one real LeNet study with workers stays end to end.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from search.scheduler.events import Progress
from search.scheduler.handle import StudyHandle
from search.scheduler.worker import Budget, RunLimits, run_trials
from search.space.suggest import suggest


def instant_objective(job: Any, progress: Progress) -> tuple[Any, tuple]:
    """A ``WorkerJob.objective_factory``: each trial samples the study's space and scores it at
    once, no TensorFlow."""

    def objective(trial: Any) -> float:
        values = suggest(trial, job.config.search_space)
        progress.trial_started(trial.number, values)
        return values["dense_units"] / 100

    return objective, ()


def made_study(study_file: Path) -> tuple[StudyHandle, Any]:
    """The study of ``study_file`` made (or resumed) as `run` makes it, and its config."""
    from search.config.study_file import load_config
    from search.data.loading import load_dataset
    from search.engine.study import create_or_resume_study
    from search.storage.artifacts import open_artifact_store

    config = load_config(study_file)
    store = open_artifact_store(config.study.artifacts, create=True)
    study = create_or_resume_study(config, load_dataset(config.data), store)
    return StudyHandle.of(study, config.study.storage), config


def run_with_instant_trials(path: str) -> None:
    """What `run` of the study file ``path`` does up to its trials (make or resume the study
    under the lock, then reserve and run trials until it has n_trials), with the instant
    objective in this process: for `run`s started together."""
    handle, config = made_study(Path(path))
    job = SimpleNamespace(config=config)
    objective, failing = instant_objective(job, Progress())
    limits = RunLimits(config.study.n_trials, Budget(config.study.n_trials), None)
    run_trials(handle, objective, limits, Progress(), failing)


def run_instant_pool(
    handle: StudyHandle,
    config: Any,
    workers: int,
    trials: int,
    factory: Callable[..., Any] = instant_objective,
    progress: Progress | None = None,
) -> None:
    """The worker pool on the study with a stub objective (``factory``; by default trials of
    milliseconds): the scheduler alone, in real processes on a real database."""
    from search.engine.study import open_for_trials
    from search.scheduler.plan import plan_workers
    from search.scheduler.pool import run_worker_pool

    limits = RunLimits(config.study.n_trials, Budget(trials), None, config.run.trials_per_worker)
    run_worker_pool(
        handle,
        plan_workers(workers, trials),
        limits,
        progress or Progress(),
        config=config,
        open_study=open_for_trials,
        objective_factory=factory,
    )


TRIAL_SECONDS = 4.0  # how long a slow trial takes, in reports 0.2 s apart


def slow_objective(
    job: Any, progress: Progress, seconds: float = TRIAL_SECONDS
) -> tuple[Any, tuple]:
    """A ``WorkerJob.objective_factory`` whose trials take ``seconds``, reporting as they go:
    long enough to stop a worker, or the database, in the middle of one (a partial of it with
    other ``seconds`` pickles too)."""
    import time

    def objective(trial: Any) -> float:
        values = suggest(trial, job.config.search_space)
        progress.trial_started(trial.number, values)
        steps = max(1, round(seconds / 0.2))
        for step in range(1, steps + 1):
            time.sleep(0.2)
            trial.report(step / steps, step)  # a stopped worker's trial ended meanwhile: raises
        return values["dense_units"] / 100

    return objective, ()
