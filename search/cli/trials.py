"""`trials`: the study's trials as a table, CSV or JSON."""

from __future__ import annotations

import argparse

from search.cli.common import Command, add_format_flag, add_study_target, open_study
from search.outputs.text import SORT_KEYS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_study_target(parser)
    add_format_flag(parser)
    parser.add_argument(
        "--sort",
        choices=SORT_KEYS,
        default="number",
        help="order: trial number, validation accuracy (best first) or seconds (longest first)",
    )


def handle(args: argparse.Namespace) -> int:
    from search.outputs.tables import trials_output

    print(trials_output(open_study(args).study, args.format, args.sort))
    return 0


COMMAND = Command(
    "trials", "print the study's trials: a table, CSV or JSON", add_arguments, handle
)
