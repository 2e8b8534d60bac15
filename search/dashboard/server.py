"""optuna-dashboard on a study's storage, with its artifact store for the trials' pictures."""

from __future__ import annotations

from typing import Any

from search.errors import LenetSearchError


def serve(storage: Any, *, host: str, port: int, artifact_store: Any | None) -> None:
    """Serve the dashboard until Ctrl-C; ``storage`` is an Optuna storage, ``artifact_store``
    the study's store (None for a study made elsewhere: the dashboard then shows no pictures).

    Raises:
        LenetSearchError: the address cannot be served on (a busy port, say).
    """
    from optuna_dashboard import run_server

    try:
        run_server(storage, host=host, port=port, artifact_store=artifact_store)
    except OSError as e:
        raise LenetSearchError(
            f"cannot serve on {host}:{port} ({e.strerror or e}); pick another --port"
        ) from None
