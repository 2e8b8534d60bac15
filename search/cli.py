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

# What `trials` and `best` print (search.tables, kept free of imports that take time).
FORMATS = ("table", "csv", "json")
SORT_KEYS = ("number", "value", "seconds")

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
  lenet-search report studies/quickstart.toml   one HTML page: plots, test confusion, mistakes
  lenet-search export studies/quickstart.toml --output exported/quickstart
  lenet-search predict exported/quickstart digit.png
  lenet-search dashboard studies/quickstart.toml
  lenet-search worker --storage URL --study-name NAME   join a study from another machine

`trials`, `best`, `report`, `export` and `dashboard` also take --storage URL --study-name NAME
instead of a study file; `studies` lists (or deletes) the studies of a storage. Run
`lenet-search COMMAND --help` for a command's options."""


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

    trials = command("trials", "print the study's trials: a table, CSV or JSON")
    _add_study_target(trials)
    _add_format_flag(trials)
    trials.add_argument(
        "--sort",
        choices=SORT_KEYS,
        default="number",
        help="order: trial number, validation accuracy (best first) or seconds (longest first)",
    )
    best = command("best", "print the best trial: parameters, validation and test accuracy")
    _add_study_target(best, artifacts=True)
    _add_format_flag(best)
    best.add_argument(
        "--repeat",
        type=int,
        metavar="K",
        help="retrain the best configuration with K other seeds and store mean and spread of "
        "validation accuracy (the test split is not used again)",
    )

    export = command("export", "write a trial's model, a SavedModel and a model card")
    _add_study_target(export, artifacts=True)
    export.add_argument("--output", type=Path, required=True, help="folder to write")
    export.add_argument(
        "--trial", type=int, metavar="N", help="a COMPLETE trial to export (default: the best)"
    )
    export.add_argument("--force", action="store_true", help="replace --output if it exists")

    predict = command("predict", "classify images with an exported model")
    predict.add_argument("export_dir", type=Path, help="a folder written by `export`")
    predict.add_argument("images", type=Path, nargs="+", help="image files (any size or colour)")
    predict.add_argument("--top", type=int, default=3, help="classes shown per image (3)")
    predict.add_argument(
        "--invert",
        action="store_true",
        help="invert the pixels (1 - x) first: for dark-on-light photos of light-on-dark data",
    )
    predict.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table: a line per image (default); json: a list of objects on stdout",
    )

    studies = command(
        "studies", "list the studies of a storage (default: every studies/*.db), or delete one"
    )
    studies.add_argument("--storage", help="a storage URL (default: the SQLite files in studies/)")
    _add_format_flag(studies)
    actions = studies.add_subparsers(dest="studies_action", metavar="ACTION")
    delete = actions.add_parser(
        "delete",
        help="delete a study: its trials and its artifacts",
        description="delete a study: its trials and its artifacts (asks first unless --yes)",
    )
    delete.add_argument("name", help="the study's name")
    delete.add_argument(
        "--storage", dest="delete_storage", metavar="URL", help="the study's storage URL"
    )
    delete.add_argument(
        "--artifacts",
        dest="delete_artifacts",
        metavar="DIR|s3://BUCKET/PREFIX",
        help="the study's artifact store (default: as recorded)",
    )
    delete.add_argument("--yes", action="store_true", help="do not ask before deleting")

    dashboard = command("dashboard", "open optuna-dashboard on the study's storage")
    _add_study_target(dashboard, artifacts=True)
    dashboard.add_argument("--host", default="127.0.0.1", help="address to serve on (127.0.0.1)")
    dashboard.add_argument("--port", type=int, default=8080, help="port to serve on (8080)")

    report = command("report", "write one self-contained HTML page of the study's results")
    _add_study_target(report, artifacts=True)
    report.add_argument(
        "--output", type=Path, help="folder to write report.html into (default: NAME_report)"
    )
    return parser


