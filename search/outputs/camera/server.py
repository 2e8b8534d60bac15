"""The camera pages' web server: one page, and posts of camera frames (PNG) answered in JSON.

The standard library's server, one request at a time (a person at one camera; the model is
not shared between threads). A browser lets a page use the camera only on a secure origin:
http://127.0.0.1 and http://localhost are, a plain http:// address of another host is not.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from search.errors import LenetSearchError

MAX_FRAME_BYTES = 8 * 1024 * 1024  # a 1920x1080 PNG is 2-6 MB


class BadRequest(LenetSearchError):
    """A post the page should not have sent (an unknown class, not a PNG): answered 400."""


@dataclass(frozen=True)
class CameraPage:
    """What a camera server serves: ``html()`` at / (made at each visit: a page reloaded shows
    what is so now), and ``answer(path, body)`` to each post."""

    html: Callable[[], str]
    answer: Callable[[str, bytes], dict[str, Any]]


def make_server(page: CameraPage, host: str, port: int) -> HTTPServer:
    """The server, bound; ``serve_forever()`` serves until Ctrl-C (KeyboardInterrupt)."""

    class Handler(BaseHTTPRequestHandler):
        timeout = 10  # an idle connection (a preconnect, another tab) holds the server no longer

        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            if self.path.split("?")[0] != "/":
                self._send(404, b"not found", "text/plain")
                return
            self._send(200, page.html().encode(), "text/html; charset=utf-8")

        def do_POST(self) -> None:  # noqa: N802
            length = self.headers.get("Content-Length", "")
            if not length.isdigit() or int(length) > MAX_FRAME_BYTES:
                self._json(
                    400, {"error": f"a frame of 1 to {MAX_FRAME_BYTES} bytes, with its length"}
                )
                return
            body = self.rfile.read(int(length))
            try:
                self._json(200, page.answer(self.path, body))
            except BadRequest as e:
                self._json(400, {"error": str(e)})
            except Exception as e:  # noqa: BLE001 - said on the page; the server goes on
                self._json(500, {"error": str(e) or type(e).__name__})

        def _json(self, status: int, value: dict[str, Any]) -> None:
            self._send(status, json.dumps(value).encode(), "application/json")

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # a line per frame would bury what the command says

    return HTTPServer((host, port), Handler)
