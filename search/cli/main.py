"""The parser, built from every command's own flags, and ``main()``: the one place that turns
errors and signals into exit codes."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import traceback
from typing import NoReturn

from search.cli import (
    best,
    collect,
    dashboard,
    ensemble,
    export,
    play,
    predict,
    report,
    run,
    storage_proxy,
    studies,
    trials,
)
from search.cli.common import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_USAGE, Command
from search.errors import LenetSearchError

COMMANDS: tuple[Command, ...] = (
    run.RUN,
    run.WORKER,
    trials.COMMAND,
    best.COMMAND,
    ensemble.COMMAND,
    export.COMMAND,
    predict.COMMAND,
    play.COMMAND,
    collect.COMMAND,
    studies.COMMAND,
    dashboard.COMMAND,
    report.COMMAND,
    storage_proxy.COMMAND,
)

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
  lenet-search predict exported/quickstart shoe.png
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
    parser.add_argument("--version", action="version", version=f"lenet-search {_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        subparser = subparsers.add_parser(
            command.name, help=command.help, description=command.help, parents=[debug]
        )
        command.add_arguments(subparser)
        subparser.set_defaults(handler=command.handle)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help, or a usage error already printed as one line
        return int(e.code or 0)
    from search.runtime.tensorflow import hide_native_output, quiet_libraries

    if not args.debug:  # TensorFlow's C++ start-up lines, whenever it prints them
        hide_native_output()
    quiet_libraries()
    # SIGTERM (`kill`, a batch scheduler) ends any command like Ctrl-C: "Interrupted.", exit 130.
    # `run` and `worker` then count it instead, to stop where that is safe (runtime.interrupts).
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
    try:
        return args.handler(args)
    except BrokenPipeError:
        # The reader of our output stopped reading (`lenet-search trials | head`): as a shell
        # tool does, say nothing more; stdout goes nowhere so that its last flush is silent.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except LenetSearchError as e:
        if args.debug:  # the traceback too, and the same exit code as without --debug
            traceback.print_exc()
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


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("lenet-search")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def entry_point() -> None:
    sys.exit(main())
