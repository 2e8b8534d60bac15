"""`dashboard`: optuna-dashboard on the study's storage."""

from __future__ import annotations

import argparse
import sys

from search.cli.common import (
    DASHBOARD_HOST,
    DASHBOARD_PORT,
    Command,
    add_study_target,
    open_study,
)
from search.errors import ConfigError
from search.runtime import interrupts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_study_target(parser, artifacts=True)
    parser.add_argument(
        "--host", default=DASHBOARD_HOST, help=f"address to serve on ({DASHBOARD_HOST})"
    )
    parser.add_argument(
        "--port", type=int, default=DASHBOARD_PORT, help=f"port to serve on ({DASHBOARD_PORT})"
    )


def handle(args: argparse.Namespace) -> int:
    from search.dashboard.server import check_address, exposed, serve
    from search.storage.artifacts import open_artifact_store
    from search.storage.database import display_url

    if not 1 <= args.port <= 65535:
        raise ConfigError(f"--port must be a port number from 1 to 65535, got {args.port}")
    target = open_study(args)
    # A study made elsewhere may have no artifact folder: the dashboard then shows no models.
    store = open_artifact_store(target.artifacts, create=False) if target.artifacts else None
    check_address(args.host, args.port)  # before anything is printed
    if exposed(args.host):
        print(
            f"Warning: --host {args.host}: optuna-dashboard has no login; anyone who reaches "
            f"port {args.port} can read the study, download every trial's model and edit notes "
            "and trials (see the README's Dashboard section to put a login in front)",
            file=sys.stderr,
        )
    print(
        f"optuna-dashboard on {display_url(target.storage_url)} at "
        f"http://{args.host}:{args.port}/dashboard/ (Ctrl-C to stop)",
        flush=True,
    )
    interrupts.stop_servers()
    serve(target.storage, host=args.host, port=args.port, artifact_store=store)
    return 0


COMMAND = Command(
    "dashboard", "open optuna-dashboard on the study's storage", add_arguments, handle
)
