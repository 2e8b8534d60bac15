"""Build the Keras model of a LeNetArchitecture."""

from __future__ import annotations

import keras

from models.architecture import KERNEL, POOL, LeNetArchitecture


def build_lenet(
    arch: LeNetArchitecture, dtype_policy: str = "float32", name: str = "lenet"
) -> keras.Model:
    """Return the uncompiled Sequential LeNet of the tutorial with ``arch``'s widths.

    Args:
        arch: the widths and, where not zero, the dropout rates.
        dtype_policy: a Keras dtype policy, ``"float32"`` or ``"mixed_bfloat16"``. The class
            probabilities are computed in float32 either way.
        name: the model's name; models side by side in one ensemble need names of their own.
    """
    layers = keras.layers
    policy = {"dtype": dtype_policy}

    def dropout(rate: float, name: str) -> list[keras.layers.Layer]:
        # A rate of 0 adds no layer at all, so the default network is exactly the tutorial's.
        return [layers.Dropout(rate, name=name, **policy)] if rate else []

    return keras.Sequential(
        [
            keras.Input(shape=arch.input_shape),
            layers.Conv2D(arch.conv1_channels, KERNEL, activation="relu", name="conv1", **policy),
            layers.MaxPooling2D(POOL, name="pool1", **policy),
            *dropout(arch.dropout_conv, "dropout1"),
            layers.Conv2D(arch.conv2_channels, KERNEL, activation="relu", name="conv2", **policy),
            layers.MaxPooling2D(POOL, name="pool2", **policy),
            *dropout(arch.dropout_conv, "dropout2"),
            layers.Flatten(name="flatten", **policy),
            layers.Dense(arch.dense_units, activation="relu", name="dense", **policy),
            *dropout(arch.dropout_dense, "dropout3"),
            layers.Dense(arch.n_classes, activation="softmax", name="classes", dtype="float32"),
        ],
        name=name,
    )
