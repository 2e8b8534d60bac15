"""Train one LeNet variant, epoch by epoch, with a lean loop of our own instead of ``model.fit``.

The loop does what ``fit`` does for this model (shuffle every epoch, one Adam step on the mean
sparse cross-entropy of each batch, every image once, evaluate the validation split after each
epoch) and nothing else. ``fit`` also runs a data adapter, a distribution strategy and metrics on
every step; on a CPU with LeNet-sized steps that costs a fifth to a third of the time (measured
on one core: 21.0 s against 17.3 s an epoch of 54,000 images for 16/32/32 at batch 32, and 143 s
against 95 s for 64/128/256 at batch 64). Steps run in chunks of about 2,000 images per call into
TensorFlow, and Ctrl-C is acted on between them: within a second or so, not at an epoch's end.

The model is compiled as ``fit`` would have it (Adam, the loss, the accuracy metric), so that the
saved file loads and evaluates like any Keras model.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from models import LeNetArchitecture, build_ensemble, build_lenet, trained_network
from search.data.dataset import Dataset
from search.engine.augmentation import augmentation
from search.engine.schedule import LearningRate, learning_rate
from search.runtime import interrupts
from search.space.hyperparameters import TrainingParams, architecture, training_params
from search.stats import loss_and_accuracy

VALIDATION_BATCH_SIZE = 1024  # evaluation needs no small batches; larger ones are faster on CPU
CHUNK_IMAGES = 2048  # images per call into TensorFlow: how often Ctrl-C can be noticed


@dataclass(frozen=True)
class EpochResult:
    epoch: int  # 1 for the first
    loss: float  # mean training loss over the epoch
    val_loss: float
    val_accuracy: float  # correct / total, exactly
    train_seconds: float
    validation_seconds: float
    val_predicted: np.ndarray  # the class predicted for each validation image
    # With cross-validation, each fold's accuracy; val_accuracy is then all folds' together.
    fold_accuracies: tuple[float, ...] = ()


class TrainingData:
    """The dataset as TensorFlow tensors, made once per process and shared by every trial.

    A model trains on the ``members`` of the training split (all of it, or all but a fold) and
    is judged after each epoch on ``x_val`` (the validation split, or the fold).
    """

    def __init__(self, dataset: Dataset) -> None:
        self.x_train = tf.constant(dataset.x_train)
        self.y_train = tf.constant(dataset.y_train, dtype=tf.int32)
        self.members = np.arange(len(dataset.y_train), dtype=np.int32)
        self.x_val, self.y_val = dataset.x_val, dataset.y_val
        self._dataset = dataset

    @property
    def n_train(self) -> int:
        return len(self.members)

    def without(self, held: np.ndarray) -> TrainingData:
        """The same tensors, training on every image of the training split but the ``held``
        indices, and judged on those: one fold of cross-validation. Nothing is copied but the
        held images."""
        fold = copy.copy(self)
        fold.members = np.setdiff1d(self.members, held).astype(np.int32)
        fold.x_val, fold.y_val = self._dataset.x_train[held], self._dataset.y_train[held]
        return fold


def compiled_lenet(
    arch: LeNetArchitecture, rate: LearningRate, precision: str = "float32", name: str = "lenet"
) -> keras.Model:
    """The network compiled as ``fit`` would have it; ``rate`` a number or a Keras schedule."""
    model = build_lenet(arch, precision, name)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def float32_lenet(
    trained: keras.Model, values: Mapping[str, Any], name: str = "lenet"
) -> keras.Model:
    """A trial's network (``values``: its hyperparameters) computing in float32, compiled as
    for training, with the weights of ``trained``.

    Mixed precision keeps its variables in float32, so the weights carry over unchanged (the
    cast only makes that explicit); only the computation changes. The optimizer's variables
    are built, as a trial's saved model has them, so that loading the file is silent. Its
    learning rate is the trial's peak rate, without the trial's schedule: the model is for
    predicting, and a fresh optimizer would restart the schedule anyway.
    """
    folds = sub_models(trained)
    if folds:  # a trial judged on folds keeps its fold models averaged: each rebuilt so
        return averaged([float32_lenet(fold, values, fold.name) for fold in folds], name)
    arch = architecture(values, tuple(trained.input_shape[1:]), trained.output_shape[-1])
    model = compiled_lenet(arch, training_params(values).learning_rate, "float32", name)
    model.set_weights([np.asarray(weights, np.float32) for weights in trained.get_weights()])
    model.optimizer.build(model.trainable_variables)
    return model


def averaged(members: list[keras.Model], name: str) -> keras.Model:
    """One compiled model whose output is the mean of ``members``' class probabilities (each
    uniquely named): a trial's fold models, or an ensemble of trials. Its optimizer is built, so
    that loading the saved file is silent."""
    model = build_ensemble(members, name=name)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.optimizer.build(model.trainable_variables)
    return model


def sub_models(model: keras.Model) -> list[keras.Model]:
    """The networks ``model`` averages (``averaged``); none for one network, mirrored or not."""
    if trained_network(model) is not model:  # a mirrored network: its one network, twice
        return []
    return [layer for layer in model.layers if isinstance(layer, keras.Model)]


@dataclass(frozen=True, eq=False)
class Teacher:
    """What a student learns from besides the labels (knowledge distillation, Hinton et al.
    2015): the teacher's class probabilities of every training image, softened by
    ``temperature`` (raised to 1 / temperature and renormalized), and the share of the loss on
    them; the rest is the usual cross-entropy on the labels."""

    probabilities: np.ndarray  # (n_train, classes), the teacher's own softmax outputs
    temperature: float
    soft_weight: float

    def softened(self) -> tf.Tensor:
        return _soften(tf.constant(self.probabilities, tf.float32), self.temperature)


def _soften(probabilities: tf.Tensor, temperature: float) -> tf.Tensor:
    """softmax(log(p) / T): the class probabilities of logits divided by the temperature."""
    return tf.nn.softmax(tf.math.log(tf.maximum(probabilities, 1e-7)) / temperature)


class Training:
    """One trial's model and optimizer; ``epochs()`` trains it one epoch at a time. With a
    ``teacher`` it trains a student on the teacher's probabilities and the labels."""

    def __init__(
        self,
        data: TrainingData,
        arch: LeNetArchitecture,
        params: TrainingParams,
        seed: int,
        precision: str = "float32",
        teacher: Teacher | None = None,
        *,
        fresh_session: bool = True,
        name: str = "lenet",
    ) -> None:
        # Long studies in one process grow in memory unless each trial starts from a clear
        # session (optuna#1178, keras-tuner#395). It runs a full gc.collect() itself: a second
        # one here cost another 0.5 s a trial (profiled: a quarter of a 3-second trial).
        # A trial's fold models after its first share the session the first one cleared.
        if fresh_session:
            keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        self.data, self.params, self.teacher = data, params, teacher
        self._soft_targets = teacher.softened() if teacher is not None else None
        steps_per_epoch = -(-data.n_train // params.batch_size)  # the last batch may be short
        rate = learning_rate(params, steps_per_epoch)
        self.model = compiled_lenet(arch, rate, precision, name)
        self._network = trained_network(self.model)  # what each step trains; model judges
        self._augment = augmentation(params, arch.input_shape, seed)  # training batches only
        self.model.optimizer.build(self.model.trainable_variables)
        self._order = np.random.default_rng(seed)  # the shuffling of every epoch
        self._train_chunk = tf.function(
            self._chunk_loss_sum, input_signature=[tf.TensorSpec([None], tf.int32)]
        )
        self._predict = tf.function(
            lambda x: self.model(x, training=False),
            input_signature=[tf.TensorSpec([None, *arch.input_shape], tf.float32)],
        )

    def epochs(self) -> Iterator[EpochResult]:
        """Train ``params.epochs`` epochs, yielding after each; stop iterating to stop early."""
        chunk = max(1, CHUNK_IMAGES // self.params.batch_size) * self.params.batch_size
        for epoch in range(1, self.params.epochs + 1):
            started = time.perf_counter()
            order = self.data.members[self._order.permutation(self.data.n_train)]
            loss_sum = 0.0
            for start in range(0, len(order), chunk):
                loss_sum += float(self._train_chunk(order[start : start + chunk]))
                interrupts.check()  # between calls into TensorFlow, where stopping is safe
            trained = time.perf_counter()
            val_loss, val_accuracy, predicted = self.evaluate(self.data.x_val, self.data.y_val)
            yield EpochResult(
                epoch,
                loss_sum / self.data.n_train,
                val_loss,
                val_accuracy,
                trained - started,
                time.perf_counter() - trained,
                predicted,
            )

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray]:
        """Loss, exact accuracy and predicted classes."""
        probabilities = np.concatenate(
            [
                self._predict(x[i : i + VALIDATION_BATCH_SIZE]).numpy()
                for i in range(0, len(x), VALIDATION_BATCH_SIZE)
            ]
        )
        loss, accuracy = loss_and_accuracy(probabilities, y)
        return loss, accuracy, probabilities.argmax(axis=1)

    @property
    def y_val(self) -> np.ndarray:
        """The classes of the images that judge each epoch, in ``val_predicted``'s order."""
        return self.data.y_val

    def weights_are_finite(self) -> bool:
        return all(np.isfinite(w).all() for w in self.model.get_weights())

    def snapshot(self) -> list[np.ndarray]:
        """What ``kept_model`` needs to give back the model as it is now: its weights."""
        return self.model.get_weights()

    def kept_model(self, snapshot: list[np.ndarray]) -> keras.Model:
        """The model with the weights of a ``snapshot`` (the best epoch's)."""
        self.model.set_weights(snapshot)
        return self.model

    def _chunk_loss_sum(self, indices: tf.Tensor) -> tf.Tensor:
        """Train on ``indices`` of the training split, batch by batch; the sum of the losses."""
        model, optimizer = self._network, self.model.optimizer
        batch_size = self.params.batch_size
        total = tf.constant(0.0)
        for start in tf.range(0, tf.shape(indices)[0], batch_size):
            batch = indices[start : start + batch_size]
            x = tf.gather(self.data.x_train, batch)
            if self._augment is not None:  # decided when traced: no cost without augmentation
                x = self._augment(x)
            y = tf.gather(self.data.y_train, batch)
            with tf.GradientTape() as tape:
                loss = self._batch_loss(batch, y, model(x, training=True))
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply(gradients, model.trainable_variables)
            total += loss * tf.cast(tf.shape(batch)[0], tf.float32)
        return total

    def _batch_loss(self, batch: tf.Tensor, y: tf.Tensor, probabilities: tf.Tensor) -> tf.Tensor:
        """The mean cross-entropy on the labels; a student's mixes in the teacher's (scaled by
        the temperature squared, so that its gradients keep their size as Hinton et al. do)."""
        hard = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, probabilities))
        if self.teacher is None:
            return hard
        temperature, weight = self.teacher.temperature, self.teacher.soft_weight
        soft = keras.losses.categorical_crossentropy(
            tf.gather(self._soft_targets, batch), _soften(probabilities, temperature)
        )
        return weight * temperature**2 * tf.reduce_mean(soft) + (1 - weight) * hard
