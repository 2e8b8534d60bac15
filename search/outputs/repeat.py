"""`best --repeat K`: how much of the best trial's lead is luck of its seed.

The winner of a search is picked by validation accuracy, where one image in a thousand can
separate trials. Retraining the same configuration with other seeds shows the spread a seed alone
gives. Each retrain is scored as a trial is: validation accuracy at its best epoch. The test split
is not touched: its one evaluation stays that of the trial's own model.
"""

from __future__ import annotations

from typing import TextIO

import optuna

from search.config.settings import StudyConfig
from search.data.loading import load_dataset
from search.data.record import require_same_data
from search.errors import StorageError
from search.space.hyperparameters import architecture, training_params
from search.storage import records
from search.storage.records import Repeat, store_repeat, stored_repeat, trial_params
from search.storage.trials import best_trial

SEED_RANGE = 2**31


def repeat_seeds(trial_seed: int, k: int) -> list[int]:
    """K seeds other than the trial's own, the same for the same trial every time."""
    return [(trial_seed + 7919 * i) % SEED_RANGE for i in range(1, k + 1)]


def repeat_best(
    study: optuna.Study, config: StudyConfig, k: int, progress: TextIO | None = None
) -> Repeat:
    """Retrain the best trial's configuration with ``k`` other seeds; stored on the study.

    A stored repeat with at least ``k`` seeds is reused rather than trained again.

    Raises:
        StorageError: no trial has completed.
        ConfigError: the data differs from the data the study was made with.
    """
    from search.engine.cross_validation import judging_folds, trial_training  # TensorFlow
    from search.engine.training import TrainingData

    best = best_trial(study)
    if best is None:
        raise StorageError(f'study "{study.study_name}" has no complete trial yet')
    stored = stored_repeat(study, best.number)
    if stored is not None and len(stored.seeds) >= k:
        return Repeat(best.number, stored.seeds[:k], stored.val_accuracies[:k])

    dataset = load_dataset(config.data)
    require_same_data(study, dataset, config.data, "the repeats would not be comparable")
    values = trial_params(best)
    arch = architecture(values, dataset.input_shape, len(dataset.class_names))
    params = training_params(values)
    precision = best.user_attrs.get(records.PRECISION, "float32")
    data = TrainingData(dataset)
    folds = judging_folds(config.data, dataset)  # judged as the trial was: on its folds, if any
    seeds = repeat_seeds(best.user_attrs.get(records.KERAS_SEED, 0), k)
    accuracies = []
    for i, seed in enumerate(seeds, start=1):
        training = trial_training(data, arch, params, seed, precision, folds)
        accuracy = max(result.val_accuracy for result in training.epochs())
        accuracies.append(accuracy)
        if progress is not None:
            print(f"repeat {i}/{k} (seed {seed}): {accuracy:.4f}", file=progress, flush=True)
    repeat = Repeat(best.number, seeds, accuracies)
    store_repeat(study, repeat)
    return repeat
