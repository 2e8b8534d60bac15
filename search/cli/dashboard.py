"""`dashboard`: optuna-dashboard on the study's storage."""

from __future__ import annotations

import argparse

from search.cli.common import (
    DASHBOARD_HOST,
    DASHBOARD_PORT,
    Command,
    add_study_target,
    check_serving_address,
    open_study,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_study_target(parser, artifacts=True)
    parser.add_argument(
        "--host", default=DASHBOARD_HOST, help=f"address to serve on ({DASHBOARD_HOST})"
    )
    parser.add_argument(
        "--port", type=int, default=DASHBOARD_PORT, help=f"port to serve on ({DASHBOARD_PORT})"
    )


def handle(args: argparse.Namespace) -> int:
    from search.dashboard.server import serve
    from search.storage.artifacts import open_artifact_store
    from search.storage.database import display_url

    target = open_study(args)
    # A study made elsewhere may have no artifact folder: the dashboard then shows no models.
    store = open_artifact_store(target.artifacts, create=False) if target.artifacts else None
    check_serving_address(
        args.host,
        args.port,
        f"optuna-dashboard has no login; anyone who reaches port {args.port} can read the "
        "study, download every trial's model and edit notes and trials (see the README's "
        "Dashboard section to put a login in front)",
    )
    print(
        f"optuna-dashboard on {display_url(target.storage_url)} at "
        f"http://{args.host}:{args.port}/dashboard/ (Ctrl-C to stop)",
        flush=True,
    )
    serve(target.storage, host=args.host, port=args.port, artifact_store=store)
    return 0


COMMAND = Command(
    "dashboard", "open optuna-dashboard on the study's storage", add_arguments, handle
)
