"""Build the Keras model of a LeNetArchitecture."""

from __future__ import annotations

import keras

from models.architecture import KERNEL, POOL, LeNetArchitecture

MIRROR_MEAN = "mean_of_image_and_mirror"  # the Average layer of a mirrored model


def build_lenet(
    arch: LeNetArchitecture, dtype_policy: str = "float32", name: str = "lenet"
) -> keras.Model:
    """Return the uncompiled Sequential LeNet of the tutorial with ``arch``'s widths; with
    ``arch.mirror``, that network inside a model that averages it over the image and its
    mirror image (``mirrored``).

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

    network = keras.Sequential(
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
        name=f"{name}_network" if arch.mirror else name,
    )
    return mirrored(network, name) if arch.mirror else network


def mirrored(network: keras.Model, name: str) -> keras.Model:
    """A model whose class probabilities are the mean of ``network``'s for the image and for
    the image mirrored left to right: test-time augmentation for a network trained on mirrored
    images, which then sees both views of each image. It adds no weights, and only Keras's own
    operations, so that the saved file loads with plain ``keras.saving.load_model`` and converts
    to LiteRT."""
    images = keras.Input(shape=tuple(network.input_shape[1:]), name="images")
    mirror = keras.ops.flip(images, axis=2)  # (batch, height, width, channels): the width
    views = [network(images), network(mirror)]
    return keras.Model(
        images, keras.layers.Average(name=MIRROR_MEAN, dtype="float32")(views), name=name
    )


def trained_network(model: keras.Model) -> keras.Model:
    """The network a training step updates: the one a ``mirrored`` model averages, else
    ``model`` itself (training on both views would cost twice as much a step)."""
    if not any(layer.name == MIRROR_MEAN for layer in model.layers):
        return model
    [network] = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return network
