"""Train one LeNet variant: build, compile, fit; timed, seeded and with a fresh Keras session."""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass

import keras

from models import LeNetArchitecture, build_lenet
from search.data import Dataset
from search.space import TrialParams

VALIDATION_BATCH_SIZE = 1024  # evaluation needs no small batches; larger ones are faster on CPU


@dataclass(frozen=True)
class TrainingTimes:
    train_seconds: float
    validation_seconds: float


def compiled_lenet(arch: LeNetArchitecture, learning_rate: float) -> keras.Model:
    model = build_lenet(arch)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def train(
    arch: LeNetArchitecture,
    params: TrialParams,
    dataset: Dataset,
    seed: int,
    callbacks: list[keras.callbacks.Callback],
) -> tuple[keras.Model, TrainingTimes]:
    """Fit a fresh model for ``params.epochs`` epochs (callbacks may stop it sooner)."""
    # Long studies in one process grow in memory unless each trial starts from a clear session
    # (optuna#1178, keras-tuner#395).
    keras.backend.clear_session()
    gc.collect()
    keras.utils.set_random_seed(seed)
    model = compiled_lenet(arch, params.learning_rate)
    timer = _ValidationTimer()
    started = time.perf_counter()
    model.fit(
        dataset.x_train,
        dataset.y_train,
        batch_size=params.batch_size,
        epochs=params.epochs,
        validation_data=(dataset.x_val, dataset.y_val),
        validation_batch_size=VALIDATION_BATCH_SIZE,
        callbacks=[timer, *callbacks],
        verbose=0,
    )
    total = time.perf_counter() - started
    return model, TrainingTimes(total - timer.seconds, timer.seconds)


class _ValidationTimer(keras.callbacks.Callback):
    """Time spent evaluating on the validation split, to tell it apart from training time."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds = 0.0
        self._started = 0.0

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._started = time.perf_counter()

    def on_test_end(self, logs: dict | None = None) -> None:
        self.seconds += time.perf_counter() - self._started
