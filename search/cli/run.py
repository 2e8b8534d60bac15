"""`run` and `worker`: run a study's trials, from a study file or from what the study recorded.

Both load the data, run the trials the study lacks and print the summary; `run` also makes the
study and evaluates the best trial on the test split.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from search.cli.common import (
    DASHBOARD_HOST,
    DASHBOARD_PORT,
    EXIT_INTERRUPTED,
    EXIT_NO_MODEL,
    Command,
    add_artifacts_flag,
    add_storage_flag,
    add_study_name_flag,
    default_export_folder,
    open_study,
    recorded_config,
)

if TYPE_CHECKING:
    from search.config.settings import StudyConfig
    from search.engine.runner import RunResult


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study_file", type=Path, help="the study file, e.g. studies/mnist.toml")
    parser.add_argument(
        "--n-trials",
        type=int,
        help="finished (complete or pruned) trials the study should have; overrides the file",
    )
    parser.add_argument(
        "--timeout", type=float, help="stop starting trials after this many seconds"
    )
    parser.add_argument(
        "--seed", type=int, help="seed of the sampler and of each trial's training"
    )
    _add_trial_flags(parser, "resume even though the file's settings or the data changed")


def run(args: argparse.Namespace) -> int:
    from search.config.study_file import load_config
    from search.engine.runner import run_study
    from search.space.ranges import repetition_warning

    config = load_config(
        args.study_file,
        n_trials=args.n_trials,
        timeout=args.timeout,
        seed=args.seed,
        workers=args.workers,
    )
    warning = repetition_warning(config.search_space, config.study.n_trials)
    if warning is not None:
        print(f"Warning: {config.path}: {warning}", file=sys.stderr)
    return _run_trials(args, config, run_study, named_by=str(args.study_file))  # as typed


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    add_storage_flag(parser, "the study's storage URL", required=True)
    add_study_name_flag(parser, required=True)
    parser.add_argument(
        "--n-trials",
        type=int,
        help="finished trials the study should have in all (default: as `run` recorded it)",
    )
    add_artifacts_flag(
        parser, "the study's artifact store as this machine sees it (default: as recorded)"
    )
    _add_trial_flags(
        parser, "go on although this machine's copy of the data differs from the study's"
    )


def worker(args: argparse.Namespace) -> int:
    from search.engine.runner import join_study
    from search.storage.database import pasteable_url

    config = recorded_config(open_study(args), n_trials=args.n_trials, workers=args.workers)
    # The commands next take the URL as it can be pasted: a hidden password (***) cannot be.
    url, had_password = pasteable_url(config.study.storage)
    named_by = f"--storage {url} --study-name {args.study_name}"
    hint = PASSWORD_HINT if had_password else None
    return _run_trials(args, config, join_study, named_by=named_by, hint=hint)


# Where a storage URL's password goes when the URL printed leaves it out.
PASSWORD_HINT = (
    "  (the storage's password is left out above: give it as PGPASSWORD=... or in ~/.pgpass, "
    "where PostgreSQL's client library reads it)"
)


def _add_trial_flags(parser: argparse.ArgumentParser, allow_changes: str) -> None:
    parser.add_argument(
        "--workers",
        metavar="N|auto",
        help="processes running trials side by side; auto: one per core (overrides [run] workers)",
    )
    parser.add_argument("--allow-changes", action="store_true", help=allow_changes)
    parser.add_argument("--quiet", action="store_true", help="print only the final summary")


def _run_trials(
    args: argparse.Namespace,
    config: StudyConfig,
    runner: Callable[..., RunResult],
    named_by: str,
    hint: str | None = None,
) -> int:
    """Load the data, run the study's trials with ``runner``, print the summary and what to do
    next (the study named by ``named_by`` in those commands, then ``hint``); the exit code."""
    from search.runtime import interrupts

    # Ctrl-C, and SIGTERM from `kill` or a batch scheduler, stop the run keeping finished trials.
    # From here on they are counted and acted on where that is safe: raised inside an import
    # (TensorFlow's, numpy's) a KeyboardInterrupt can be swallowed, and the run went on.
    with interrupts.caught():
        from search.data.folds import folds_line
        from search.data.loading import load_dataset
        from search.engine.budget import check_budget
        from search.outputs.console import ConsoleProgress
        from search.outputs.tables import run_summary
        from search.scheduler.events import Progress
        from search.storage.database import display_url
        from search.storage.trials import best_trial, first_failure

        dataset = load_dataset(config.data)  # before the storage: bad data never touches it
        interrupts.check()  # stopped while loading: nothing was touched
        # The runner checks it too; here, so that the Error line comes before anything else.
        check_budget(config, dataset)
        if not args.quiet:
            where = display_url(config.study.storage)
            print(f'study "{config.study.name}" in {where}\n{dataset.describe()}', file=sys.stderr)
            folds = folds_line(config.data.folds, len(dataset.y_val), len(dataset.y_train))
            if folds is not None:
                print(folds, file=sys.stderr)
        progress = (
            Progress()
            if args.quiet
            else ConsoleProgress(config.study.n_trials, config.study.timeout)
        )
        result = runner(config, dataset, progress=progress, allow_changes=args.allow_changes)
    if result.interrupted:
        print("Interrupted: finished trials are kept; run again to resume.", file=sys.stderr)
    elif not result.workers and not args.quiet:
        print(
            f'nothing to run: study "{config.study.name}" has its {config.study.n_trials} '
            "finished trials; raise n_trials, or pass --n-trials, to run more",
            file=sys.stderr,
        )
    print(run_summary(result.study, result.wall_seconds))
    if not args.quiet and best_trial(result.study) is not None:
        print(_next_steps(config, named_by, hint), file=sys.stderr)
    if result.interrupted:
        return EXIT_INTERRUPTED
    if best_trial(result.study) is None and result.workers:
        reason = first_failure(result.study)
        print(
            f'Error: no trial of study "{config.study.name}" completed'
            + (f"; the first failure: {reason}" if reason else ""),
            file=sys.stderr,
        )
        return EXIT_NO_MODEL
    return 0


def _next_steps(config: StudyConfig, named_by: str, hint: str | None = None) -> str:
    """Where the models are, and the commands that use them (then ``hint``)."""
    dashboard = f"http://{DASHBOARD_HOST}:{DASHBOARD_PORT}/dashboard/"
    return "\n".join(
        [
            f"models: {config.study.artifacts} (each complete trial's, at its best epoch)",
            "next:",
            f"  lenet-search export {named_by}      # {default_export_folder(config.study.name)}",
            f"  lenet-search report {named_by}      # one HTML page of the study",
            f"  lenet-search dashboard {named_by}   # {dashboard}",
            *([hint] if hint else []),
        ]
    )


RUN = Command(
    "run",
    "create or resume a study and run its trials, then print the best",
    add_run_arguments,
    run,
)
WORKER = Command(
    "worker",
    "join a study made by `run` elsewhere and run its trials (no study file needed)",
    add_worker_arguments,
    worker,
)
