"""Storage URLs: checked, their driver found, relative SQLite paths made absolute."""

from pathlib import Path

import pytest

from search.storage.url import resolve_storage_url, sqlite_path


def test_a_relative_sqlite_path_is_relative_to_the_study_file(tmp_path: Path) -> None:
    assert resolve_storage_url("sqlite:///dbs/s.db", tmp_path) == f"sqlite:///{tmp_path}/dbs/s.db"
    assert resolve_storage_url("sqlite:////abs/s.db", tmp_path) == "sqlite:////abs/s.db"
    assert resolve_storage_url("sqlite:///:memory:", tmp_path) == "sqlite:///:memory:"


def test_postgresql_urls_get_psycopg_3() -> None:
    for url in ("postgresql://u:pw@host/db", "postgres://u:pw@host/db"):
        assert resolve_storage_url(url, Path("/")) == "postgresql+psycopg://u:pw@host/db"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "not a url",
            '"not a url" is not a database URL; use sqlite:///path/to/file.db, '
            "postgresql://user:password@host/database, or grpc://host:port for a "
            "`lenet-search storage-proxy`",
        ),
        (
            "oracle2://h/db",
            '"oracle2://h/db" names an unknown kind of database "oracle2"; use '
            "sqlite:///path/to/file.db, postgresql://user:password@host/database, or "
            "grpc://host:port for a `lenet-search storage-proxy`",
        ),
        (
            "grpc://proxyhost",
            '"grpc://proxyhost" is not a storage proxy\'s address; use grpc://host:port',
        ),
        (
            "mysql://u:secret@host/db",
            '"mysql://u:***@host/db" needs the Python package MySQLdb, which is not installed; '
            "install it with: pip install mysqlclient",
        ),
    ],
)
def test_a_bad_url_says_what_is_wrong_and_hides_the_password(url: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        resolve_storage_url(url, Path("/"))
    assert str(error.value) == message


def test_only_sqlite_urls_have_a_file() -> None:
    assert sqlite_path("sqlite:////tmp/s.db") == Path("/tmp/s.db")
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("postgresql+psycopg://u@h/db") is None
