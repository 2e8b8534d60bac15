"""What the commands share: the ``Command`` record, the exit codes, the shared flags (each
declared once), and the study a command names (by study file, or by --storage and --study-name).

Nothing heavy is imported at module level: every command's module imports this one when the
parser is built, for ``--help`` too.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from search.errors import ConfigError
from search.outputs.text import FORMATS

if TYPE_CHECKING:  # the heavy modules are imported only by the commands that need them
    from search.config.settings import StudyConfig
    from search.storage.location import ArtifactLocation

EXIT_NO_MODEL = 1  # it ran, but made nothing: no trial completed, no round of `play` was played
EXIT_USAGE = 2  # bad input: one Error line
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM
EXIT_BROKEN_PIPE = 141  # the reader of the output went away (128 + SIGPIPE, as shells report)


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, what it does, its flags and what runs it (an exit code)."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    handle: Callable[[argparse.Namespace], int]


# --- shared flags -------------------------------------------------------------------------------


def add_study_target(parser: argparse.ArgumentParser, *, artifacts: bool = False) -> None:
    """A study named by its study file, or by --storage and --study-name (and --artifacts)."""
    parser.add_argument("study_file", type=Path, nargs="?", help="the study file (TOML)")
    add_storage_flag(parser, "a storage URL, instead of a study file")
    add_study_name_flag(parser)
    if artifacts:
        add_artifacts_flag(parser)


DASHBOARD_HOST, DASHBOARD_PORT = "127.0.0.1", 8080  # `dashboard`'s defaults; `run` names them


def default_export_folder(study_name: str, suffix: str = "") -> Path:
    """Where `export` writes when no --output is given: exported/<study><suffix> here."""
    from search.outputs.text import safe_name

    return Path("exported") / f"{safe_name(study_name)}{suffix}"


def add_storage_flag(
    parser: argparse.ArgumentParser, help: str, *, required: bool = False
) -> None:
    parser.add_argument("--storage", metavar="URL", required=required, help=help)


def add_study_name_flag(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    parser.add_argument(
        "--study-name", metavar="NAME", required=required, help="the study's name in --storage"
    )


def add_artifacts_flag(
    parser: argparse.ArgumentParser,
    help: str = "the study's artifact store (default: as recorded)",
) -> None:
    parser.add_argument("--artifacts", metavar="DIR|s3://BUCKET/PREFIX", help=help)


def add_format_flag(
    parser: argparse.ArgumentParser,
    choices: tuple[str, ...] = FORMATS,
    help: str = "table for people, csv or json for scripts",
) -> None:
    parser.add_argument("--format", choices=choices, default="table", help=help)


def storage_flag(text: str) -> str:
    """--storage's URL, resolved (a relative SQLite path against the current folder)."""
    from search.storage.url import resolve_storage_url

    try:
        return resolve_storage_url(text, Path.cwd())
    except ValueError as e:
        raise ConfigError(f"--storage {e}") from None


def artifacts_flag(text: str | None) -> ArtifactLocation | None:
    """--artifacts' folder (relative to the current folder) or s3:// location; None if unset."""
    from search.storage.location import parse_artifact_location

    try:
        return None if text is None else parse_artifact_location(text, Path.cwd())
    except ValueError as e:
        raise ConfigError(f"--artifacts {e}") from None


# --- the study a command names -------------------------------------------------------------------


@dataclass(frozen=True)
class StudyTarget:
    storage_url: str
    storage: Any  # an optuna RDBStorage
    study: Any  # an optuna Study
    artifacts: ArtifactLocation | None
    config: StudyConfig | None = None  # when named by a study file


def open_study(args: argparse.Namespace) -> StudyTarget:
    """The study a command names: by study file, or by --storage and --study-name."""
    from search.storage import records
    from search.storage.database import load_study, open_storage

    study_file = getattr(args, "study_file", None)
    by_flags = args.storage is not None or args.study_name is not None
    if study_file is not None and by_flags:
        raise ConfigError("give a study file or --storage and --study-name, not both")
    if study_file is not None:
        from search.config.study_file import load_config

        config = load_config(study_file)
        url, name, artifacts = config.study.storage, config.study.name, config.study.artifacts
    elif args.storage is not None and args.study_name is not None:
        url, name, artifacts, config = storage_flag(args.storage), args.study_name, None, None
    else:
        raise ConfigError("give a study file, or --storage URL and --study-name NAME")
    storage = open_storage(url, create=False)
    study = load_study(storage, name)
    if getattr(args, "artifacts", None) is not None:
        artifacts = artifacts_flag(args.artifacts)
    elif artifacts is None:
        artifacts = records.recorded_artifacts(study)
    return StudyTarget(url, storage, study, artifacts, config)


def recorded_config(target: StudyTarget, **overrides: Any) -> StudyConfig:
    """The study's settings: from its study file, or as `run` recorded them on the study;
    ``overrides`` (``n_trials``, ``workers``) as ``config_from_record`` takes them."""
    from search.config.record import config_from_record
    from search.storage import records

    if target.config is not None:
        return target.config
    study = target.study
    recorded = records.study_record(study, records.CONFIG)
    if recorded is None:
        raise ConfigError(
            f'study "{study.study_name}" records no settings (it was made by another program or '
            "an older lenet-search); use its study file instead"
        )
    return config_from_record(
        recorded,
        name=study.study_name,
        storage=target.storage_url,
        artifacts=target.artifacts,
        **overrides,
    )


def required_artifacts(target: StudyTarget) -> ArtifactLocation:
    if target.artifacts is None:
        raise ConfigError("this study has no recorded artifact store; pass --artifacts DIR")
    return target.artifacts


def check_serving_address(host: str, port: int, exposed_warning: str) -> None:
    """Before a server starts (and talks): ``--port`` in range and ``host:port`` free to serve
    on; where other machines can reach it, ``Warning: --host HOST: <exposed_warning>``.

    Raises:
        ConfigError: a port out of range.
        LenetSearchError: the address cannot be served on.
    """
    import sys

    from search.dashboard.server import check_address, exposed

    if not 1 <= port <= 65535:
        raise ConfigError(f"--port must be a port number from 1 to 65535, got {port}")
    check_address(host, port)
    if exposed(host):
        print(f"Warning: --host {host}: {exposed_warning}", file=sys.stderr)
