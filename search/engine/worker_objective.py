"""The objective a spawned worker runs: the default ``WorkerJob.objective_factory``.

Everything TensorFlow is here, imported in the worker process only: the scheduler
(``search.scheduler``) runs any objective a factory hands it, which is how the tests
check their guarantees with objectives that take milliseconds (tests/stubs.py).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import optuna

from search.runtime import interrupts
from search.scheduler.events import Progress


def lenet_objective(
    job: Any, progress: Progress, *, precision: str
) -> tuple[Callable[[optuna.Trial], float], tuple[type[Exception], ...]]:
    """TensorFlow started with the job's threads (and GPU), the data loaded once, and the
    objective that trains a LeNet a trial in ``precision`` (the parent chose it: a partial of
    this function is the job's factory); with the exceptions that fail a trial, not the run."""
    from search.runtime.tensorflow import quiet_libraries, start_tensorflow

    quiet_libraries()
    if job.gpu is not None:  # before TensorFlow starts: it maps the GPUs it sees
        os.environ["CUDA_VISIBLE_DEVICES"] = job.gpu
    start_tensorflow(threads=job.threads)
    interrupts.check()

    from search.data.loading import load_dataset
    from search.engine.objective import TRIAL_FAILURES, Objective
    from search.storage.artifacts import open_artifact_store

    config = job.config
    dataset = load_dataset(config.data)
    store = open_artifact_store(
        config.study.artifacts, create=False, retry_seconds=config.run.storage_retry_seconds
    )
    return Objective(config, dataset, store, progress, precision), TRIAL_FAILURES
