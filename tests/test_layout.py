"""The house rules a review would check, checked here: small modules, and each command's flags
in the module of its handler. (Imports that point down only: `lint-imports` in .ci/run.)"""

from pathlib import Path

from search.cli.main import COMMANDS
from tests.helpers import ROOT

MAX_LINES = 400


def test_no_module_is_over_400_lines() -> None:
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text().splitlines())
        for package in ("search", "models")
        for path in (ROOT / package).rglob("*.py")
    }
    assert {path: n for path, n in sizes.items() if n > MAX_LINES} == {}


def test_each_commands_flags_are_beside_its_handler() -> None:
    for command in COMMANDS:
        module = command.handle.__module__
        assert module.startswith("search.cli."), command.name
        assert command.add_arguments.__module__ == module, command.name
        assert Path(ROOT / (module.replace(".", "/") + ".py")).is_file()
