"""The ``lenet-search`` command: a thin shell over the library.

It parses flags, calls the library and turns a ``LenetSearchError`` into one ``Error: ...`` line
and exit code 2 (a traceback only with ``--debug``). Modules that need TensorFlow are imported
inside the commands that train or load models, so that ``--help``, ``trials`` and ``best``
answer at once.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from search.errors import ConfigError, LenetSearchError

if TYPE_CHECKING:  # the CLI imports the heavy modules only in the commands that need them
    from search.artifact_location import ArtifactLocation
    from search.config import StudyConfig
    from search.study import RunResult

EXIT_NO_MODEL = 1  # the run ended, but no trial completed (every one failed, say)
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

DESCRIPTION = """\
Search the hyperparameters of the Keras tutorial's LeNet (the channels of both convolutions,
the dense units, the epochs, ...) with an Optuna study: one LeNet variant per trial, pruned on
validation accuracy, stored in SQLite (or PostgreSQL), the best model evaluated once on the
held-out test set and exported ready to use."""

EPILOG = """\
typical use:
  lenet-search run studies/quickstart.toml      create or resume the study, run its trials
  lenet-search trials studies/quickstart.toml   table of trials
  lenet-search best studies/quickstart.toml     best trial with validation and test accuracy
  lenet-search export studies/quickstart.toml --output exported/quickstart
  lenet-search predict exported/quickstart digit.png
  lenet-search dashboard studies/quickstart.toml
  lenet-search worker --storage URL --study-name NAME   join a study from another machine

`trials`, `best`, `export` and `dashboard` also take --storage URL --study-name NAME instead
of a study file. Run `lenet-search COMMAND --help` for a command's options."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one ``Error:`` line like every other error."""

    def error(self, message: str) -> NoReturn:
        print(f"Error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    debug = argparse.ArgumentParser(add_help=False)
    debug.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the full traceback of an error",
    )
    parser = _Parser(
        prog="lenet-search",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help, description=help, parents=[debug])

    run = command("run", "create or resume a study and run its trials, then print the best")
    run.add_argument("study_file", type=Path, help="the study file, e.g. studies/mnist.toml")
    run.add_argument(
        "--n-trials",
        type=int,
        help="finished (complete or pruned) trials the study should have; overrides the file",
    )
    run.add_argument("--timeout", type=float, help="stop starting trials after this many seconds")
    run.add_argument("--seed", type=int, help="seed of the sampler and of each trial's training")
    _add_worker_flags(run)
    run.add_argument(
        "--allow-changes",
        action="store_true",
        help="resume even though the file's settings or the data changed",
    )
    run.add_argument("--quiet", action="store_true", help="print only the final summary")

    worker = command(
        "worker", "join a study made by `run` elsewhere and run its trials (no study file needed)"
    )
    worker.add_argument("--storage", required=True, help="the study's storage URL")
    worker.add_argument("--study-name", required=True, help="the study's name in --storage")
    worker.add_argument(
        "--n-trials",
        type=int,
        help="finished trials the study should have in all (default: as `run` recorded it)",
    )
    _add_worker_flags(worker)
    worker.add_argument(
        "--artifacts",
        metavar="DIR|s3://BUCKET/PREFIX",
        help="the study's artifact store as this machine sees it (default: as recorded)",
    )
    worker.add_argument(
        "--allow-changes",
        action="store_true",
        help="go on although this machine's copy of the data differs from the study's",
    )
    worker.add_argument("--quiet", action="store_true", help="print only the final summary")

    trials = command("trials", "print a table of the study's trials")
    _add_study_target(trials)
    best = command("best", "print the best trial: parameters, validation and test accuracy")
    _add_study_target(best)

    export = command("export", "write the best trial's model, a SavedModel and a model card")
    _add_study_target(export, artifacts=True)
    export.add_argument("--output", type=Path, required=True, help="folder to write")
    export.add_argument("--force", action="store_true", help="replace --output if it exists")

    predict = command("predict", "classify images with an exported model")
    predict.add_argument("export_dir", type=Path, help="a folder written by `export`")
    predict.add_argument("images", type=Path, nargs="+", help="image files (any size or colour)")
    predict.add_argument("--top", type=int, default=3, help="classes shown per image (3)")

    dashboard = command("dashboard", "open optuna-dashboard on the study's storage")
    _add_study_target(dashboard, artifacts=True)
    dashboard.add_argument("--host", default="127.0.0.1", help="address to serve on (127.0.0.1)")
    dashboard.add_argument("--port", type=int, default=8080, help="port to serve on (8080)")
    return parser