def _add_format_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table for people, csv or json for scripts",
    )


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
    from search.runtime import hide_native_output, quiet_libraries

    if not args.debug:  # TensorFlow's C++ start-up lines, whenever it prints them
        hide_native_output()
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
    from search import records
    from search.config import config_from_record
    from search.storage import load_study, open_storage
    from search.storage_url import resolve_storage_url
    from search.study import join_study

    try:
        url = resolve_storage_url(args.storage, Path.cwd())
    except ValueError as e:
        raise ConfigError(f"--storage {e}") from None
    study = load_study(open_storage(url, create=False), args.study_name)
    if records.CONFIG not in study.user_attrs:
        raise ConfigError(
            f'study "{args.study_name}" records no settings for workers (it was made by '
            "another program or an older lenet-search); run it with its study file instead"
        )
    config = config_from_record(
        study.user_attrs[records.CONFIG],
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
    from search import interrupts

    # Ctrl-C, and SIGTERM from `kill` or a batch scheduler, stop the run keeping finished trials.
    # From here on they are counted and acted on where that is safe: raised inside an import
    # (TensorFlow's, numpy's) a KeyboardInterrupt can be swallowed, and the run went on.
    with interrupts.caught():
        from search.data import load_dataset
        from search.progress import ConsoleProgress, Progress
        from search.storage import display_url
        from search.tables import run_summary
        from search.trials import best_trial, first_failure

        dataset = load_dataset(config.data)  # before the storage: bad data never touches it
        interrupts.check()  # stopped while loading: nothing was touched
        if not args.quiet:
            where = display_url(config.study.storage)
            print(f'study "{config.study.name}" in {where}\n{dataset.describe()}', file=sys.stderr)
        progress = (
            Progress()
            if args.quiet
            else ConsoleProgress(config.study.n_trials, config.study.timeout)
        )
        result = runner(
            config,
            dataset,
            progress=progress,
            allow_changes=args.allow_changes,
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
    from search.tables import trials_output

    print(trials_output(_open_study(args).study, args.format, args.sort))
    return 0


def cmd_best(args: argparse.Namespace) -> int:
    from search.tables import best_output

    target = _open_study(args)
    study = target.study
    if args.repeat is not None:
        _repeat_best(args, target)
    output = best_output(study, args.format)
    if output is None:
        raise LenetSearchError(f'study "{study.study_name}" has no complete trial yet')
    print(output)
    return 0


def _repeat_best(args: argparse.Namespace, target: _StudyTarget) -> None:
    from search.repeat import repeat_best
    from search.runtime import start_tensorflow

    if args.repeat < 2:
        raise ConfigError(f"--repeat must be an integer of at least 2, got {args.repeat}")
    config = _recorded_config(target)
    start_tensorflow()
    repeat_best(target.study, config, args.repeat, progress=sys.stderr)


def cmd_export(args: argparse.Namespace) -> int:
    from search.artifacts import open_artifact_store
    from search.data import load_dataset
    from search.export import export_trial
    from search.runtime import start_tensorflow
    from search.study import require_same_data

    target = _open_study(args)
    store = open_artifact_store(_artifacts(target), create=False)
    config = _recorded_config(target)
    dataset = load_dataset(config.data)  # the validation split, to measure the export on
    require_same_data(
        target.study, dataset, config, "the export's validation accuracy would not be comparable"
    )
    start_tensorflow()
    card = export_trial(
        target.study,
        store,
        args.output,
        validation=(dataset.x_val, dataset.y_val),
        trial_number=args.trial,
        storage_url=target.storage_url,
        force=args.force,
    )
    test = card["test_accuracy"]
    validation = f"validation accuracy {card['validation_accuracy']:.4f}"
    if card["training_precision"] != "float32":
        validation += (
            f" as trained in {card['training_precision']}, "
            f"{card['exported_validation_accuracy']:.4f} as exported in float32"
        )
    print(
        f'exported trial {card["trial"]} of study "{card["study"]}" to {args.output}: '
        f"model.keras, saved_model/, model_card.json ({validation}"
        + (f", test accuracy {test:.4f})" if test is not None else ")")
    )
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from search.predict import predict_images, predictions_json, unreadable_summary
    from search.runtime import start_tensorflow

    if args.top < 1:
        raise ConfigError(f"--top must be a positive integer, got {args.top}")
    start_tensorflow()
    predictions = predict_images(args.export_dir, args.images, top_k=args.top, invert=args.invert)
    # stdout changes with --format; stderr (warnings, the one Error line) is the same for both.
    for prediction in predictions:
        if prediction.warning is not None:
            print(f"Warning: {prediction.path}: {prediction.warning}", file=sys.stderr)
    if args.format == "json":
        print(predictions_json(predictions))
    else:
        for prediction in predictions:
            if prediction.error is None:
                shown = ", ".join(f"{name} {p:.1%}" for name, p in prediction.top)
                print(f"{prediction.path}: {shown}")
    unreadable = unreadable_summary(predictions)
    if unreadable is not None:  # every readable file was still classified and printed
        print(f"Error: {unreadable}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def cmd_studies(args: argparse.Namespace) -> int:
    from search.studies import sqlite_files_in, studies_table, study_summaries

    storage = getattr(args, "delete_storage", None) or args.storage
    if storage is not None:
        urls = [_storage_flag(storage)]
    else:
        urls = sqlite_files_in(Path("studies"))
        if not urls:
            raise ConfigError("no databases in studies/ here; pass --storage URL")
    if args.studies_action == "delete":
        return _delete_study(args, urls)
    summaries = [summary for url in urls for summary in study_summaries(url)]
    if args.format == "table":
        print(studies_table(summaries))
    else:
        import pandas as pd

        frame = pd.DataFrame([summary.__dict__ for summary in summaries])
        print(
            frame.to_csv(index=False).rstrip("\n")
            if args.format == "csv"
            else frame.to_json(orient="records", indent=2)
        )
    return 0


def _delete_study(args: argparse.Namespace, urls: list[str]) -> int:
    from search.studies import delete_study, plan_deletion, study_summaries

    holding = [url for url in urls if any(s.name == args.name for s in study_summaries(url))]
    if not holding:
        raise ConfigError(f'no study "{args.name}" in {", ".join(urls)}')
    if len(holding) > 1:
        raise ConfigError(
            f'study "{args.name}" is in {len(holding)} databases ({", ".join(holding)}); '
            "pick one with --storage URL"
        )
    plan = plan_deletion(holding[0], args.name, _artifacts_flag(args.delete_artifacts))
    artifacts = (
        f"{len(plan.artifact_ids)} artifacts in {plan.store}"
        if plan.store_kept is None
        else f"no artifacts ({plan.store_kept})"
    )
    what = f'study "{plan.name}" ({plan.trials} trials) from {plan.storage} and {artifacts}'
    if not args.yes:
        if not sys.stdin.isatty():
            raise ConfigError(
                f"not deleting {what} without --yes (standard input is not a terminal to ask)"
            )
        if input(f"Delete {what}? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Nothing deleted.", file=sys.stderr)
            return 0
    delete_study(holding[0], plan)
    print(f'deleted study "{plan.name}" from {plan.storage}, and {artifacts}')
    return 0


def _storage_flag(text: str) -> str:
    from search.storage_url import resolve_storage_url

    try:
        return resolve_storage_url(text, Path.cwd())
    except ValueError as e:
        raise ConfigError(f"--storage {e}") from None


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


def cmd_report(args: argparse.Namespace) -> int:
    from search.report import default_output, write_report

    target = _open_study(args)
    output = args.output if args.output is not None else default_output(target.study.study_name)
    written = write_report(
        target.study, output, storage_url=target.storage_url, artifacts=target.artifacts
    )
    print(f'report of study "{target.study.study_name}" written to {written.path}')
    return 0


COMMANDS = {
    "run": cmd_run,
    "worker": cmd_worker,
    "trials": cmd_trials,
    "best": cmd_best,
    "export": cmd_export,
    "predict": cmd_predict,
    "studies": cmd_studies,
    "dashboard": cmd_dashboard,
    "report": cmd_report,
}


@dataclass(frozen=True)
class _StudyTarget:
    storage_url: str
    storage: object  # an optuna RDBStorage
    study: object  # an optuna Study
    artifacts: ArtifactLocation | None
    config: StudyConfig | None = None  # when named by a study file


def _open_study(args: argparse.Namespace) -> _StudyTarget:
    """The study a read-only command names: by study file, or by --storage and --study-name."""
    from search import records
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
        name, artifacts, config = args.study_name, None, None
    else:
        raise ConfigError("give a study file, or --storage URL and --study-name NAME")
    storage = open_storage(url, create=False)
    study = load_study(storage, name)
    if getattr(args, "artifacts", None) is not None:
        artifacts = _artifacts_flag(args.artifacts)
    elif artifacts is None and records.ARTIFACT_DIR in study.user_attrs:
        artifacts = _recorded_artifacts(study)
    return _StudyTarget(url, storage, study, artifacts, config)


def _recorded_config(target: _StudyTarget) -> StudyConfig:
    """The study's settings: from its study file, or as `run` recorded them on the study."""
    from search import records
    from search.config import config_from_record

    if target.config is not None:
        return target.config
    study: Any = target.study
    if records.CONFIG not in study.user_attrs:
        raise ConfigError(
            f'study "{study.study_name}" records no settings (it was made by another program or '
            "an older lenet-search); name it by its study file instead"
        )
    return config_from_record(
        study.user_attrs[records.CONFIG],
        name=study.study_name,
        storage=target.storage_url,
        artifacts=target.artifacts,
    )


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
    from search import records
    from search.artifact_location import parse_artifact_location

    recorded = study.user_attrs[records.ARTIFACT_DIR]
    try:
        return parse_artifact_location(recorded, Path("/"))  # recorded absolute
    except ValueError as e:
        raise ConfigError(f'study "{study.study_name}": its artifact store {e}') from None


def entry_point() -> None:
    sys.exit(main())
