"""Calls to a server that may be away for a while (a database restarting, an S3 server down):
tried again, 0.5 s apart doubling to 5 s, for a bounded time, then given up with one line."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from search.runtime import interrupts

# How long a call waits for a server that cannot be reached before what needed it fails
# (`[run] storage_retry_seconds`): a restart, a failover or a short outage fits in it.
RETRY_SECONDS = 120
FIRST_PAUSE, LONGEST_PAUSE = 0.5, 5.0

T = TypeVar("T")
_fast = threading.local()  # whether this thread's calls are tried once only


def retried(
    call: Callable[[], T],
    *,
    seconds: float,
    transient: Callable[[Exception], bool],
    away: Callable[[Exception], Exception],
) -> T:
    """``call()``, tried again while it raises what ``transient`` says is the server away, for
    ``seconds``; then ``away(last error)`` is raised. A Ctrl-C does not wait for the server.
    Inside ``failing_fast()``, ``call()`` is tried once.
    """
    if getattr(_fast, "on", False):
        return call()
    deadline, pause = time.monotonic() + seconds, FIRST_PAUSE
    while True:
        try:
            return call()
        except Exception as e:
            if not transient(e):
                raise
            if time.monotonic() + pause > deadline:
                raise away(e) from None
            interrupts.check()
            time.sleep(pause)
            pause = min(2 * pause, LONGEST_PAUSE)


@contextmanager
def failing_fast() -> Iterator[None]:
    """Calls in this block, in this thread, are tried once: inside a call that is retried as a
    whole, or where waiting would hold up more than it saves (a heartbeat beats again at its
    next interval)."""
    before = getattr(_fast, "on", False)
    _fast.on = True
    try:
        yield
    finally:
        _fast.on = before
