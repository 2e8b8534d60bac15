"""The tutorial's network, built from numbers."""

import dataclasses

import keras
import numpy as np

from models import LeNetArchitecture, build_lenet, count_params, forward_flops, trained_network


def test_layers_are_the_tutorials() -> None:
    model = build_lenet(LeNetArchitecture((28, 28, 1), 10, 16, 32, 32))
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "Conv2D",
        "MaxPooling2D",
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
        "Dense",
    ]
    conv1, _, conv2, _, _, dense, head = model.layers
    assert (conv1.filters, conv1.kernel_size, conv1.activation.__name__) == (16, (3, 3), "relu")
    assert (conv2.filters, conv2.kernel_size) == (32, (3, 3))
    assert (dense.units, dense.activation.__name__) == (32, "relu")
    assert (head.units, head.activation.__name__) == (10, "softmax")


def test_any_input_shape_gives_class_probabilities() -> None:
    model = build_lenet(LeNetArchitecture((40, 30, 3), 4, 4, 4, 4))
    probabilities = keras.ops.convert_to_numpy(model(np.zeros((2, 40, 30, 3), "float32")))
    assert probabilities.shape == (2, 4)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_dropout_rates_add_their_layers_and_no_parameters() -> None:
    arch = LeNetArchitecture((28, 28, 1), 10, 8, 8, 16, dropout_conv=0.25, dropout_dense=0.4)
    model = build_lenet(arch)
    assert [layer.name for layer in model.layers] == [
        "conv1",
        "pool1",
        "dropout1",
        "conv2",
        "pool2",
        "dropout2",
        "flatten",
        "dense",
        "dropout3",
        "classes",
    ]
    rates = {layer.name: layer.rate for layer in model.layers if "dropout" in layer.name}
    assert rates == {"dropout1": 0.25, "dropout2": 0.25, "dropout3": 0.4}
    assert model.count_params() == count_params(arch)
    # Active in training only: inference is deterministic, training draws its masks.
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    inference = [keras.ops.convert_to_numpy(model(x, training=False)) for _ in range(2)]
    np.testing.assert_array_equal(*inference)
    trained = keras.ops.convert_to_numpy(model(x, training=True))
    assert not np.allclose(trained, inference[0])


def test_batch_norm_sits_between_each_convolution_and_its_relu() -> None:
    arch = LeNetArchitecture((28, 28, 1), 10, 8, 8, 16, batch_norm=1)
    model = build_lenet(arch)
    assert [layer.name for layer in model.layers] == [
        "conv1",
        "batch_norm1",
        "relu1",
        "pool1",
        "conv2",
        "batch_norm2",
        "relu2",
        "pool2",
        "flatten",
        "dense",
        "classes",
    ]
    conv1, conv2 = model.get_layer("conv1"), model.get_layer("conv2")
    assert not conv1.use_bias and conv1.activation.__name__ == "linear"
    assert not conv2.use_bias and conv2.activation.__name__ == "linear"
    assert model.count_params() == count_params(arch)
    # Inference normalizes with the moving statistics, training with the batch's own: the same
    # images give other probabilities, and only training moves the statistics.
    x = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32) * 5
    moving_mean = model.get_layer("batch_norm1").moving_mean
    before = keras.ops.convert_to_numpy(moving_mean)
    inference = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(moving_mean), before)
    trained = keras.ops.convert_to_numpy(model(x, training=True))
    assert not np.allclose(trained, inference)
    assert not np.allclose(keras.ops.convert_to_numpy(moving_mean), before)


def test_batch_norm_off_is_the_tutorials_network_to_the_parameter() -> None:
    arch = LeNetArchitecture((28, 28, 1), 10)
    off = build_lenet(LeNetArchitecture((28, 28, 1), 10, batch_norm=0))
    tutorial = build_lenet(arch)
    assert [layer.name for layer in off.layers] == [layer.name for layer in tutorial.layers]
    assert off.count_params() == 30_762


def test_a_mirrored_model_averages_one_network_over_the_image_and_its_mirror() -> None:
    arch = LeNetArchitecture((28, 28, 1), 10, 4, 4, 8, mirror=1)
    model = build_lenet(arch, name="trial_3")
    network = trained_network(model)
    assert (model.name, network.name) == ("trial_3", "trial_3_network")
    assert model.count_params() == network.count_params() == count_params(arch)  # no weights
    assert forward_flops(arch) == 2 * forward_flops(dataclasses.replace(arch, mirror=0))
    x = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    views = [keras.ops.convert_to_numpy(network(view)) for view in (x, x[:, :, ::-1])]
    mean = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(mean, np.mean(views, axis=0), rtol=1e-6)
    np.testing.assert_allclose(mean, keras.ops.convert_to_numpy(model(x[:, :, ::-1])), rtol=1e-6)
    assert trained_network(network) is network  # an unmirrored network is its own
