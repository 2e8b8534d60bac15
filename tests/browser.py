"""Headless Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``):
pages clicked and read as a person would use them, with no driver and no websocket library.

Chromium reads commands from its file descriptor 3 and writes replies and events to 4, each a
JSON object ended by a NUL byte. Every connection but to this machine (loopback) goes to a proxy
that is not there and no name resolves, so a page that reaches for the network fails visibly.
"""

from __future__ import annotations

import base64
import json
import os
import re
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

# Where a test needs Chromium and finds none, it fails under this variable (as .ci/run sets it)
# and is skipped elsewhere.
REQUIRE_BROWSER = "LENET_SEARCH_REQUIRE_BROWSER"


def chromium_path() -> str:
    """Chromium's path; skips (or fails, under REQUIRE_BROWSER) where it is not installed."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "Chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get(REQUIRE_BROWSER):
            pytest.fail(message)
        pytest.skip(message)
    return path


def screenshot_folder(tmp_path: Path) -> Path:
    """Where a test leaves its pages' screenshots: ``$LENET_SEARCH_SCREENSHOTS`` (to look at
    them, or copy them into docs/), else the test's own temporary folder."""
    folder = Path(os.environ.get("LENET_SEARCH_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def served_at(process: subprocess.Popen) -> str:
    """The address a camera page is served at, from the line its command prints about it."""
    said = ""
    for line in process.stdout:
        said += line
        found = re.search(r"at (http://127\.0\.0\.1:\d+/) \(Ctrl-C to stop\)$", line.rstrip())
        if found:
            return found.group(1)
    raise AssertionError(said + process.stderr.read())


def fake_camera_args(video: Path | None = None) -> list[str]:
    """A camera for the page, allowed without asking: Chromium's own test pattern, or the
    frames of ``video`` (a .y4m file, looped)."""
    args = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
    if video is not None:
        args.append(f"--use-file-for-fake-video-capture={video}")
    return args


def write_y4m(path: Path, frame: Any, frames: int = 10) -> Path:
    """``frames`` copies of ``frame`` (height x width uint8 grayscale, even sizes) as a Y4M
    video, the format Chromium's fake camera plays: 4:2:0, grey chroma."""
    height, width = frame.shape
    chroma = bytes([128]) * (height // 2 * width // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + frame.tobytes() + chroma + chroma)
    return path


class Browser:
    """One headless Chromium; ``open(url)`` gives a ``Tab`` to drive."""

    def __init__(self, profile: Path, *args: str) -> None:
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()
        # The shell puts the pipe's ends at the descriptors Chromium expects, 3 and 4.
        wiring = f'exec "$0" "$@" 3<&{commands_read} 4>&{replies_write}'
        self.process = subprocess.Popen(
            [
                "/bin/bash",  # dash takes no file descriptor above 9
                "-c",
                wiring,
                chromium_path(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--window-size=1000,1000",
                f"--user-data-dir={profile}",
                "--proxy-server=127.0.0.1:9",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                "--remote-debugging-pipe",
                *args,
                "about:blank",
            ],
            pass_fds=(commands_read, replies_write),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands_read)
        os.close(replies_write)
        self._next_id = 0
        self._buffer = b""
        self.events: list[dict[str, Any]] = []  # every event read so far, for the tests

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """One command; its result. Events that arrive before the reply are kept in
        ``events``.

        Raises:
            AssertionError: Chromium answered with an error, or not within 30 seconds.
        """
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + 30
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                assert "error" not in reply, f"{method}: {reply['error']}"
                return reply["result"]
            self.events.append(reply)

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._replies], [], [], max(left, 0))
            assert ready, "Chromium did not answer within 30 seconds"
            chunk = os.read(self._replies, 1 << 16)
            assert chunk, "Chromium closed its pipe"
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def open(self, url: str) -> Tab:
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        tab = Tab(self, session)
        self.send("Runtime.enable", session)  # console messages and exceptions, as events
        self.send("Page.navigate", session, url=url)
        return tab

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        os.close(self._commands)
        os.close(self._replies)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class Tab:
    """A page in the browser."""

    def __init__(self, browser: Browser, session: str) -> None:
        self.browser, self.session = browser, session

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (awaited where it is a promise).

        Raises:
            AssertionError: it threw.
        """
        result = self.browser.send(
            "Runtime.evaluate",
            self.session,
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    def wait_for(self, expression: str, seconds: float = 30) -> Any:
        """Evaluate ``expression`` until it is truthy; its value.

        Raises:
            AssertionError: still falsy after ``seconds``, with the page's text.
        """
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                value = self.evaluate(expression)
            except AssertionError:  # the page is still loading: its names are not there yet
                value = None
            if value:
                return value
            time.sleep(0.1)
        text = self.evaluate("document.body ? document.body.innerText : ''")
        raise AssertionError(f"never true: {expression}\nthe page says:\n{text}")

    def click(self, selector: str) -> None:
        """Press and release the mouse on the middle of the element ``selector`` selects, as a
        person's click reaches the page (trusted input events, not ``element.click()``)."""
        box = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.browser.send(
                "Input.dispatchMouseEvent",
                self.session,
                type=kind,
                x=box[0],
                y=box[1],
                button="left",
                clickCount=1,
            )

    def screenshot(self, path: Path) -> Path:
        """The page as it looks now, as a PNG file: for a person to look at."""
        data = self.browser.send("Page.captureScreenshot", self.session, format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def errors(self) -> list[str]:
        """What the page logged as an error, or threw, so far."""
        found = []
        for event in self.browser.events:
            if event.get("sessionId") != self.session:
                continue
            params = event.get("params", {})
            if event.get("method") == "Runtime.exceptionThrown":
                found.append(json.dumps(params["exceptionDetails"])[:500])
            elif event.get("method") == "Runtime.consoleAPICalled" and params["type"] == "error":
                found.append(" ".join(str(a.get("value")) for a in params["args"]))
        return found
