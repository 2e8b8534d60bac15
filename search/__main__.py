"""``python -m search ...`` works like ``lenet-search ...``."""

from search.cli import entry_point

entry_point()
