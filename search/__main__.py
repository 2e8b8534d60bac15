"""``python -m search ...`` works like ``lenet-search ...``."""

from search.cli.main import entry_point

# Spawned worker processes import this module again as "__mp_main__": they must not run the CLI.
if __name__ == "__main__":
    entry_point()
