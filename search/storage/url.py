"""Storage URLs: check their form and driver, and make relative SQLite paths absolute."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy.engine
import sqlalchemy.exc

URL_HELP = (
    "use sqlite:///path/to/file.db, postgresql://user:password@host/database, or "
    "grpc://host:port for a `lenet-search storage-proxy`"
)
# PostgreSQL goes through psycopg 3, the `postgres` extra; SQLAlchemy's plain "postgresql://"
# would look for psycopg2.
POSTGRES_DRIVER = "postgresql+psycopg"
INSTALL_HINTS = {
    "psycopg": "pip install 'lenet-search[postgres]'",
    "MySQLdb": "pip install mysqlclient",
    "pymysql": "pip install PyMySQL",
}


def resolve_storage_url(url: str, base_dir: Path) -> str:
    """Return ``url`` with a relative SQLite path resolved against ``base_dir``.

    ``postgresql://`` and ``postgres://`` URLs are given psycopg 3 as their driver. The driver
    is imported here, so that a missing one is reported before any data is loaded.

    Raises:
        ValueError: the URL cannot be parsed, or its database's driver is not installed.
    """
    if url.startswith(GRPC_SCHEME):
        grpc_address(url)  # checks its form
        return url
    try:
        parsed = sqlalchemy.engine.make_url(url)
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername=POSTGRES_DRIVER)
            url = parsed.render_as_string(hide_password=False)
        parsed.get_dialect().import_dbapi()
    except sqlalchemy.exc.NoSuchModuleError:  # a subclass of ArgumentError, so caught first
        raise ValueError(
            f'"{url}" names an unknown kind of database "{parsed.drivername}"; {URL_HELP}'
        ) from None
    except sqlalchemy.exc.ArgumentError:
        raise ValueError(f'"{url}" is not a database URL; {URL_HELP}') from None
    except ImportError as e:
        package = (e.name or "").split(".")[0]
        hint = INSTALL_HINTS.get(package, f"pip install {package}")
        raise ValueError(
            f'"{_hidden(url)}" needs the Python package {package}, which is not installed; '
            f"install it with: {hint}"
        ) from None
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:":
        path = Path(database).expanduser()
        if not path.is_absolute():
            return parsed.set(database=str(base_dir / path)).render_as_string(hide_password=False)
    return url


GRPC_SCHEME = "grpc://"


def grpc_address(url: str) -> tuple[str, int] | None:
    """(host, port) of a ``grpc://host:port`` URL (a storage proxy), or None for others.

    Raises:
        ValueError: a grpc:// URL without a host and a port.
    """
    if not url.startswith(GRPC_SCHEME):
        return None
    host, _, port = url.removeprefix(GRPC_SCHEME).rstrip("/").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f'"{url}" is not a storage proxy\'s address; use grpc://host:port')
    return host, int(port)


def sqlite_path(url: str) -> Path | None:
    """The file behind an SQLite URL, or None for other databases."""
    parsed = sqlalchemy.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (
        None,
        "",
        ":memory:",
    ):
        return None
    return Path(parsed.database)


def _hidden(url: str) -> str:
    return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
