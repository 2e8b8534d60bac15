"""The learning rate over a trial's steps: constant, cosine decay, or one cycle.

Both schedules are Keras's own ``CosineDecay``, so that a trial's saved model, whose optimizer
holds its schedule, loads with ``keras.models.load_model`` and no custom objects.
"""

from __future__ import annotations

from collections.abc import Callable

import keras

from search.space.hyperparameters import LR_SCHEDULES, TrainingParams

LearningRate = float | keras.optimizers.schedules.LearningRateSchedule

# one_cycle as Smith's 1cycle policy and PyTorch's OneCycleLR default it: a linear warm-up from
# a 25th of the peak over the first 30% of the steps (a rate an untrained network takes
# without diverging, then time at high rates to explore), then a cosine decay to 0.
ONE_CYCLE_WARMUP = 0.3
ONE_CYCLE_START = 1 / 25


def learning_rate(params: TrainingParams, steps_per_epoch: int) -> LearningRate:
    """The optimizer's learning rate: ``params.learning_rate``, or a schedule peaking there
    over the trial's ``params.epochs * steps_per_epoch`` steps."""
    return _SCHEDULES[params.lr_schedule](params.learning_rate, params.epochs * steps_per_epoch)


def _cosine(peak: float, steps: int) -> LearningRate:
    return keras.optimizers.schedules.CosineDecay(peak, decay_steps=steps)


def _one_cycle(peak: float, steps: int) -> LearningRate:
    warmup = max(1, round(ONE_CYCLE_WARMUP * steps))
    return keras.optimizers.schedules.CosineDecay(
        peak * ONE_CYCLE_START,
        decay_steps=max(1, steps - warmup),
        warmup_target=peak,
        warmup_steps=warmup,
    )


_SCHEDULES: dict[str, Callable[[float, int], LearningRate]] = {
    "constant": lambda peak, steps: peak,
    "cosine": _cosine,
    "one_cycle": _one_cycle,
}
assert tuple(_SCHEDULES) == LR_SCHEDULES, "every name of LR_SCHEDULES needs its schedule here"
