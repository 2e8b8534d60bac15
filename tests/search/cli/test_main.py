"""The real command: its help, what it imports, exit codes and exact error lines."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from search.cli.main import COMMANDS
from tests.helpers import ROOT, command, error_of, write_study


def test_help_explains_every_command() -> None:
    result = command("--help")
    assert result.returncode == 0
    # The list of commands, not the epilog's examples: each name beside its own summary.
    listed = _listed_commands(result.stdout)
    assert listed == {c.name: c.help for c in COMMANDS}
    for c in COMMANDS:
        own = command(c.name, "--help")
        assert own.returncode == 0 and own.stdout.startswith(f"usage: lenet-search {c.name} ")
        assert "--debug" in own.stdout
    run_help = command("run", "--help").stdout
    for flag in (
        "--n-trials",
        "--timeout",
        "--seed",
        "--workers",
        "--allow-changes",
        "--quiet",
        "--debug",
    ):
        assert flag in run_help


def _listed_commands(help_text: str) -> dict[str, str]:
    """The top-level help's list of commands, name -> summary (argparse wraps long ones)."""
    section = help_text.split("\n  COMMAND\n", 1)[1].split("\n\n", 1)[0]
    listed: dict[str, str] = {}
    for line in section.splitlines():
        if line.startswith("    ") and line[4] != " ":
            name, _, summary = line.strip().partition(" ")
            listed[name] = summary.strip()
        else:
            listed[name] = f"{listed[name]} {line.strip()}".strip()
    return listed


def test_the_cli_starts_without_optuna_or_tensorflow() -> None:
    # `--help` answers at once, and the signal handlers are set before any heavy import.
    script = (
        "import sys, search.cli.main; print(sorted({'optuna', 'tensorflow'} & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.stdout == "[]\n", result.stderr


def test_commands_that_do_not_train_do_not_import_tensorflow(finished_study: Path) -> None:
    script = (
        "import sys; from search.cli.main import main; "
        f"codes = [main(['trials', {str(finished_study / 'tiny.toml')!r}]), "
        f"main(['best', {str(finished_study / 'tiny.toml')!r}])]; "
        "assert codes == [0, 0], codes; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "val_acc" in result.stdout and "best trial of study" in result.stdout


def test_bad_input_is_one_error_line(finished_study: Path, tmp_path: Path, capsys) -> None:
    url = f"sqlite:///{finished_study}/tiny.db"
    before = (finished_study / "tiny.db").read_bytes()
    assert error_of(capsys, "run", str(tmp_path / "nope.toml")) == (
        f"study file not found: {tmp_path / 'nope.toml'}"
    )
    assert error_of(capsys, "trials", "--storage", url, "--study-name", "other") == (
        f'no study named "other" in {url}; studies there: "tiny"'
    )
    assert error_of(capsys, "best", "--storage", "nonsense", "--study-name", "x") == (
        '--storage "nonsense" is not a database URL; use sqlite:///path/to/file.db, '
        "postgresql://user:password@host/database, or grpc://host:port for a "
        "`lenet-search storage-proxy`"
    )
    assert error_of(capsys, "best") == "give a study file, or --storage URL and --study-name NAME"
    existing = tmp_path / "existing"
    existing.mkdir()
    study_file = str(finished_study / "tiny.toml")
    assert error_of(capsys, "export", study_file, "--output", str(existing)) == (
        f"{existing} already exists; pass --force to replace it"
    )
    assert error_of(capsys, "predict", str(tmp_path), "x.png") == (
        f"no exported model in {tmp_path} (expected model_card.json beside "
        "model.keras or model.tflite, which `lenet-search export` writes)"
    )
    assert error_of(capsys, "run", study_file, "--workers", "0") == (
        '--workers must be a positive integer or "auto", got 0'
    )
    assert error_of(capsys, "run", "--n-trials", "many") == (
        "argument --n-trials: invalid int value: 'many' (see `lenet-search run --help`)"
    )
    assert (finished_study / "tiny.db").read_bytes() == before


def test_real_command_hides_the_traceback_unless_debug(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    args = ("trials", "--storage", f"sqlite:///{other}", "--study-name", "x")
    result = command(*args)
    assert result.returncode == 2
    assert result.stderr == (
        f"Error: sqlite:///{other} is not an Optuna database (it has other tables: notes)\n"
    )
    debug = command("--debug", *args)
    assert debug.returncode == 2 and "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.endswith(result.stderr)  # the same Error line after the traceback


def test_more_bad_input_is_one_error_line(finished_study: Path, tmp_path: Path, capsys) -> None:
    study_file = str(finished_study / "tiny.toml")
    before = (finished_study / "tiny.db").read_bytes()
    assert error_of(capsys, "run", study_file, "--seed", "4294967296") == (
        "--seed must be an integer from 0 to 4294967295, got 4294967296"
    )
    assert error_of(capsys, "dashboard", study_file, "--port", "99999") == (
        "--port must be a port number from 1 to 65535, got 99999"
    )
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert error_of(capsys, "export", study_file, "--output", str(blocker / "out")) == (
        f"cannot write the export to {blocker / 'out'}: {blocker} is a file, not a folder"
    )
    other = write_study(tmp_path, name="mysql", study={"storage": "mysql://u:secret@host/db"})
    assert error_of(capsys, "run", str(other)) == (
        f'{other}: [study] storage: "mysql://u:***@host/db" needs the Python package MySQLdb, '
        "which is not installed; install it with: pip install mysqlclient"
    )
    assert (finished_study / "tiny.db").read_bytes() == before


def test_version_and_the_helps_example_for_the_shipped_studies() -> None:
    from importlib import metadata

    assert command("--version").stdout == f"lenet-search {metadata.version('lenet-search')}\n"
    assert "  lenet-search predict exported/quickstart shoe.png\n" in command("--help").stdout


def test_a_reader_that_stops_reading_gets_no_traceback(tmp_path: Path) -> None:
    import optuna
    from optuna.trial import create_trial

    url = f"sqlite:///{tmp_path}/many.db"
    study = optuna.create_study(study_name="many", storage=url)
    study.add_trials([create_trial(value=n / 1000) for n in range(600)])  # far over a pipe's 64 KB
    reader = subprocess.Popen(
        [sys.executable, "-m", "search", "trials", "--storage", url, "--study-name", "many"]
        + ["--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert reader.stdout.read(100)  # as `| head -c 100`: read a little, then close
    reader.stdout.close()
    assert reader.wait(timeout=60) == 141
    assert reader.stderr.read() == b""
