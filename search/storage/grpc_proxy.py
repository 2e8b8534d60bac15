"""A study's storage through Optuna's gRPC storage proxy (``grpc://host:port``), which
`lenet-search storage-proxy` serves in front of the database (``search.scheduler.proxy``), so
that many workers do not each hold the database's connections."""

from __future__ import annotations

import optuna

from search.errors import StorageError
from search.storage.reconnecting import STORAGE_CALLS, Reconnecting, retry_calls

READY_SECONDS = 10  # how long a command waits for the proxy to answer before it says so
# A trial system attribute a worker behind the proxy beats with (Optuna's gRPC API has no
# heartbeat call): the proxy records it as the database's own heartbeat.
HEARTBEAT_ATTR = "lenet-search:heartbeat"


class ProxyStorage(Reconnecting, optuna.storages.GrpcStorageProxy):
    """Optuna's gRPC client, which knows its URL (for messages, as ``RDBStorage.url``) and
    waits ``retry_seconds`` for a proxy that went away (restarted, say)."""

    def __init__(self, url: str, host: str, port: int, retry_seconds: float) -> None:
        self.url, self.display, self.retry_seconds = url, url, retry_seconds
        super().__init__(host=host, port=port)


retry_calls(ProxyStorage, STORAGE_CALLS)


def open_proxy(url: str, host: str, port: int, retry_seconds: float) -> ProxyStorage:
    """The proxy at ``host:port``, once it answers; later calls wait ``retry_seconds`` for it.

    Raises:
        StorageError: nothing answered there within READY_SECONDS.
    """
    storage = ProxyStorage(url, host, port, retry_seconds)
    try:
        storage.wait_server_ready(timeout=READY_SECONDS)
    except ConnectionError:
        raise StorageError(
            f"no storage proxy answered at {url} within {READY_SECONDS} s; start one there "
            "with `lenet-search storage-proxy --storage URL`"
        ) from None
    return storage
