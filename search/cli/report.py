"""`report`: one self-contained HTML page of the study's results."""

from __future__ import annotations

import argparse
from pathlib import Path

from search.cli.common import Command, add_study_target, open_study


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_study_target(parser, artifacts=True)
    parser.add_argument(
        "--output",
        type=Path,
        help="folder to write report.html into (default: NAME_report beside the study file, "
        "or here when the study is named by --storage)",
    )


def handle(args: argparse.Namespace) -> int:
    from search.outputs.report.document import default_output, write_report

    target = open_study(args)
    name = target.study.study_name
    beside = args.study_file.parent if args.study_file is not None else Path()
    output = args.output if args.output is not None else default_output(name, beside)
    written = write_report(
        target.study, output, storage_url=target.storage_url, artifacts=target.artifacts
    )
    print(f'report of study "{name}" written to {written.path}')
    return 0


COMMAND = Command(
    "report", "write one self-contained HTML page of the study's results", add_arguments, handle
)
