"""`best`: the best trial, and `best --repeat K`: its configuration retrained with other seeds."""

from __future__ import annotations

import argparse
import sys

from search.cli.common import (
    Command,
    StudyTarget,
    add_format_flag,
    add_study_target,
    open_study,
    recorded_config,
)
from search.errors import ConfigError, LenetSearchError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_study_target(parser, artifacts=True)
    add_format_flag(parser)
    parser.add_argument(
        "--repeat",
        type=int,
        metavar="K",
        help="retrain the best configuration with K other seeds and store mean and spread of "
        "validation accuracy (the test split is not used again)",
    )


def handle(args: argparse.Namespace) -> int:
    from search.outputs.tables import best_output

    target = open_study(args)
    if args.repeat is not None:
        _repeat_best(args, target)
    output = best_output(target.study, args.format)
    if output is None:
        raise LenetSearchError(f'study "{target.study.study_name}" has no complete trial yet')
    print(output)
    return 0


def _repeat_best(args: argparse.Namespace, target: StudyTarget) -> None:
    from search.outputs.repeat import repeat_best
    from search.runtime.tensorflow import start_tensorflow

    if args.repeat < 2:
        raise ConfigError(f"--repeat must be an integer of at least 2, got {args.repeat}")
    config = recorded_config(target)
    start_tensorflow()
    repeat_best(target.study, config, args.repeat, progress=sys.stderr)


COMMAND = Command(
    "best",
    "print the best trial: parameters, validation and test accuracy",
    add_arguments,
    handle,
)
