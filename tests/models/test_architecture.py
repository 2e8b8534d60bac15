"""A LeNet's size and cost, computed without building it."""

import pytest

from models import LeNetArchitecture, build_lenet, count_params, forward_flops

TUTORIAL = LeNetArchitecture(input_shape=(28, 28, 1), n_classes=10)


@pytest.mark.parametrize(
    "arch",
    [
        TUTORIAL,
        LeNetArchitecture((28, 28, 1), 10, conv1_channels=64, conv2_channels=128, dense_units=256),
        LeNetArchitecture((64, 48, 3), 3, conv1_channels=7, conv2_channels=9, dense_units=11),
        LeNetArchitecture((10, 10, 1), 2, conv1_channels=1, conv2_channels=1, dense_units=1),
        LeNetArchitecture((28, 28, 1), 10, batch_norm=1),
        LeNetArchitecture((64, 48, 3), 3, 7, 9, 11, dropout_conv=0.2, batch_norm=1),
    ],
)
def test_count_params_agrees_with_keras(arch: LeNetArchitecture) -> None:
    assert count_params(arch) == build_lenet(arch).count_params()


def test_tutorial_network_size_and_flops() -> None:
    # conv1 26*26*16*9, conv2 11*11*32*9*16, dense 5*5*32*32, head 32*10 multiply-adds.
    assert count_params(TUTORIAL) == 30_762
    assert forward_flops(TUTORIAL) == 2 * (97_344 + 557_568 + 25_600 + 320)


def test_batch_norm_trades_each_conv_bias_for_four_numbers_a_channel() -> None:
    # Scale, offset, moving mean and moving variance (the last two not trained) instead of the
    # bias: 3 more a channel of conv1 (16) and conv2 (32). The FLOPs leave it out, as biases.
    with_bn = LeNetArchitecture((28, 28, 1), 10, batch_norm=1)
    assert count_params(with_bn) == 30_762 + 3 * (16 + 32)
    assert forward_flops(with_bn) == forward_flops(TUTORIAL)


def test_flops_grow_with_each_width() -> None:
    base = forward_flops(TUTORIAL)
    for field in ("conv1_channels", "conv2_channels", "dense_units"):
        wider = LeNetArchitecture((28, 28, 1), 10, **{field: 64})
        assert forward_flops(wider) > base


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"conv1_channels": 0}, "conv1_channels must be at least 1, but got 0"),
        ({"n_classes": 1}, "n_classes must be at least 2, but got 1"),
        ({"input_shape": (9, 28, 1)}, "input images must be at least 10x10 pixels, but got 9x28"),
        ({"batch_norm": 2}, "batch_norm must be 0 or 1, but got 2"),
    ],
)
def test_invalid_architecture_is_refused(kwargs: dict, message: str) -> None:
    fields = {"input_shape": (28, 28, 1), "n_classes": 10, **kwargs}
    with pytest.raises(ValueError) as error:
        LeNetArchitecture(**fields)
    assert str(error.value) == message
