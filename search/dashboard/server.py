"""optuna-dashboard on a study's storage, with its artifact store for the trials' pictures."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from search.errors import LenetSearchError
from search.runtime import interrupts


def serve(storage: Any, *, host: str, port: int, artifact_store: Any | None) -> None:
    """Serve the dashboard until Ctrl-C or SIGTERM (then KeyboardInterrupt is raised);
    ``storage`` is an Optuna storage, ``artifact_store`` the study's store (None for a study made
    elsewhere: the dashboard then shows no pictures).
    Call ``check_address`` first: the server prints its own lines before it finds a busy port.

    Raises:
        LenetSearchError: the address cannot be served on (a busy port, say).
    """
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from optuna_dashboard import wsgi

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:  # no line per request
            pass

    app = wsgi(storage, artifact_store=artifact_store)
    try:
        server = make_server(host, port, app, handler_class=QuietHandler)
    except OSError as e:  # taken in the instant since the check
        raise LenetSearchError(_cannot(host, port, e)) from None
    # Optuna-dashboard's own run_server (bottle, wsgiref) lost a Ctrl-C that came while it
    # answered a request: wsgiref logs any exception of a request and serves on.
    with interrupts.shutting_down(server):
        server.serve_forever()


def check_address(host: str, port: int) -> None:
    """Refuse an address that cannot be served on before the server starts (and talks).

    Raises:
        LenetSearchError: the port is taken, or the host is not this machine's.
    """
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # As the server's own socket does (wsgiref): a port whose last connections are
            # still closing is free, one with a listener is not.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as e:
        raise LenetSearchError(_cannot(host, port, e)) from None


def exposed(host: str) -> bool:
    """Whether serving on ``host`` lets other machines in (anything but loopback)."""
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: loopback only if it is localhost
        return host != "localhost"


def _cannot(host: str, port: int, error: OSError) -> str:
    return f"cannot serve on {host}:{port} ({error.strerror or error}); pick another --port"
