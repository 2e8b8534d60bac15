"""Build the Keras model of a LeNetArchitecture."""

from __future__ import annotations

import keras

from models.architecture import KERNEL, POOL, LeNetArchitecture


def build_lenet(
    arch: LeNetArchitecture, dtype_policy: str = "float32", name: str = "lenet"
) -> keras.Model:
    """Return the uncompiled Sequential LeNet of the tutorial with ``arch``'s widths.

    Args:
        arch: the widths and, where not zero, the dropout rates and batch normalization.
        dtype_policy: a Keras dtype policy, ``"float32"`` or ``"mixed_bfloat16"``. The class
            probabilities are computed in float32 either way.
        name: the model's name; models side by side in one ensemble need names of their own.
    """
    layers = keras.layers
    policy = {"dtype": dtype_policy}

    def dropout(rate: float, name: str) -> list[keras.layers.Layer]:
        # A rate of 0 adds no layer at all, so the default network is exactly the tutorial's.
        return [layers.Dropout(rate, name=name, **policy)] if rate else []

    def convolution(channels: int, n: int) -> list[keras.layers.Layer]:
        if not arch.batch_norm:
            return [layers.Conv2D(channels, KERNEL, activation="relu", name=f"conv{n}", **policy)]
        # The normalization comes before the relu, as in Ioffe and Szegedy (2015); its offset
        # makes a bias in the convolution redundant.
        return [
            layers.Conv2D(channels, KERNEL, use_bias=False, name=f"conv{n}", **policy),
            layers.BatchNormalization(name=f"batch_norm{n}", **policy),
            layers.Activation("relu", name=f"relu{n}", **policy),
        ]

    return keras.Sequential(
        [
            keras.Input(shape=arch.input_shape),
            *convolution(arch.conv1_channels, 1),
            layers.MaxPooling2D(POOL, name="pool1", **policy),
            *dropout(arch.dropout_conv, "dropout1"),
            *convolution(arch.conv2_channels, 2),
            layers.MaxPooling2D(POOL, name="pool2", **policy),
            *dropout(arch.dropout_conv, "dropout2"),
            layers.Flatten(name="flatten", **policy),
            layers.Dense(arch.dense_units, activation="relu", name="dense", **policy),
            *dropout(arch.dropout_dense, "dropout3"),
            layers.Dense(arch.n_classes, activation="softmax", name="classes", dtype="float32"),
        ],
        name=name,
    )
