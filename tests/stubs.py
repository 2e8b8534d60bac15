"""Objectives that take milliseconds, for the scheduler's guarantees: exact trial counts with
several processes on one study, over real databases. Optuna tests its storages the same way
(``study.optimize(lambda _: 1.0, ...)``); one real LeNet study with workers stays end to end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from search.engine.events import Progress
from search.space.suggest import suggest


def instant_objective(job: Any, progress: Progress) -> tuple[Any, tuple]:
    """A ``WorkerJob.objective_factory``: each trial samples the study's space and scores it at
    once, no TensorFlow."""

    def objective(trial: Any) -> float:
        values = suggest(trial, job.config.search_space)
        progress.trial_started(trial.number, values)
        return values["dense_units"] / 100

    return objective, ()


def run_with_instant_trials(path: str) -> None:
    """What `run` of the study file ``path`` does up to its trials (make or resume the study
    under the lock, then reserve and run trials until it has n_trials), with the instant
    objective in this process: for `run`s started together."""
    from search.config.study_file import load_config
    from search.data.loading import load_dataset
    from search.engine.study import create_or_resume_study
    from search.engine.worker import RunLimits, run_trials
    from search.engine.worker_process import WorkerJob
    from search.storage.artifacts import open_artifact_store

    config = load_config(Path(path))
    store = open_artifact_store(config.study.artifacts, create=True)
    study = create_or_resume_study(config, load_dataset(config.data), store)
    job = WorkerJob(
        0, config, "float32", (), 1, None, config.study.n_trials, None, instant_objective
    )
    objective, failing = instant_objective(job, Progress())

    class Budget:
        value = config.study.n_trials

    limits = RunLimits(config.study.n_trials, Budget(), None)
    run_trials(study, objective, limits, Progress(), config.study.storage, failing)


TRIAL_SECONDS = 4.0  # how long a slow trial takes, in reports 0.2 s apart


def slow_objective(job: Any, progress: Progress) -> tuple[Any, tuple]:
    """A ``WorkerJob.objective_factory`` whose trials take TRIAL_SECONDS, reporting as they
    go: long enough to stop a worker in the middle of one."""
    import time

    def objective(trial: Any) -> float:
        values = suggest(trial, job.config.search_space)
        steps = int(TRIAL_SECONDS / 0.2)
        for step in range(1, steps + 1):
            time.sleep(0.2)
            trial.report(step / steps, step)  # a stopped worker's trial ended meanwhile: raises
        return values["dense_units"] / 100

    return objective, ()
