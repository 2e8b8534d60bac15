"""Several trained networks as one model: the mean of their class probabilities."""

from __future__ import annotations

from collections.abc import Sequence

import keras


def build_ensemble(members: Sequence[keras.Model], name: str = "ensemble") -> keras.Model:
    """One model whose output is the mean of ``members``' softmax outputs, weighted alike.

    The members keep their own names (each must be unique) and their trained weights; the
    ensemble adds no parameters. It saves and loads as any Keras model does.
    """
    if len(members) < 2:
        raise ValueError(f"an ensemble needs at least 2 members, but got {len(members)}")
    inputs = keras.Input(shape=tuple(members[0].input_shape[1:]), name="images")
    outputs = keras.layers.Average(name="mean_probabilities")([m(inputs) for m in members])
    return keras.Model(inputs, outputs, name=name)
