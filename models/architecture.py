"""A LeNet variant described by numbers alone, with its size and cost as pure functions."""

from __future__ import annotations

from dataclasses import dataclass

KERNEL = 3  # both convolutions are 3x3, 'valid' padding, as in the tutorial
POOL = 2  # both poolings are 2x2 with stride 2


@dataclass(frozen=True)
class LeNetArchitecture:
    """The tutorial's network with its widths as parameters.

    Conv2D(conv1_channels, 3x3, relu) -> MaxPool 2 -> Conv2D(conv2_channels, 3x3, relu)
    -> MaxPool 2 -> Flatten -> Dense(dense_units, relu) -> Dense(n_classes, softmax).

    Dropout is opt-in: with both rates 0 (the defaults) the network is exactly the tutorial's;
    ``dropout_conv`` adds a Dropout after each pooling, ``dropout_dense`` one after the dense
    layer. ``batch_norm = 1`` puts a BatchNormalization between each convolution and its relu
    (the convolution then has no bias: the normalization's offset takes its place). With
    ``mirror = 1`` the model predicts the mean of the network's class probabilities for the
    image and for its left-right mirror image (``models.lenet``): the same weights, twice the
    work an image. These defaults are the tutorial's values, and the search reads its defaults
    here.
    """

    input_shape: tuple[int, int, int]  # (height, width, channels)
    n_classes: int
    conv1_channels: int = 16
    conv2_channels: int = 32
    dense_units: int = 32
    dropout_conv: float = 0.0
    dropout_dense: float = 0.0
    batch_norm: int = 0  # 0 or 1: an int, as Optuna samples and stores it
    mirror: int = 0  # 0 or 1: also predict from the mirrored image (a network trained on them)

    def __post_init__(self) -> None:
        for name in ("conv1_channels", "conv2_channels", "dense_units"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, but got {getattr(self, name)}")
        for name in ("dropout_conv", "dropout_dense"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1), but got {getattr(self, name)}")
        for name in ("batch_norm", "mirror"):
            if getattr(self, name) not in (0, 1):
                raise ValueError(f"{name} must be 0 or 1, but got {getattr(self, name)}")
        if self.n_classes < 2:
            raise ValueError(f"n_classes must be at least 2, but got {self.n_classes}")
        height, width, _ = self.input_shape
        if min(height, width) < min_input_size():
            raise ValueError(
                f"input images must be at least {min_input_size()}x{min_input_size()} pixels, "
                f"but got {height}x{width}"
            )

    def feature_map_shapes(self) -> list[tuple[int, int, int]]:
        """Shapes after conv1, pool1, conv2 and pool2, in that order."""
        height, width, _ = self.input_shape
        shapes = []
        for channels in (self.conv1_channels, self.conv2_channels):
            height, width = height - KERNEL + 1, width - KERNEL + 1
            shapes.append((height, width, channels))
            height, width = height // POOL, width // POOL
            shapes.append((height, width, channels))
        return shapes

    def flat_features(self) -> int:
        height, width, channels = self.feature_map_shapes()[-1]
        return height * width * channels


def min_input_size() -> int:
    """The smallest height or width that leaves at least one pixel after both conv/pool stages."""
    return 10


def count_params(arch: LeNetArchitecture) -> int:
    """Parameters as Keras counts them; equals ``build_lenet(arch).count_params()``.

    That is every weight the model file holds: all trainable ones, and with batch normalization
    its moving mean and variance too (two per channel, learnt from the data but not trained).
    """
    in_channels = arch.input_shape[2]
    conv1, conv2 = (
        _conv_params(KERNEL * KERNEL * fan_in, channels, arch.batch_norm)
        for fan_in, channels in (
            (in_channels, arch.conv1_channels),
            (arch.conv1_channels, arch.conv2_channels),
        )
    )
    dense = (arch.flat_features() + 1) * arch.dense_units
    head = (arch.dense_units + 1) * arch.n_classes
    return conv1 + conv2 + dense + head


def _conv_params(inputs: int, channels: int, batch_norm: int) -> int:
    if batch_norm:  # no bias; scale, offset, moving mean and moving variance per channel
        return inputs * channels + 4 * channels
    return (inputs + 1) * channels


def forward_flops(arch: LeNetArchitecture) -> int:
    """Floating-point operations of one forward pass of one image (two with ``mirror``).

    A multiply-add counts as two operations; biases, activations, pooling and batch
    normalization (a scale and an offset per value, which a deployed model folds into the
    convolution) are left out, as most FLOP counters do, since the matrix products dominate.
    """
    in_channels = arch.input_shape[2]
    conv1_shape, _, conv2_shape, _ = arch.feature_map_shapes()
    conv1 = conv1_shape[0] * conv1_shape[1] * arch.conv1_channels * KERNEL * KERNEL * in_channels
    conv2 = conv2_shape[0] * conv2_shape[1] * arch.conv2_channels * KERNEL * KERNEL
    conv2 *= arch.conv1_channels
    dense = arch.flat_features() * arch.dense_units
    head = arch.dense_units * arch.n_classes
    return 2 * (conv1 + conv2 + dense + head) * (2 if arch.mirror else 1)
