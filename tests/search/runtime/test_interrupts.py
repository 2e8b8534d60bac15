"""Stop signals counted, and acted on only where stopping is safe."""

import os
import signal
import threading
import time

import numpy as np
import pytest

from models import LeNetArchitecture
from search.data.dataset import Dataset
from search.engine.training import CHUNK_IMAGES, Training, TrainingData
from search.runtime import interrupts
from search.space.hyperparameters import TrainingParams


def test_signals_are_counted_and_raised_only_where_checked() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with interrupts.caught():
        interrupts.check()  # nothing yet
        os.kill(os.getpid(), signal.SIGTERM)
        assert interrupts.received() == 1  # counted, not raised
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
    assert signal.getsignal(signal.SIGTERM) is before
    assert interrupts.received() == 0
    interrupts.check()  # outside caught(), Python's own handling applies


def test_copies_of_one_ctrl_c_are_one_stop_and_a_later_press_a_second() -> None:
    with interrupts.caught():
        for sig in (signal.SIGINT, signal.SIGINT, signal.SIGTERM):  # the group's copies
            os.kill(os.getpid(), sig)
        assert interrupts.received() == 1
        time.sleep(interrupts.SAME_STOP_SECONDS + 0.1)
        os.kill(os.getpid(), signal.SIGINT)
        assert interrupts.received() == 2
    with interrupts.caught():  # a new block forgets the last one's time
        os.kill(os.getpid(), signal.SIGINT)
        assert interrupts.received() == 1


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
    # One epoch is 16 chunks of 2,048 images, several seconds on any CPU seen: a signal after
    # 1 s stops it within its first epoch, at the end of a chunk.
    images, batch = 16 * CHUNK_IMAGES, 32
    rng = np.random.default_rng(0)
    x = rng.random((images, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, images)
    data = TrainingData(Dataset("noise", tuple("0123456789"), x, y, x[:64], y[:64], x, y))
    training = Training(data, LeNetArchitecture((28, 28, 1), 10), TrainingParams(10, batch), 0)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    with interrupts.caught():
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            for _ in training.epochs():
                pass
    steps = int(training.model.optimizer.iterations.numpy())
    steps_per_chunk, steps_per_epoch = CHUNK_IMAGES // batch, images // batch
    assert 0 < steps < steps_per_epoch, steps  # not at an epoch's end: mid-way through the first
    assert steps % steps_per_chunk == 0, steps  # and between two chunks


def test_a_stop_while_a_server_answers_a_request_still_stops_it() -> None:
    # wsgiref logs any exception of a request, a KeyboardInterrupt included, and serves on:
    # the stop must not depend on where the signal lands.
    import urllib.request
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    answering = threading.Event()

    def slow_app(environ: dict, start_response) -> list[bytes]:  # noqa: ANN001
        answering.set()
        time.sleep(1)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = make_server("127.0.0.1", 0, slow_app, handler_class=Quiet)
    url = f"http://127.0.0.1:{server.server_port}/"
    answers: list[bytes] = []
    client = threading.Thread(target=lambda: answers.append(urllib.request.urlopen(url).read()))

    def stop_mid_request() -> None:
        answering.wait(10)
        os.kill(os.getpid(), signal.SIGINT)

    client.start()
    threading.Thread(target=stop_mid_request).start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), interrupts.shutting_down(server):
        server.serve_forever()
    client.join()
    server.server_close()
    assert answers == [b"ok"]  # the request under way was answered, then the server stopped
    assert time.monotonic() - started < 5
