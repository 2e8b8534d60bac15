"""How every output writes numbers and names, and the formats it offers. Imports nothing heavy:
the CLI builds its flags from this module before any command runs."""

from __future__ import annotations

import re
from typing import Any

from search.space.hyperparameters import label

FORMATS = ("table", "csv", "json")  # `trials`, `best` and `studies`
SORT_KEYS = ("number", "value", "seconds")  # `trials --sort`
INVERT_CHOICES = ("auto", "yes", "no")  # `predict --invert`


def format_value(value: object) -> str:
    """A hyperparameter's value: floats to 3 significant digits, "-" for none."""
    if value is None:
        return "-"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def format_params(params: dict[str, Any]) -> str:
    """ "conv1=31 conv2=34 dense=121 epochs=4": short labels, values as ``format_value``."""
    return " ".join(f"{label(name)}={format_value(value)}" for name, value in params.items())


def format_size(count: int | None) -> str:
    """A parameter count as 114.0k or 1.2M."""
    if count is None:
        return "-"
    return f"{count / 1e6:.1f}M" if count >= 1e6 else f"{count / 1e3:.1f}k"


def format_bytes(count: int) -> str:
    """A file's size as 912 B, 38.4 KB or 1.2 MB (powers of 1000, as file managers show)."""
    if count < 1000:
        return f"{count} B"
    return f"{count / 1e6:.1f} MB" if count >= 1e6 else f"{count / 1e3:.1f} KB"


def clock(seconds: float) -> str:
    """Seconds as m:ss, or h:mm:ss from an hour on."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def safe_name(name: str) -> str:
    """A study's name as a file or folder name: characters unsafe in one replaced by _."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)
