"""Warm starts: a new study's first trials are the best configurations of an earlier study.

``[study] warm_start`` names the earlier study (its study file, or a storage URL and study
name). When the new study is made, the earlier one's ``warm_start_trials`` best COMPLETE trials
are enqueued as its first trials (Optuna's ``enqueue_trial``), each marked with where it came
from, and so is what was left out: a configuration outside the new search space (a searched
value out of its range) or over the size budget. Fixed values are the new study's own.
"""

from __future__ import annotations

from typing import Any

import optuna
from optuna.trial import TrialState

from models import count_params, forward_flops
from search.config.settings import StudyConfig
from search.data.dataset import Dataset
from search.data.folds import networks_kept
from search.errors import ConfigError, StorageError
from search.space.hyperparameters import BY_NAME, architecture
from search.space.ranges import Fixed, contains, describe
from search.storage import records
from search.storage.database import display_url, open_storage
from search.storage.trials import ranked_trials
from search.words import plural


def enqueue_warm_start(study: optuna.Study, config: StudyConfig, dataset: Dataset) -> None:
    """Enqueue the earlier study's best configurations into the new ``study`` and record them.

    Raises:
        ConfigError: the earlier study is not there.
    """
    storage_url, name = config.study.warm_start
    try:
        source = optuna.load_study(
            study_name=name, storage=open_storage(storage_url, create=False)
        )
    except (KeyError, StorageError):
        raise ConfigError(
            f'[study] warm_start: there is no study "{name}" in {display_url(storage_url)} '
            "to start from; run it first, or name another"
        ) from None
    enqueued, left_out = [], []
    for trial in ranked_trials(source)[: config.study.warm_start_trials]:
        values = records.trial_params(trial)
        why_not = _outside(values, config, dataset)
        if why_not is not None:
            left_out.append(f"trial {trial.number} ({why_not})")
            continue
        searched = {
            key: values[key]
            for key, param in config.search_space.items()
            if not isinstance(param, Fixed) and key in values
        }
        study.enqueue_trial(
            searched, user_attrs={records.WARM_START_FROM: f"{name} trial {trial.number}"}
        )
        enqueued.append(trial.number)
    record = {"study": name, "storage": display_url(storage_url), "trials": enqueued}
    records.set_study_record(study, records.WARM_START, {**record, "left_out": left_out})


def _outside(values: dict[str, Any], config: StudyConfig, dataset: Dataset) -> str | None:
    """Why a configuration cannot start the new study; None when it can."""
    for key, param in config.search_space.items():
        if isinstance(param, Fixed) or key not in values:
            continue
        if not contains(param, values[key]):
            return f"{key} {values[key]} is outside {describe(param)}"
    merged = {
        key: param.value if isinstance(param, Fixed) else values.get(key, BY_NAME[key].default)
        for key, param in config.search_space.items()
    }
    arch = architecture(merged, dataset.input_shape, len(dataset.class_names))
    networks = networks_kept(config.data, dataset)  # the budget counts every one a trial keeps
    return config.budget.excess(networks * count_params(arch), networks * forward_flops(arch))


def warm_start_note(study: optuna.Study) -> str | None:
    """What `run` says of a study's warm start before its first trial has run (what it starts
    from, and what it left out); None for a study without one, or once a trial has run."""
    record = records.study_record(study, records.WARM_START)
    trials = study.get_trials(deepcopy=False)
    if record is None or any(t.state != TrialState.WAITING for t in trials):
        return None
    earlier = f'study "{record["study"]}"'
    if record["trials"]:
        numbers = ", ".join(map(str, record["trials"]))
        text = (
            f"warm start: {plural(len(record['trials']), 'configuration')} of {earlier} first "
            f"(its trials {numbers})"
        )
    else:
        text = f"warm start: nothing from {earlier}"
        if not record["left_out"]:
            text += " (it has no complete trial)"
    if record["left_out"]:
        text += f"; left out: {', '.join(record['left_out'])}"
    return text
