"""A study's storage through Optuna's gRPC storage proxy (``grpc://host:port``), which
`lenet-search storage-proxy` serves in front of the database (``search.scheduler.proxy``), so
that many workers do not each hold the database's connections."""

from __future__ import annotations

import optuna

from search.errors import StorageError

READY_SECONDS = 10  # how long a command waits for the proxy to answer before it says so
# A trial system attribute a worker behind the proxy beats with (Optuna's gRPC API has no
# heartbeat call): the proxy records it as the database's own heartbeat.
HEARTBEAT_ATTR = "lenet-search:heartbeat"


class ProxyStorage(optuna.storages.GrpcStorageProxy):
    """Optuna's gRPC client, which also knows its URL (for messages, as ``RDBStorage.url``)."""

    def __init__(self, url: str, host: str, port: int) -> None:
        self.url = url
        super().__init__(host=host, port=port)


def open_proxy(url: str, host: str, port: int) -> ProxyStorage:
    """The proxy at ``host:port``, once it answers.

    Raises:
        StorageError: nothing answered there within READY_SECONDS.
    """
    storage = ProxyStorage(url, host, port)
    try:
        storage.wait_server_ready(timeout=READY_SECONDS)
    except ConnectionError:
        raise StorageError(
            f"no storage proxy answered at {url} within {READY_SECONDS} s; start one there "
            "with `lenet-search storage-proxy --storage URL`"
        ) from None
    return storage
