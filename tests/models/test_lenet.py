import keras
import numpy as np

from models import LeNetArchitecture, build_lenet


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
