"""Typed getters over one TOML table that name the file, the section and the key in every error.

A key the file leaves out takes the default of the same-named field of the section's dataclass
(``config.settings``); a key nobody asked for is refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from search.errors import ConfigError


class Table:
    """One TOML table being read: typed getters that name the file and key in every error.

    A key the file leaves out takes the default of the same-named field of ``defaults``.
    """

    def __init__(
        self, raw: Any, path: Path, name: str | None, defaults: type | None = None
    ) -> None:
        self.path, self.name, self.defaults = path, name, defaults
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: [{name}] must be a table, got {show(raw)}")
        self.raw: dict[str, Any] = raw
        self._seen: set[str] = set()

    def where(self, key: str) -> str:
        return f"{self.path}: [{self.name}] {key}" if self.name else f"{self.path}: [{key}]"

    def table(self, key: str, defaults: type | None = None) -> Table:
        self._seen.add(key)
        return Table(self.raw.get(key, {}), self.path, key, defaults)

    def default(self, key: str) -> Any:
        fields = self.defaults.__dataclass_fields__ if self.defaults else {}
        return fields[key].default if key in fields else None

    def take(self, key: str) -> Any:
        """The raw value of ``key``, for values of more than one shape."""
        self._seen.add(key)
        return self.raw[key]

    def optional(self, key: str) -> Any:
        """The raw value of ``key``, None where it is not set; a known key either way."""
        self._seen.add(key)
        return self.raw.get(key)

    def has(self, key: str) -> bool:
        return key in self.raw

    def get(self, key: str, kind: type, default: Any = None) -> Any:
        self._seen.add(key)
        if key not in self.raw:
            return self.default(key) if default is None else default
        value = self.raw[key]
        ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise ConfigError(f"{self.where(key)} must be {TYPE_NAMES[kind]}, got {show(value)}")
        return value

    def positive_int(self, key: str, default: Any = None) -> Any:
        value = self.get(key, int, default)
        if value is not None and value < 1:
            raise ConfigError(f"{self.where(key)} must be a positive integer, got {value}")
        return value

    def non_negative_int(self, key: str) -> int:
        value = self.get(key, int)
        if value < 0:
            raise ConfigError(f"{self.where(key)} must be a non-negative integer, got {value}")
        return value

    def fraction(self, key: str) -> float:
        value = self.get(key, float)
        if not 0 < value < 1:
            raise ConfigError(
                f"{self.where(key)} must be between 0 and 1 (exclusive), got {value}"
            )
        return value

    def choice(self, key: str, valid: tuple[str, ...]) -> str:
        value = self.get(key, str)
        if value not in valid:
            options = ", ".join(f'"{v}"' for v in valid)
            raise ConfigError(f'{self.where(key)} = "{value}" is not one of {options}')
        return value

    def reject_unknown(self, valid: tuple[str, ...] | None = None) -> None:
        unknown = [key for key in self.raw if key not in self._seen]
        if unknown:
            kind = "key" if self.name else "section"
            allowed = ", ".join(valid if valid is not None else sorted(self._seen))
            raise ConfigError(f"{self.where(unknown[0])} is not a known {kind}; known: {allowed}")


TYPE_NAMES = {
    int: "an integer",
    float: "a number",
    str: "a string",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}


def show(value: Any) -> str:
    """A value as it would look in TOML, so that the user recognises it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {show(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return str(value)


def json_safe(value: Any) -> Any:
    """The raw TOML tables as plain JSON values, so that they can be stored on the study."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))
