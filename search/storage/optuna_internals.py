"""The private Optuna APIs lenet-search needs, in one place (``pyproject.toml`` pins Optuna
below the next major version for them; ``tests/search/storage/test_optuna_internals.py`` fails
if one changes).

Optuna has no public way to reseed a sampler per trial, to reach a study's storage, its id, a
trial's or a trial's study's, to list the trials whose heartbeat stopped without failing them at
once (its own ``fail_stale_trials`` does not let us give the reason or retry the way we need),
or to keep records in a study's system attributes (``Study.system_attrs`` is deprecated; the
storage's methods are public, the study's id is not).
"""

from __future__ import annotations

import datetime
from typing import Any

import optuna
import sqlalchemy


def storage_of(study: optuna.Study) -> optuna.storages.BaseStorage:
    """The storage the study reads and writes through (heartbeats are recorded on it)."""
    return study._storage


def trial_id(trial: optuna.Trial | optuna.trial.FrozenTrial) -> int:
    """The storage's id of a trial (its number counts within the study, the id in the storage)."""
    return trial._trial_id


def study_system_attrs(study: optuna.Study) -> dict[str, Any]:
    """The study's system attributes, which optuna-dashboard does not list."""
    return storage_of(study).get_study_system_attrs(study._study_id)


def set_study_system_attr(study: optuna.Study, key: str, value: Any) -> None:
    storage_of(study).set_study_system_attr(study._study_id, key, value)


def trial_study_id(storage: optuna.storages.BaseStorage, trial_id: int) -> int:
    """The id of the study a trial of an RDB storage is in (Optuna has no call for it; its
    trials table says)."""
    rdb = getattr(storage, "_backend", storage)  # Optuna wraps RDB storages in its cache
    query = sqlalchemy.text("SELECT study_id FROM trials WHERE trial_id = :trial_id")
    with rdb.engine.connect() as connection:
        return connection.execute(query, {"trial_id": trial_id}).scalar_one()


def has_heartbeats(study: optuna.Study) -> bool:
    """Whether the study's storage records heartbeats (an RDB storage opened with them; Optuna's
    gRPC proxy has no heartbeat calls)."""
    return optuna.storages._heartbeat.is_heartbeat_enabled(storage_of(study))


def stale_trial_ids(study: optuna.Study) -> list[int]:
    """RUNNING trials whose last heartbeat is older than the storage's grace period, and those
    that started longer ago than it and never beat: their worker died, or lost the database,
    between reserving the trial and its first heartbeat, and Optuna's own check skips trials
    without one (none where the storage records no heartbeats)."""
    if not has_heartbeats(study):
        return []
    storage = storage_of(study)
    rdb = getattr(storage, "_backend", storage)  # Optuna wraps RDB storages in its cache
    cutoff = datetime.datetime.now() - datetime.timedelta(seconds=grace_period(study))
    query = sqlalchemy.text(
        "SELECT t.trial_id FROM trials t LEFT JOIN trial_heartbeats h ON h.trial_id = t.trial_id"
        " WHERE t.study_id = :study AND t.state = 'RUNNING' AND h.trial_id IS NULL"
        " AND t.datetime_start < :cutoff"
    )

    def never_beat() -> list[int]:
        with rdb.engine.connect() as connection:
            rows = connection.execute(query, {"study": study._study_id, "cutoff": cutoff})
            return [row[0] for row in rows]

    # Tried again as the storage's own calls are, where it retries them (storage.reconnecting).
    never = getattr(rdb, "_retried", lambda call: call())(never_beat)
    return sorted({*storage._get_stale_trial_ids(study._study_id), *never})


def grace_period(study: optuna.Study) -> int | None:
    """The heartbeat grace period, in seconds, of the study's storage (None: no heartbeats)."""
    storage = storage_of(study)
    return getattr(storage, "_backend", storage).grace_period  # Optuna wraps RDB storages


def reseed_tpe(sampler: optuna.samplers.TPESampler, seed: int) -> None:
    """Reseed both generators TPE draws from: its own and its start-up random sampler's."""
    sampler._rng.rng.seed(seed)
    sampler._random_sampler._rng.rng.seed(seed)
