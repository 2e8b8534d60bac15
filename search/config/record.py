"""A study's config as JSON on the study, so that `worker` needs no study file, and read back;
and what changed between two recorded settings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from search.config.reader import json_safe
from search.config.settings import (
    PATH_KEYS,
    DataSettings,
    DistillSettings,
    EnsembleSettings,
    PrunerSettings,
    RunSettings,
    SamplerSettings,
    SizeBudget,
    StudyConfig,
    StudySettings,
    TrainingSettings,
)
from search.config.study_file import workers_flag
from search.errors import ConfigError
from search.space.ranges import KINDS
from search.storage.location import ArtifactLocation, parse_artifact_location


def config_record(config: StudyConfig) -> dict[str, Any]:
    """The resolved config as JSON values, stored on the study so that `worker` needs no file."""
    record: dict[str, Any] = {
        name: dataclasses.asdict(getattr(config, name))
        for name in (
            *("study", "data", "training", "run", "sampler", "pruner"),
            *("ensemble", "distill", "budget"),
        )
    }
    for name in ("name", "storage"):  # a worker names them itself: they locate the record
        del record["study"][name]
    del record["study"]["warm_start"]  # the study's making, which workers never redo: its URL
    # may hold a password
    record["search_space"] = {
        name: {"kind": type(param).__name__, **dataclasses.asdict(param)}
        for name, param in config.search_space.items()
    }
    record["file_settings"] = config.file_settings
    return json_safe(record)


def config_from_record(
    record: dict[str, Any],
    *,
    name: str,
    storage: str,
    artifacts: ArtifactLocation | None = None,
    n_trials: int | None = None,
    workers: int | str | None = None,
) -> StudyConfig:
    """The StudyConfig that ``config_record`` stored; the keyword arguments override it.

    Raises:
        ConfigError: the record is not one this version of lenet-search wrote.
    """
    try:
        study = dict(record["study"], name=name, storage=storage)
        study["artifacts"] = artifacts or parse_artifact_location(study["artifacts"], Path("/"))
        data = {
            key: Path(value) if key in PATH_KEYS and value is not None else value
            for key, value in record["data"].items()
        }
        space = {
            key: KINDS[spec.pop("kind")](
                **{k: tuple(v) if k == "choices" else v for k, v in spec.items()}
            )
            for key, spec in ((k, dict(v)) for k, v in record["search_space"].items())
        }
        config = StudyConfig(
            path=None,
            study=StudySettings(**study),
            data=DataSettings(**data),
            training=TrainingSettings(**record["training"]),
            run=RunSettings(**record["run"]),
            sampler=SamplerSettings(**record["sampler"]),
            pruner=PrunerSettings(**record["pruner"]),
            # Studies recorded before ensembles existed get the default.
            ensemble=EnsembleSettings(**record.get("ensemble", {})),
            distill=DistillSettings(**record.get("distill", {})),
            search_space=space,
            file_settings=record["file_settings"],
            budget=SizeBudget(**record.get("budget", {})),
        )
    except (KeyError, TypeError) as e:
        raise ConfigError(
            f'study "{name}" has no settings this version of lenet-search can read ({e!r}); '
            "run it with its study file instead"
        ) from None
    except ValueError as e:  # its artifact store needs a package this machine lacks
        raise ConfigError(f'study "{name}": its artifact store {e}') from None
    if n_trials is not None and n_trials < 1:
        raise ConfigError(f"--n-trials must be a positive integer, got {n_trials}")
    return dataclasses.replace(
        config,
        study=dataclasses.replace(config.study, n_trials=n_trials or config.study.n_trials),
        run=(
            dataclasses.replace(config.run, workers=workers_flag(workers))
            if workers is not None
            else config.run
        ),
    )


def settings_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human-readable differences between two nested settings tables, as dotted keys."""
    flat_old, flat_new = flatten(old), flatten(new)
    lines = []
    for key in sorted(flat_old.keys() | flat_new.keys()):
        before, after = flat_old.get(key, "(unset)"), flat_new.get(key, "(unset)")
        if before != after:
            lines.append(f"{key} {before} -> {after}")
    return lines


def flatten(
    table: dict[str, Any], prefix: str = "", keep: Callable[[Any], bool] = lambda value: False
) -> dict[str, Any]:
    """Nested tables as one, with dotted keys; a table for which ``keep`` is true stays whole."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict) and not keep(value):
            flat.update(flatten(value, f"{prefix}{key}.", keep))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
