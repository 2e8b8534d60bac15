"""The learning rate over a trial's steps: Keras's own schedules, peaking at learning_rate."""

import keras
import numpy as np
import pytest

from search.engine.schedule import learning_rate
from search.space.hyperparameters import TrainingParams


def rates(schedule: str, steps: list[int]) -> list[float]:
    # 10 epochs of 100 steps, peak 0.01.
    rate = learning_rate(TrainingParams(10, 32, 0.01, lr_schedule=schedule), 100)
    return [float(keras.ops.convert_to_numpy(rate(step))) for step in steps]


def test_constant_is_the_plain_rate() -> None:
    assert learning_rate(TrainingParams(learning_rate=0.003), 100) == 0.003


def test_cosine_falls_from_the_rate_to_zero_over_every_step() -> None:
    start, middle, end, after = rates("cosine", [0, 500, 1000, 1200])
    assert start == pytest.approx(0.01)
    assert middle == pytest.approx(0.005)
    assert end == pytest.approx(0.0, abs=1e-9) and after == pytest.approx(0.0, abs=1e-9)


def test_one_cycle_warms_up_over_the_first_30_percent_then_falls_to_zero() -> None:
    start, warming, peak, middle, end = rates("one_cycle", [0, 150, 300, 650, 1000])
    assert start == pytest.approx(0.01 / 25)
    assert warming == pytest.approx((0.01 / 25 + 0.01) / 2)  # linear
    assert peak == pytest.approx(0.01)
    assert middle == pytest.approx(0.005)  # half way down the cosine
    assert end == pytest.approx(0.0, abs=1e-9)
    rising = rates("one_cycle", list(range(0, 301, 30)))
    assert np.all(np.diff(rising) > 0)


def test_schedules_are_keras_own_and_need_no_custom_objects() -> None:
    for name in ("cosine", "one_cycle"):
        schedule = learning_rate(TrainingParams(lr_schedule=name), 10)
        config = keras.optimizers.schedules.serialize(schedule)
        assert config["module"] == "keras.optimizers.schedules"
        assert keras.optimizers.schedules.deserialize(config).get_config() == (
            schedule.get_config()
        )
