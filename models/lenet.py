"""Build the Keras model of a LeNetArchitecture."""

from __future__ import annotations

import keras

from models.architecture import KERNEL, POOL, LeNetArchitecture


def build_lenet(arch: LeNetArchitecture) -> keras.Model:
    """Return the uncompiled Sequential LeNet of the tutorial with ``arch``'s widths."""
    return keras.Sequential(
        [
            keras.Input(shape=arch.input_shape),
            keras.layers.Conv2D(arch.conv1_channels, KERNEL, activation="relu", name="conv1"),
            keras.layers.MaxPooling2D(POOL, name="pool1"),
            keras.layers.Conv2D(arch.conv2_channels, KERNEL, activation="relu", name="conv2"),
            keras.layers.MaxPooling2D(POOL, name="pool2"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(arch.dense_units, activation="relu", name="dense"),
            keras.layers.Dense(arch.n_classes, activation="softmax", name="classes"),
        ],
        name="lenet",
    )
