"""The real command: exit codes, exact error lines, and end-to-end runs in a subprocess."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest

from search.cli import main
from search.records import stored_test_evaluation
from tests.conftest import copy_of, write_study
from tests.postgres import free_port

ROOT = Path(__file__).parents[2]


def command(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "search", *args],
        capture_output=True,
        text=True,
        cwd=kwargs.pop("cwd", ROOT),
        timeout=kwargs.pop("timeout", 300),
        **kwargs,
    )


def start(*args: str, **kwargs) -> subprocess.Popen:
    """The CLI in a process of its own, for tests that signal it or run several at once."""
    return subprocess.Popen(
        [sys.executable, "-m", "search", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=kwargs.pop("cwd", ROOT),
        **kwargs,
    )


def error_of(capsys: pytest.CaptureFixture, *argv: str) -> str:
    """Run the CLI in this process; assert exit 2 and return its one stderr line."""
    assert main(list(argv)) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("Error: ")
    return err[len("Error: ") : -1]


def test_help_explains_every_command() -> None:
    result = command("--help")
    assert result.returncode == 0
    for name in ("run", "trials", "best", "export", "predict", "dashboard", "--storage"):
        assert name in result.stdout
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


def test_the_cli_starts_without_optuna_or_tensorflow() -> None:
    # `--help` answers at once, and the signal handlers are set before any heavy import.
    script = "import sys, search.cli; print(sorted({'optuna', 'tensorflow'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.stdout == "[]\n", result.stderr


def test_commands_that_do_not_train_do_not_import_tensorflow(finished_study: Path) -> None:
    script = (
        "import sys; from search.cli import main; "
        f"codes = [main(['trials', {str(finished_study / 'tiny.toml')!r}]), "
        f"main(['best', {str(finished_study / 'tiny.toml')!r}])]; "
        "assert codes == [0, 0], codes; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "val_acc" in result.stdout and "best trial of study" in result.stdout


def test_trials_and_best_by_storage_url(finished_study: Path, capsys) -> None:
    url = f"sqlite:///{finished_study}/tiny.db"
    assert main(["trials", "--storage", url, "--study-name", "tiny"]) == 0
    table = capsys.readouterr().out.splitlines()
    # The tiny study fixes batch size and learning rate away from the tutorial's: shown.
    header = ["trial", "state", "conv1", "conv2", "dense", "epochs", "batch", "lr", "val_acc"]
    assert table[0].split() == [*header, "epoch", "params", "sec", "note"]
    assert [line.split()[1] for line in table[1:3]] == ["COMPLETE", "COMPLETE"]
    assert table[3] == "2 trials: 2 complete"
    assert main(["best", "--storage", url, "--study-name", "tiny"]) == 0
    report = capsys.readouterr().out
    study = optuna.load_study(study_name="tiny", storage=url)
    test = stored_test_evaluation(study, study.best_trial.number)
    assert f"  validation accuracy: {study.best_value:.4f} (epoch " in report
    assert f"  test accuracy:       {test.accuracy:.4f} (loss {test.loss:.4f})" in report


def test_trials_and_best_as_csv_and_json_match_the_database(finished_study: Path, capsys) -> None:
    study_file = str(finished_study / "tiny.toml")
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{finished_study}/tiny.db")
    assert main(["trials", study_file, "--format", "csv", "--sort", "value"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    by_value = sorted(study.trials, key=lambda t: -t.value)
    assert frame["number"].tolist() == [t.number for t in by_value]
    assert frame["value"].tolist() == [t.value for t in by_value]
    assert frame["conv1_channels"].tolist() == [t.params["conv1_channels"] for t in by_value]
    assert frame["best"].tolist() == [True, False]
    assert main(["trials", study_file, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["number"], r["state"], r["value"]) for r in rows] == [
        (t.number, t.state.name, t.value) for t in study.trials
    ]
    assert [r["curve"] for r in rows] == [
        {str(k): v for k, v in sorted(t.intermediate_values.items())} for t in study.trials
    ]
    assert main(["best", study_file, "--format", "json"]) == 0
    best = json.loads(capsys.readouterr().out)
    test = stored_test_evaluation(study, study.best_trial.number)
    assert (best["trial"], best["validation_accuracy"], best["test_accuracy"]) == (
        study.best_trial.number,
        study.best_value,
        test.accuracy,
    )
    assert best["params"]["dense_units"] == study.best_params["dense_units"]
    assert main(["best", study_file, "--format", "csv"]) == 0
    row = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert row["trial"][0] == study.best_trial.number and row["test_loss"][0] == test.loss
    assert error_of(capsys, "trials", study_file, "--format", "xml") == (
        "argument --format: invalid choice: 'xml' (choose from 'table', 'csv', 'json') "
        "(see `lenet-search trials --help`)"
    )


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
        '--storage "nonsense" is not a database URL; use sqlite:///path/to/file.db '
        "or postgresql://user:password@host/database"
    )
    assert error_of(capsys, "best") == "give a study file, or --storage URL and --study-name NAME"
    existing = tmp_path / "existing"
    existing.mkdir()
    study_file = str(finished_study / "tiny.toml")
    assert error_of(capsys, "export", study_file, "--output", str(existing)) == (
        f"{existing} already exists; pass --force to replace it"
    )
    assert error_of(capsys, "predict", str(tmp_path), "x.png") == (
        f"no exported model in {tmp_path} (expected model.keras and model_card.json, "
        "which `lenet-search export` writes)"
    )
    assert error_of(capsys, "run", study_file, "--workers", "0") == (
        '--workers must be a positive integer or "auto", got 0'
    )
    assert error_of(capsys, "run", "--n-trials", "many") == (
        "argument --n-trials: invalid int value: 'many' (see `lenet-search run --help`)"
    )
    assert (finished_study / "tiny.db").read_bytes() == before


def test_bad_data_leaves_the_database_untouched(finished_study: Path, tmp_path, capsys) -> None:
    folder = copy_of(finished_study, tmp_path)
    for image in (folder / "shapes" / "vertical").glob("*.png"):
        image.unlink()
    before = (folder / "tiny.db").read_bytes()
    assert error_of(capsys, "run", str(folder / "tiny.toml")) == (
        f"class folder {folder}/shapes/vertical has no images"
    )
    assert (folder / "tiny.db").read_bytes() == before


def test_best_before_any_complete_trial(tmp_path: Path, capsys) -> None:
    optuna.create_study(study_name="empty", storage=f"sqlite:///{tmp_path}/e.db")
    url = f"sqlite:///{tmp_path}/e.db"
    assert error_of(capsys, "best", "--storage", url, "--study-name", "empty") == (
        'study "empty" has no complete trial yet'
    )


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
    assert debug.returncode != 0 and "Traceback (most recent call last)" in debug.stderr


@pytest.mark.slow
def test_run_export_predict_end_to_end(tmp_path: Path, image_folder: Path) -> None:
    study_file = write_study(tmp_path, n_trials=2)
    run = command("run", str(study_file))
    assert run.returncode == 0, run.stderr
    assert "trial 0 (conv1=" in run.stderr and "epoch 1/" in run.stderr
    assert 'best trial of study "tiny"' in run.stdout
    assert "trials:              2 trials: 2 complete" in run.stdout
    assert "Traceback" not in run.stderr
    quiet = command("run", str(study_file), "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""

    output = tmp_path / "exported"
    export = command("export", str(study_file), "--output", str(output))
    assert export.returncode == 0, export.stderr
    assert export.stdout.startswith("exported trial ")
    card = json.loads((output / "model_card.json").read_text())
    image = next((image_folder / "horizontal").glob("*.png"))
    predict = command("predict", str(output), str(image), "--top", "2")
    assert predict.returncode == 0, predict.stderr
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    failed = command("predict", str(output), str(image), str(broken))
    assert failed.returncode == 2
    assert failed.stdout.startswith(f"{image}: ")  # the readable image is still classified
    assert failed.stderr == f"Error: 1 of 2 images could not be read: {broken} (not an image)\n"
    line = predict.stdout.strip()
    assert line.startswith(f"{image}: ")
    names = [part.rsplit(" ", 1)[0] for part in line.split(": ", 1)[1].split(", ")]
    assert len(names) == 2 and set(names) <= set(card["class_names"])


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_keeps_finished_trials_and_the_study_resumes(
    tmp_path: Path, image_folder, stop: signal.Signals
) -> None:
    study_file = write_study(
        tmp_path, n_trials=50, edits={"epochs = { low = 1, high = 3 }": "epochs = 150"}
    )
    database = tmp_path / "tiny.db"
    process = start("run", str(study_file))
    try:
        deadline = time.monotonic() + 240
        # Stop once a trial has completed and the next one is training (it has reported an
        # epoch, with many left): the signal then lands mid-trial, not between two trials.
        while _count(database, "COMPLETE") < 1 or _training(database) < 1:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
        process.send_signal(stop)
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "Interrupted: finished trials are kept" in err and "Traceback" not in err
    assert "best trial of study" in out
    assert _count(database, "RUNNING") == 0
    completed = _count(database, "COMPLETE")
    assert completed >= 1
    with sqlite3.connect(database) as db:
        reasons = db.execute(
            "SELECT value_json FROM trial_user_attributes WHERE key = 'fail_reason'"
        ).fetchall()
    assert reasons == [('"interrupted (Ctrl-C)"',)]

    resumed = command("run", str(study_file), "--n-trials", str(completed + 1), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert _count(database, "COMPLETE") == completed + 1


def _training(database: Path) -> int:
    """RUNNING trials that have reported an epoch."""
    with sqlite3.connect(database) as db:
        return db.execute(
            "SELECT COUNT(DISTINCT t.trial_id) FROM trials t JOIN trial_intermediate_values v "
            "ON v.trial_id = t.trial_id WHERE t.state = 'RUNNING'"
        ).fetchone()[0]


def _count(database: Path, state: str) -> int:
    if not database.exists():
        return 0
    try:
        with sqlite3.connect(database) as db:
            return db.execute("SELECT COUNT(*) FROM trials WHERE state = ?", (state,)).fetchone()[
                0
            ]
    except sqlite3.OperationalError:  # tables not made yet
        return 0


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
    other = tmp_path / "mysql.toml"
    other.write_text(
        (finished_study / "tiny.toml")
        .read_text()
        .replace("seed = 0", 'seed = 0\nstorage = "mysql://u:secret@host/db"')
    )
    assert error_of(capsys, "run", str(other)) == (
        f'{other}: [study] storage: "mysql://u:***@host/db" needs the Python package MySQLdb, '
        "which is not installed; install it with: pip install mysqlclient"
    )
    assert (finished_study / "tiny.db").read_bytes() == before


def test_a_damaged_export_is_one_error_line(finished_study: Path, tmp_path: Path) -> None:
    output = tmp_path / "export"
    assert (
        command("export", str(finished_study / "tiny.toml"), "--output", str(output)).returncode
        == 0
    )
    model = output / "model.keras"
    model.write_bytes(model.read_bytes()[:2000])  # truncated
    image = next((finished_study / "shapes" / "circle").glob("*.png"))
    result = command("predict", str(output), str(image))
    assert result.returncode == 2
    assert result.stderr.startswith(
        "Error: the exported model (model.keras) cannot be loaded, it may be damaged or "
        "truncated: "
    )
    assert result.stderr.count("\n") == 1


def test_export_never_touches_a_partial_folder_of_the_users(
    finished_study: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "out.partial"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    result = command(
        "export", str(finished_study / "tiny.toml"), "--output", str(tmp_path / "out")
    )
    assert result.returncode == 0, result.stderr
    assert (mine / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out.partial"]


@pytest.mark.slow
def test_a_run_in_which_no_trial_completes_says_why(tmp_path: Path, image_folder: Path) -> None:
    # A learning rate that makes every trial diverge.
    study_file = write_study(tmp_path, edits={"learning_rate = 0.01": "learning_rate = 1e12"})
    result = command("run", str(study_file), "--quiet")
    assert result.returncode == 1
    assert result.stderr == (
        'Error: no trial of study "tiny" completed; the first failure: loss or weights became '
        "NaN or infinite in epoch 1\n"
    )
    assert 'study "tiny": no trial completed' in result.stdout


@pytest.mark.slow
def test_sigterm_while_run_starts_is_an_interrupt(tmp_path: Path, image_folder: Path) -> None:
    study_file = write_study(tmp_path)
    process = start("run", str(study_file))
    time.sleep(1.0)  # loading the data or starting TensorFlow
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert err.endswith(("Interrupted.\n", "`run` again to resume.\n", "run again to resume.\n"))
    assert "Traceback" not in err


@pytest.mark.slow
def test_worker_joins_a_study_from_its_storage_alone(tmp_path: Path, image_folder: Path) -> None:
    study_file = write_study(tmp_path, n_trials=2)
    assert command("run", str(study_file), "--quiet").returncode == 0
    url = f"sqlite:///{tmp_path}/tiny.db"
    workers = [
        start(
            *("worker", "--storage", url, "--study-name", "tiny", "--n-trials", "7", "--quiet"),
            cwd=tmp_path.parent,  # no study file anywhere near
        )
        for _ in range(2)
    ]
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0 and err == "", err
        assert "test accuracy:       " in out  # the stored one, from the `run`
    assert _count(tmp_path / "tiny.db", "COMPLETE") == 7

    # This machine's copy of the data differs: one image changed.
    image = next((image_folder / "vertical").glob("*.png"))
    image.write_bytes((image_folder / "circle" / "0.png").read_bytes())
    before = (tmp_path / "tiny.db").read_bytes()
    refused = command("worker", "--storage", url, "--study-name", "tiny", "--n-trials", "8")
    assert refused.returncode == 2
    assert refused.stderr.endswith(
        'the data of study "tiny" changed since the study was made: 1 file changed '
        f"(vertical/{image.name}). Pass --allow-changes to go on with the new settings and "
        "data, or give the study another [study] name\n"
    )
    assert (tmp_path / "tiny.db").read_bytes() == before


@pytest.mark.slow
def test_a_study_keeps_its_models_in_an_s3_bucket(
    tmp_path: Path, image_folder: Path, s3_bucket: str
) -> None:
    import boto3

    from search.artifacts import OWNER_FILE

    location = f"s3://{s3_bucket}/tiny"
    study_file = write_study(tmp_path, edits={"seed = 0": f'seed = 0\nartifacts = "{location}"'})
    result = command("run", str(study_file), "--quiet")  # boto3 finds the server in the env
    assert result.returncode == 0, result.stderr
    storage = optuna.storages.get_storage(f"sqlite:///{tmp_path}/tiny.db")
    study = optuna.load_study(study_name="tiny", storage=storage)
    assert study.user_attrs["artifact_dir"] == location
    # Under the prefix: the claim, and what the study and its trials uploaded, nothing else.
    metas = {
        meta.artifact_id: meta.filename
        for holder in (study, *study.trials)
        for meta in optuna.artifacts.get_all_artifact_meta(holder, storage=storage)
    }
    assert sorted(metas.values()) == sorted(
        ["test_predictions.npz"]
        + ["model.keras", "learning_curves.png", "confusion_matrix.png"] * 2
    )
    assert {t.user_attrs["artifact_id"] for t in study.trials} <= metas.keys()
    listed = boto3.client("s3").list_objects_v2(Bucket=s3_bucket)["Contents"]
    assert {o["Key"] for o in listed} == {f"tiny/{OWNER_FILE}"} | {f"tiny/{i}" for i in metas}
    assert not (tmp_path / "tiny_artifacts").exists()
    exported = command("export", str(study_file), "--output", str(tmp_path / "out"))
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "out" / "model.keras").is_file()

    # A worker on a machine that cannot reach the bucket says so before it trains.
    database = (tmp_path / "tiny.db").read_bytes()
    unreachable = f"http://127.0.0.1:{free_port()}"
    refused = command(
        *("worker", "--storage", f"sqlite:///{tmp_path}/tiny.db", "--study-name", "tiny"),
        *("--n-trials", "4", "--quiet"),
        env={**os.environ, "AWS_ENDPOINT_URL": unreachable, "AWS_MAX_ATTEMPTS": "1"},
    )
    assert refused.returncode == 2
    assert refused.stderr == (
        f"Error: cannot reach the artifact store {location}: Could not connect to the endpoint "
        f'URL: "{unreachable}/{s3_bucket}" (boto3 takes the endpoint and credentials from '
        "AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ~/.aws/config, ...)\n"
    )
    assert (tmp_path / "tiny.db").read_bytes() == database
