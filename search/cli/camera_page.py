"""What `collect` and `play --camera` share: the address flags, and serving a camera page."""

from __future__ import annotations

import argparse

from search.cli.common import check_serving_address
from search.runtime import interrupts

CAMERA_HOST = "127.0.0.1"  # browsers give the camera to pages of this machine, not of others


def add_address_flags(parser: argparse.ArgumentParser, port: int) -> None:
    parser.add_argument("--host", default=CAMERA_HOST, help=f"address to serve on ({CAMERA_HOST})")
    parser.add_argument("--port", type=int, default=port, help=f"port to serve on ({port})")


def serve_page(page: object, args: argparse.Namespace, what: str) -> None:
    """Serve ``page`` (a ``CameraPage``) at ``--host``/``--port`` until Ctrl-C; says where first.

    Raises:
        ConfigError: a port out of range.
        LenetSearchError: the address cannot be served on.
    """
    from search.outputs.camera.server import make_server

    check_serving_address(
        args.host,
        args.port,
        f"anyone who reaches port {args.port} can use the page, and a browser gives a page the "
        "camera only at http://127.0.0.1 or http://localhost (or over https): open it on the "
        "machine with the camera",
    )
    server = make_server(page, args.host, args.port)  # type: ignore[arg-type]
    print(f"{what} at http://{args.host}:{args.port}/ (Ctrl-C to stop)", flush=True)
    interrupts.stop_servers()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass  # the way to stop it: what the command says next is its result
    finally:
        server.server_close()
