"""Ctrl-C and SIGTERM, acted on where stopping is safe.

Python's default turns Ctrl-C into a KeyboardInterrupt wherever the process happens to be. In a
process that trains, that can be inside TensorFlow's function tracing or half-way through a
write to the study's storage, and breaks them (seen here: an AssertionError from autograph, and
a trial left RUNNING). So while ``caught()`` is active the signal handler only counts the
signals, and the code that runs for long calls ``check()`` where it can stop cleanly (between
chunks of training, before a trial is reserved, in the worker pool's wait loop); ``check()``
raises the KeyboardInterrupt there.

One Ctrl-C may arrive as several signals: a terminal sends it to every process of the group,
GNU `timeout -s INT` signals the process and then its group, and a parent passes it on. Signals
within ``SAME_STOP_SECONDS`` of the last one counted are the same stop, so that a second stop
(which skips the test evaluation) is always a second press.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)  # Ctrl-C; `kill` and batch schedulers
SAME_STOP_SECONDS = 1.0
_count = 0
_counted_at = -math.inf  # time.monotonic() of the last signal counted
_depth = 0  # caught() blocks entered and not left: an inner one keeps the outer one's count


def received() -> int:
    """How many stop signals arrived while ``caught()`` was active."""
    return _count


def check() -> None:
    """Raise KeyboardInterrupt if a stop signal arrived."""
    if _count:
        raise KeyboardInterrupt


@contextmanager
def caught() -> Iterator[None]:
    """Count SIGINT and SIGTERM instead of raising at once; the old handlers come back after
    the outermost block, and the count starts again from 0.

    Blocks nest: a signal counted while the CLI loads the data is still counted when the
    study starts. Does nothing outside the main thread, where Python cannot set handlers.
    """
    global _count, _depth
    if threading.current_thread() is not threading.main_thread() or _depth:
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
        return
    _count, _depth = 0, 1
    _forget_last()
    try:
        with _handled_by(_handle):
            yield
    finally:
        _count, _depth = 0, 0  # outside, Python's own handling applies again


def _handle(signum: int, frame: object) -> None:
    global _count, _counted_at
    now = time.monotonic()
    if now - _counted_at >= SAME_STOP_SECONDS:
        _count += 1
        _counted_at = now


def _forget_last() -> None:
    global _counted_at
    _counted_at = -math.inf


@contextmanager
def ignored() -> Iterator[None]:
    """Ignore the stop signals for a moment; processes started meanwhile inherit that."""
    with _handled_by(signal.SIG_IGN):
        yield


def stop_servers() -> None:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt here, where a server (a camera page, the
    storage proxy) waits for them, even in a process started with them ignored (a shell's
    background job), which Python keeps as it found them."""
    for sig in SIGNALS:
        signal.signal(sig, signal.default_int_handler)


@contextmanager
def shutting_down(server: Any) -> Iterator[None]:
    """While ``server`` serves in this block (``serve_forever``), Ctrl-C and SIGTERM shut it
    down from another thread, so that a stop that lands while it answers a request is never
    lost in the request's own error handling; then the block raises KeyboardInterrupt. Even in a
    process started with them ignored, as ``stop_servers``."""
    stopped = threading.Event()

    def shut_down(signum: int, frame: object) -> None:
        if not stopped.is_set():
            stopped.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    with _handled_by(shut_down):
        yield
    if stopped.is_set():
        raise KeyboardInterrupt


@contextmanager
def _handled_by(handler: Any) -> Iterator[None]:
    """SIGINT and SIGTERM go to ``handler`` in the block; their old handlers come back after."""
    saved = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, old in saved.items():
            signal.signal(sig, old)
