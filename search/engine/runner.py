"""What `run` and `worker` do, top to bottom: the study made or joined, its missing trials run
here or in worker processes, and (for `run`) the best trial evaluated on the test split.

Either way the workers coordinate only through the storage, so more processes, or machines
with PostgreSQL, can join a study at any time. The test split is evaluated here, once, at the
end of `run`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from functools import partial

import optuna

from search.config.settings import StudyConfig
from search.data.dataset import Dataset
from search.engine.budget import check_budget
from search.engine.closing import Closing
from search.engine.distill import distill_student
from search.engine.ensemble import evaluate_ensemble_on_test
from search.engine.evaluation import evaluate_best_on_test
from search.engine.precision import choose_precision
from search.engine.study import (
    check_artifact_owner,
    create_or_resume_study,
    handle_of,
    join_study_for_trials,
    open_for_trials,
)
from search.engine.warm_start import warm_start_note
from search.engine.worker_objective import lenet_objective
from search.runtime import interrupts
from search.runtime.tensorflow import start_tensorflow
from search.scheduler.events import Progress
from search.scheduler.plan import plan_workers
from search.scheduler.pool import run_worker_pool
from search.scheduler.recovery import recover_stale_trials
from search.scheduler.worker import Budget, RunLimits, run_trials
from search.storage import records
from search.storage.artifacts import ArtifactStore, open_artifact_store
from search.storage.records import EnsembleEvaluation, StudentEvaluation, TestEvaluation
from search.storage.trials import count_done, tally


@dataclass(frozen=True)
class RunResult:
    study: optuna.Study
    interrupted: bool
    wall_seconds: float
    test: TestEvaluation | None
    ensemble: EnsembleEvaluation | None  # of the best trials, when [ensemble] size asks for one
    student: StudentEvaluation | None  # distilled from the ensemble, when there is one
    workers: int  # processes that ran trials (0 when none were missing)
    precision: str | None  # the dtype policy trials trained in (None when none ran)


def run_study(
    config: StudyConfig,
    dataset: Dataset,
    *,
    progress: Progress | None = None,
    allow_changes: bool = False,
) -> RunResult:
    """Create or resume the study, run trials until it has ``n_trials`` done, evaluate the best.

    Ctrl-C or SIGTERM stops every worker (see ``search.runtime.interrupts``); the trials they were
    running are recorded as FAIL, finished ones are kept and the best is still evaluated (a
    second Ctrl-C skips that); ``RunResult.interrupted`` then says so.

    Raises:
        ConfigError: the study exists with other data, training or search-space settings and
            ``allow_changes`` is false.
        StorageError: the storage cannot be opened or is not an Optuna database.
    """
    progress = progress or Progress()
    check_budget(config, dataset)  # before anything
    with interrupts.caught():
        started, deadline = time.perf_counter(), _deadline(config)
        store = open_artifact_store(
            config.study.artifacts, create=True, retry_seconds=config.run.storage_retry_seconds
        )
        check_artifact_owner(config, store)
        study = create_or_resume_study(config, dataset, store, allow_changes)
        warm_start = warm_start_note(study)
        if warm_start is not None:
            progress.note(warm_start)
        closing = Closing.of(config)
        workers, precision = _run_trials(
            study, config, dataset, store, progress, deadline, closing
        )
        test = ensemble = student = None
        if interrupts.received() < 2:  # a second Ctrl-C skips the test split, not the summary
            start_tensorflow()
            test = evaluate_best_on_test(study, dataset, store)
        # After a Ctrl-C only the best is evaluated, so that `run` exits within two seconds:
        # the ensemble loads its members (a second or more) and a student trains for minutes.
        # The next `run` makes both.
        if interrupts.received() == 0:
            ensemble = evaluate_ensemble_on_test(
                study, dataset, store, config.ensemble.size, config.budget
            )
            try:
                student = distill_student(
                    study, dataset, store, ensemble, config.distill, config.study.seed, progress
                )
            except KeyboardInterrupt:
                pass  # stopped between two chunks: no student, the rest is stored
        wall = time.perf_counter() - started
        interrupted = interrupts.received() > 0
        return RunResult(study, interrupted, wall, test, ensemble, student, workers, precision)


def join_study(
    config: StudyConfig,
    dataset: Dataset,
    *,
    progress: Progress | None = None,
    allow_changes: bool = False,
) -> RunResult:
    """Run trials of a study that exists (`lenet-search worker`), with its recorded settings.

    Unlike ``run_study`` it neither creates the study nor evaluates the test split: the `run`
    that made the study does that, once, when it next runs.

    Raises:
        ConfigError: the data differs from the study's and ``allow_changes`` is false.
        StorageError: the storage or the artifact folder cannot be opened.
    """
    progress = progress or Progress()
    check_budget(config, dataset)
    with interrupts.caught():
        started, deadline = time.perf_counter(), _deadline(config)
        store = open_artifact_store(
            config.study.artifacts, create=False, retry_seconds=config.run.storage_retry_seconds
        )
        study = join_study_for_trials(config, dataset, store, allow_changes)
        workers, precision = _run_trials(study, config, dataset, store, progress, deadline)
        wall = time.perf_counter() - started
        interrupted = interrupts.received() > 0
        return RunResult(study, interrupted, wall, None, None, None, workers, precision)


def _deadline(config: StudyConfig) -> float | None:
    """When the timeout ends, as ``time.time()``: counted from the run's start, so that opening
    the study and choosing the workers and precision (seconds) are inside it."""
    timeout = config.study.timeout
    return None if timeout is None else time.time() + timeout


def _run_trials(
    study: optuna.Study,
    config: StudyConfig,
    dataset: Dataset,
    store: ArtifactStore,
    progress: Progress,
    deadline: float | None,
    closing: Closing | None = None,
) -> tuple[int, str | None]:
    """Run the trials the study lacks, here or in worker processes; (workers, precision).
    Trials start until ``deadline``, early enough for ``closing`` to end by it too."""
    handle = handle_of(study, config)
    recover_stale_trials(handle)
    n_trials = config.study.n_trials  # None: until the timeout
    records.set_study_record(study, records.N_TRIALS, n_trials)  # the storage proxy's limit
    trials_left = None if n_trials is None else n_trials - count_done(study)
    if trials_left is not None and trials_left <= 0:
        return 0, None
    plan = plan_workers(config.run.workers, trials_left)
    choice = choose_precision(config.training.precision)
    progress.run_started(
        tally(study),
        plan.count,
        [
            f"workers: {plan.count} ({plan.reason}), {plan.threads} TensorFlow thread(s) each"
            + (f", GPU {', '.join(g for g in plan.gpus if g)}" if any(plan.gpus) else ""),
            f"precision: {choice.policy} ({choice.reason})",
        ],
    )
    limits = RunLimits(n_trials, Budget.of(trials_left), deadline, closing=closing)
    if plan.count > 1:
        run_worker_pool(
            handle,
            plan,
            replace(limits, max_trials=config.run.trials_per_worker),
            progress,
            config=config,
            open_study=open_for_trials,
            objective_factory=partial(lenet_objective, precision=choice.policy),
        )
        return plan.count, choice.policy
    start_tensorflow()
    from search.engine.objective import TRIAL_FAILURES, Objective

    objective = Objective(config, dataset, store, progress, choice.policy)
    try:
        run_trials(handle, objective, limits, progress, TRIAL_FAILURES)
    except KeyboardInterrupt:
        pass  # recorded: interrupts.received() says so
    return 1, choice.policy