def _add_worker_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workers",
        metavar="N|auto",
        help="processes running trials side by side; auto: one per core (overrides [run] workers)",
    )


def _add_study_target(parser: argparse.ArgumentParser, artifacts: bool = False) -> None:
    parser.add_argument("study_file", type=Path, nargs="?", help="the study file (TOML)")
    parser.add_argument("--storage", help="a storage URL, instead of a study file")
    parser.add_argument("--study-name", help="the study's name in --storage")
    if artifacts:
        parser.add_argument(
            "--artifacts",
            metavar="DIR|s3://BUCKET/PREFIX",
            help="the study's artifact store (default: as recorded)",
        )


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help, or a usage error already printed as one line
        return int(e.code or 0)
    from search.runtime import quiet_libraries

    quiet_libraries()
    # SIGTERM (`kill`, a batch scheduler) ends any command like Ctrl-C: "Interrupted.", exit 130.
    # `run` and `worker` then count it instead, to stop where that is safe (search.interrupts).
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    try:
        return COMMANDS[args.command](args)
    except LenetSearchError as e:
        if args.debug:
            raise
        print(f"Error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


# --- commands ---------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from search.config import load_config
    from search.study import run_study

    config = load_config(
        args.study_file,
        n_trials=args.n_trials,
        timeout=args.timeout,
        seed=args.seed,
        workers=args.workers,
    )
    return _run_trials(args, config, run_study)


def cmd_worker(args: argparse.Namespace) -> int:
    from search.config import config_from_record
    from search.storage import load_study, open_storage
    from search.storage_url import resolve_storage_url
    from search.study import join_study

    try:
        url = resolve_storage_url(args.storage, Path.cwd())
    except ValueError as e:
        raise ConfigError(f"--storage {e}") from None
    study = load_study(open_storage(url, create=False), args.study_name)
    if "config" not in study.user_attrs:
        raise ConfigError(
            f'study "{args.study_name}" records no settings for workers (it was made by '
            "another program or an older lenet-search); run it with its study file instead"
        )
    config = config_from_record(
        study.user_attrs["config"],
        name=args.study_name,
        storage=url,
        artifacts=_artifacts_flag(args.artifacts),
        n_trials=args.n_trials,
        workers=args.workers,
    )
    return _run_trials(args, config, join_study)


def _run_trials(
    args: argparse.Namespace, config: StudyConfig, runner: Callable[..., RunResult]
) -> int:
    """Load the data, run the study's trials with ``runner``, print the summary; the exit code."""
    from search.data import load_dataset
    from search.progress import ConsoleProgress, Progress
    from search.report import run_summary
    from search.storage import display_url
    from search.trials import best_trial, first_failure

    dataset = load_dataset(config.data)  # before the storage: bad data never touches the database
    if not args.quiet:
        where = display_url(config.study.storage)
        print(f'study "{config.study.name}" in {where}\n{dataset.describe()}', file=sys.stderr)
    progress = (
        Progress() if args.quiet else ConsoleProgress(config.study.n_trials, config.study.timeout)
    )
    # Ctrl-C, and SIGTERM from `kill` or a batch scheduler, stop the run keeping finished trials.
    result = runner(
        config, dataset, progress=progress, allow_changes=args.allow_changes, show_logs=args.debug
    )
    if result.interrupted:
        print("Interrupted: finished trials are kept; run again to resume.", file=sys.stderr)
    print(run_summary(result.study, result.test, result.wall_seconds))
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


def cmd_trials(args: argparse.Namespace) -> int:
    from search.report import trials_table

    print(trials_table(_open_study(args).study))
    return 0


def cmd_best(args: argparse.Namespace) -> int:
    from search.report import best_report

    study = _open_study(args).study
    report = best_report(study)
    if report is None:
        raise LenetSearchError(f'study "{study.study_name}" has no complete trial yet')
    print(report)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from search.artifacts import open_artifact_store
    from search.export import export_best
    from search.runtime import start_tensorflow

    target = _open_study(args)
    store = open_artifact_store(_artifacts(target), create=False)
    start_tensorflow(show_logs=args.debug)
    card = export_best(
        target.study, store, args.output, storage_url=target.storage_url, force=args.force
    )
    test = card["test_accuracy"]
    print(
        f'exported trial {card["trial"]} of study "{card["study"]}" to {args.output}: '
        f"model.keras, saved_model/, model_card.json (validation accuracy "
        f"{card['validation_accuracy']:.4f}"
        + (f", test accuracy {test:.4f})" if test is not None else ")")
    )
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from search.export import predict_images
    from search.runtime import start_tensorflow

    if args.top < 1:
        raise ConfigError(f"--top must be a positive integer, got {args.top}")
    start_tensorflow(show_logs=args.debug)
    for prediction in predict_images(args.export_dir, args.images, top_k=args.top):
        shown = ", ".join(f"{name} {p:.1%}" for name, p in prediction.top)
        print(f"{prediction.path}: {shown}")
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    from optuna_dashboard import run_server

    from search.artifacts import open_artifact_store
    from search.storage import display_url

    if not 1 <= args.port <= 65535:
        raise ConfigError(f"--port must be a port number from 1 to 65535, got {args.port}")
    target = _open_study(args)
    # A study made elsewhere may have no artifact folder: the dashboard then shows no models.
    store = open_artifact_store(target.artifacts, create=False) if target.artifacts else None
    print(
        f"optuna-dashboard on {display_url(target.storage_url)} at "
        f"http://{args.host}:{args.port}/dashboard/ (Ctrl-C to stop)",
        flush=True,
    )
    try:
        run_server(target.storage, host=args.host, port=args.port, artifact_store=store)
    except OSError as e:
        raise LenetSearchError(
            f"cannot serve on {args.host}:{args.port} ({e.strerror or e}); pick another --port"
        ) from None
    return 0


COMMANDS = {
    "run": cmd_run,
    "worker": cmd_worker,
    "trials": cmd_trials,
    "best": cmd_best,
    "export": cmd_export,
    "predict": cmd_predict,
    "dashboard": cmd_dashboard,
}


@dataclass(frozen=True)
class _StudyTarget:
    storage_url: str
    storage: object  # an optuna RDBStorage
    study: object  # an optuna Study
    artifacts: ArtifactLocation | None


def _open_study(args: argparse.Namespace) -> _StudyTarget:
    """The study a read-only command names: by study file, or by --storage and --study-name."""
    from search.storage import load_study, open_storage

    by_flags = args.storage is not None or args.study_name is not None
    if args.study_file is not None and by_flags:
        raise ConfigError("give a study file or --storage and --study-name, not both")
    if args.study_file is not None:
        from search.config import load_config

        config = load_config(args.study_file)
        url, name, artifacts = config.study.storage, config.study.name, config.study.artifacts
    elif args.storage is not None and args.study_name is not None:
        from search.storage_url import resolve_storage_url

        try:
            url = resolve_storage_url(args.storage, Path.cwd())
        except ValueError as e:
            raise ConfigError(f"--storage {e}") from None
        name, artifacts = args.study_name, None
    else:
        raise ConfigError("give a study file, or --storage URL and --study-name NAME")
    storage = open_storage(url, create=False)
    study = load_study(storage, name)
    if getattr(args, "artifacts", None) is not None:
        artifacts = _artifacts_flag(args.artifacts)
    elif artifacts is None and "artifact_dir" in study.user_attrs:
        artifacts = _recorded_artifacts(study)
    return _StudyTarget(url, storage, study, artifacts)


def _artifacts(target: _StudyTarget) -> ArtifactLocation:
    if target.artifacts is None:
        raise ConfigError("this study has no recorded artifact store; pass --artifacts DIR")
    return target.artifacts


def _artifacts_flag(text: str | None) -> ArtifactLocation | None:
    from search.artifact_location import parse_artifact_location

    try:
        return None if text is None else parse_artifact_location(text, Path.cwd())
    except ValueError as e:
        raise ConfigError(f"--artifacts {e}") from None


def _recorded_artifacts(study: Any) -> ArtifactLocation:
    from search.artifact_location import parse_artifact_location

    recorded = study.user_attrs["artifact_dir"]
    try:
        return parse_artifact_location(recorded, Path("/"))  # recorded absolute
    except ValueError as e:
        raise ConfigError(f'study "{study.study_name}": its artifact store {e}') from None


def entry_point() -> None:
    sys.exit(main())
