"""`studies`: the studies of a storage; `studies delete`: one of them deleted whole.

Both name the storage as every command does, by a study file or by --storage; without either
they look at every SQLite database in ./studies/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from search.cli.common import (
    EXIT_NO_MODEL,
    Command,
    add_artifacts_flag,
    add_format_flag,
    add_storage_flag,
    add_study_name_flag,
    artifacts_flag,
    storage_flag,
)
from search.errors import ConfigError
from search.words import plural

USAGE = """\
lenet-search studies [STUDY_FILE | --storage URL] [--format FORMAT]
       lenet-search studies delete [STUDY_FILE | [--storage URL] --study-name NAME]
                                   [--artifacts DIR|s3://BUCKET/PREFIX] [--yes]"""
EXIT_DECLINED = EXIT_NO_MODEL  # asked, and answered no: nothing was deleted


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.usage = USAGE
    parser.add_argument(
        "words",
        nargs="*",
        metavar="[delete] [STUDY_FILE]",
        help="a study file: the studies of its storage (default: every studies/*.db here); "
        "`delete` first: delete the study it names",
    )
    add_storage_flag(parser, "a storage URL, instead of a study file")
    add_study_name_flag(parser)
    add_artifacts_flag(parser, "with delete: the study's artifact store (default: as recorded)")
    add_format_flag(parser)
    parser.add_argument("--yes", action="store_true", help="with delete: do not ask first")


def handle(args: argparse.Namespace) -> int:
    from search.storage.studies import study_summaries

    words = list(args.words)
    deleting = bool(words) and words[0] == "delete"
    words = words[1:] if deleting else words
    if len(words) > 1:
        raise ConfigError(f"give one study file, got {len(words)}: {' '.join(words)}")
    study_file = Path(words[0]) if words else None
    if study_file is not None and args.storage is not None:
        raise ConfigError("give a study file or --storage, not both")
    if study_file is not None and args.study_name is not None:
        raise ConfigError(
            f"{study_file} names its study; --study-name goes with --storage (or studies/*.db)"
        )
    if not deleting:
        for flag, value in (("--study-name", args.study_name), ("--artifacts", args.artifacts)):
            if value is not None:
                raise ConfigError(f"{flag} goes with `studies delete`")
        if args.yes:
            raise ConfigError("--yes goes with `studies delete`")
    if deleting:
        return _delete(args, study_file)
    summaries = [summary for url in _urls(args, study_file) for summary in study_summaries(url)]
    print(_listing(summaries, args.format))
    return 0


def _urls(args: argparse.Namespace, study_file: Path | None) -> list[str]:
    """The storages the command means: the study file's, --storage, or every studies/*.db."""
    if study_file is not None:
        from search.config.study_file import load_config

        return [load_config(study_file).study.storage]
    if args.storage is not None:
        return [storage_flag(args.storage)]
    from search.storage.studies import sqlite_files_in

    urls = sqlite_files_in(Path("studies"))
    if not urls:
        raise ConfigError("no databases in studies/ here; name a study file or pass --storage URL")
    return urls


def _listing(summaries: list, fmt: str) -> str:
    import json
    from dataclasses import asdict, fields

    from search.storage.studies import StudySummary

    if fmt == "table":
        from search.outputs.studies_table import studies_table

        return studies_table(summaries)
    rows = [asdict(summary) for summary in summaries]
    if fmt == "json":
        return json.dumps(rows, indent=2)
    import pandas as pd

    columns = [field.name for field in fields(StudySummary)]  # a header even for no studies
    frame = pd.DataFrame(rows, columns=columns).astype({"best_trial": "Int64"})
    return frame.to_csv(index=False).rstrip("\n")


def _delete(args: argparse.Namespace, study_file: Path | None) -> int:
    from search.storage.studies import delete_study, plan_deletion, study_summaries

    artifacts = artifacts_flag(args.artifacts)
    if study_file is not None:
        from search.config.study_file import load_config

        config = load_config(study_file)
        urls, name = [config.study.storage], config.study.name
        artifacts = artifacts or config.study.artifacts
    elif args.study_name is not None:
        urls, name = _urls(args, None), args.study_name
    else:
        raise ConfigError(
            "studies delete needs a study file, or --study-name NAME (with --storage URL, or "
            "in studies/*.db here)"
        )
    holding = [url for url in urls if any(s.name == name for s in study_summaries(url))]
    if not holding:
        raise ConfigError(f'no study "{name}" in {", ".join(urls)}')
    if len(holding) > 1:
        raise ConfigError(
            f'study "{name}" is in {len(holding)} databases ({", ".join(holding)}); '
            "pick one with --storage URL"
        )
    plan = plan_deletion(holding[0], name, artifacts)
    removed = (
        f"{len(plan.artifact_ids)} artifacts in {plan.store}"
        if plan.store_kept is None
        else f"no artifacts ({plan.store_kept})"
    )
    what = (
        f'study "{plan.name}" ({plural(plan.trials, "trial")}) from {plan.storage} and {removed}'
    )
    if not args.yes:
        if not sys.stdin.isatty():
            raise ConfigError(
                f"not deleting {what} without --yes (standard input is not a terminal to ask)"
            )
        if input(f"Delete {what}? [y/N] ").strip().lower() not in ("y", "yes"):
            print("Nothing deleted.", file=sys.stderr)
            return EXIT_DECLINED
    database = delete_study(holding[0], plan)
    print(f'deleted study "{plan.name}" from {plan.storage}, and {removed}')
    if database is not None:
        print(f"{database} held no other study: removed it, and its lock")
    return 0


COMMAND = Command(
    "studies",
    "list the studies of a storage (default: every studies/*.db), or delete one",
    add_arguments,
    handle,
)
