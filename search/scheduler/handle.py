"""A study opened to run trials: the study (with its storage) and the lock its processes share."""

from __future__ import annotations

from dataclasses import dataclass

import optuna

from search.storage.database import StudyLock


@dataclass(frozen=True)
class StudyHandle:
    """What the scheduler's functions take instead of a study and its storage's URL: the lock
    is made once, where the study is opened (``search.engine.study``)."""

    study: optuna.Study
    lock: StudyLock
    # How often a running trial beats where the storage does not say (the storage proxy's).
    heartbeat_interval: int = 60

    @classmethod
    def of(
        cls,
        study: optuna.Study,
        storage_url: str,
        retry_seconds: float = 0,
        heartbeat_interval: int = 60,
    ) -> StudyHandle:
        """The study's handle; its lock waits ``retry_seconds`` for a server that went away."""
        lock = StudyLock(storage_url, study.study_name, retry_seconds)
        return cls(study, lock, heartbeat_interval)
