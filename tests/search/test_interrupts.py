import os
import signal
import threading

import numpy as np
import pytest

from models import LeNetArchitecture
from search import interrupts
from search.data import Dataset
from search.hyperparameters import TrainingParams
from search.training import Training, TrainingData


def test_signals_are_counted_and_raised_only_where_checked() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with interrupts.caught():
        interrupts.check()  # nothing yet
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)
        assert interrupts.received() == 2  # counted, not raised
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
    assert signal.getsignal(signal.SIGTERM) is before
    assert interrupts.received() == 0
    interrupts.check()  # outside caught(), Python's own handling applies


def test_a_signal_counted_while_loading_is_still_counted_when_the_study_runs() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with interrupts.caught():  # the CLI, while it loads the data
        os.kill(os.getpid(), signal.SIGTERM)
        with interrupts.caught():  # run_study
            assert interrupts.received() == 1
        assert signal.getsignal(signal.SIGTERM) is not before  # still counting
        assert interrupts.received() == 1
    assert signal.getsignal(signal.SIGTERM) is before and interrupts.received() == 0


def test_ctrl_c_stops_training_between_chunks() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((4096, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 4096)
    data = TrainingData(Dataset("noise", tuple("0123456789"), x, y, x[:64], y[:64], x, y))
    training = Training(data, LeNetArchitecture((28, 28, 1), 10), TrainingParams(1000, 32), 0)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    with interrupts.caught():
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            for _ in training.epochs():
                pass
    assert 0 < training.model.optimizer.iterations.numpy() < 1000 * 128
