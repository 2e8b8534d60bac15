"""`storage-proxy`'s flags: its errors are one line each (serving is tests/search/scheduler's)."""

import pytest

from tests.helpers import error_of


def test_storage_proxy_refuses_a_proxy_a_bad_port_and_a_bad_url(
    capsys: pytest.CaptureFixture,
) -> None:
    assert error_of(capsys, "storage-proxy", "--storage", "grpc://h:13000") == (
        "--storage grpc://h:13000 is a storage proxy; give the database's own URL"
    )
    assert error_of(capsys, "storage-proxy", "--storage", "sqlite:///x.db", "--port", "0") == (
        "--port must be a port number from 1 to 65535, got 0"
    )
    assert error_of(capsys, "storage-proxy", "--storage", "grpc://h") == (
        '--storage "grpc://h" is not a storage proxy\'s address; use grpc://host:port'
    )
