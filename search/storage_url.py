"""Storage URLs: check their form and make relative SQLite paths absolute."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy.engine
import sqlalchemy.exc


def resolve_storage_url(url: str, base_dir: Path) -> str:
    """Return ``url`` with a relative SQLite path resolved against ``base_dir``.

    Raises:
        ValueError: the URL cannot be parsed, or names a database SQLAlchemy has no driver for.
    """
    try:
        parsed = sqlalchemy.engine.make_url(url)
        parsed.get_dialect()
    except sqlalchemy.exc.NoSuchModuleError:  # a subclass of ArgumentError, so caught first
        raise ValueError(
            f'"{url}" names an unknown kind of database "{parsed.drivername}"; '
            "use sqlite:///path/to/file.db or postgresql://user:password@host/database"
        ) from None
    except sqlalchemy.exc.ArgumentError:
        raise ValueError(
            f'"{url}" is not a database URL; use sqlite:///path/to/file.db '
            "or postgresql://user:password@host/database"
        ) from None
    except ModuleNotFoundError as e:
        raise ValueError(
            f'"{url}" needs the Python package {e.name}, which is not installed '
            "(for PostgreSQL: pip install 'lenet-search[postgres]')"
        ) from None
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:":
        path = Path(database).expanduser()
        if not path.is_absolute():
            return parsed.set(database=str(base_dir / path)).render_as_string(hide_password=False)
    return url


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
