"""`storage-proxy`: Optuna's gRPC storage proxy in front of a study database, for many workers."""

from __future__ import annotations

import argparse

from search.cli.common import Command, add_storage_flag, check_serving_address, storage_flag
from search.errors import ConfigError
from search.runtime import interrupts

PROXY_HOST, PROXY_PORT = "127.0.0.1", 13000  # Optuna's default port


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_storage_flag(
        parser,
        "the database to serve: postgresql://... (or sqlite:///... on one machine)",
        required=True,
    )
    parser.add_argument("--host", default=PROXY_HOST, help=f"address to serve on ({PROXY_HOST})")
    parser.add_argument(
        "--port", type=int, default=PROXY_PORT, help=f"port to serve on ({PROXY_PORT})"
    )


def handle(args: argparse.Namespace) -> int:
    from search.scheduler.proxy import serve_proxy
    from search.storage.database import display_url
    from search.storage.retry import RETRY_SECONDS
    from search.storage.url import grpc_address

    url = storage_flag(args.storage)
    if grpc_address(url) is not None:
        raise ConfigError(f"--storage {url} is a storage proxy; give the database's own URL")
    check_serving_address(
        args.host,
        args.port,
        f"the storage proxy has no login and no encryption; anyone who reaches port "
        f"{args.port} can read and change every study in {display_url(url)}",
    )
    print(
        f"storage proxy for {display_url(url)} at grpc://{args.host}:{args.port} (Ctrl-C to "
        f"stop); workers join with: lenet-search worker --storage grpc://{args.host}:"
        f"{args.port} --study-name NAME",
        flush=True,
    )
    interrupts.stop_servers()
    serve_proxy(url, args.host, args.port, RETRY_SECONDS)
    return 0


COMMAND = Command(
    "storage-proxy",
    "serve a study database to many workers through Optuna's gRPC storage proxy",
    add_arguments,
    handle,
)
