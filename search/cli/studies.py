"""`studies`: the studies of a storage, and `studies delete NAME`: one deleted whole."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from search.cli.common import (
    Command,
    add_artifacts_flag,
    add_format_flag,
    add_storage_flag,
    artifacts_flag,
    storage_flag,
)
from search.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_storage_flag(parser, "a storage URL (default: the SQLite files in studies/)")
    add_format_flag(parser)
    actions = parser.add_subparsers(dest="studies_action", metavar="ACTION")
    delete = actions.add_parser(
        "delete",
        help="delete a study: its trials and its artifacts",
        description="delete a study: its trials and its artifacts (asks first unless --yes)",
    )
    delete.add_argument("name", help="the study's name")
    add_storage_flag(delete, "the study's storage URL", dest="delete_storage")
    add_artifacts_flag(delete, dest="delete_artifacts")
    delete.add_argument("--yes", action="store_true", help="do not ask before deleting")


def handle(args: argparse.Namespace) -> int:
    from search.storage.studies import sqlite_files_in, study_summaries

    storage = getattr(args, "delete_storage", None) or args.storage
    if storage is not None:
        urls = [storage_flag(storage)]
    else:
        urls = sqlite_files_in(Path("studies"))
        if not urls:
            raise ConfigError("no databases in studies/ here; pass --storage URL")
    if args.studies_action == "delete":
        return _delete_study(args, urls)
    summaries = [summary for url in urls for summary in study_summaries(url)]
    if args.format == "table":
        from search.outputs.tables import studies_table

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
    from search.storage.studies import delete_study, plan_deletion, study_summaries

    holding = [url for url in urls if any(s.name == args.name for s in study_summaries(url))]
    if not holding:
        raise ConfigError(f'no study "{args.name}" in {", ".join(urls)}')
    if len(holding) > 1:
        raise ConfigError(
            f'study "{args.name}" is in {len(holding)} databases ({", ".join(holding)}); '
            "pick one with --storage URL"
        )
    plan = plan_deletion(holding[0], args.name, artifacts_flag(args.delete_artifacts))
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


COMMAND = Command(
    "studies",
    "list the studies of a storage (default: every studies/*.db), or delete one",
    add_arguments,
    handle,
)
