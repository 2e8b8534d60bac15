"""`run` and `worker` as a user runs them: end to end, interrupted, failing, over S3."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest

from search.cli.main import main
from tests.helpers import (
    ROOT,
    command,
    copy_of,
    error_of,
    run_here,
    start,
    stored_study,
    write_study,
)
from tests.postgres import free_port


def test_bad_data_leaves_the_database_untouched(finished_study: Path, tmp_path, capsys) -> None:
    folder = copy_of(finished_study, tmp_path)
    for image in (folder / "shapes" / "vertical").glob("*.png"):
        image.unlink()
    before = (folder / "tiny.db").read_bytes()
    assert error_of(capsys, "run", str(folder / "tiny.toml")) == (
        f"class folder {folder}/shapes/vertical has no images"
    )
    assert (folder / "tiny.db").read_bytes() == before


@pytest.mark.slow
def test_the_mnist_study_finds_a_network_for_real_digits(
    tmp_path: Path, real_mnist: Path, capsys: pytest.CaptureFixture
) -> None:
    # studies/mnist.toml as shipped, its data from data_dir (npm's real digits, 2,000 held
    # out), on a short budget: one trial. Measured on the Xeon: 0.9750 in 13 s.
    shipped = (ROOT / "studies" / "mnist.toml").read_text()
    assert 'dataset = "mnist"\n' in shipped
    path = tmp_path / "mnist.toml"
    path.write_text(
        shipped.replace('dataset = "mnist"\n', f'dataset = "mnist"\ndata_dir = "{real_mnist}"\n')
    )
    run = run_here(capsys, "run", str(path), "--n-trials", "1", "--quiet")
    assert run.returncode == 0, run.stderr
    test = re.search(r"\n  test accuracy: +([01]\.\d{4}) \(loss", run.stdout)
    assert test is not None, run.stdout
    print(run.stdout)
    assert float(test.group(1)) >= 0.95


def test_a_study_on_folds_judges_every_training_image_and_keeps_the_fold_models_averaged(
    tmp_path: Path, image_folder: Path, capsys: pytest.CaptureFixture
) -> None:
    from search.config.study_file import load_config
    from search.data.folds import folds_line, stratified_folds
    from search.data.loading import load_dataset
    from search.engine.evaluation import saved_model_id
    from search.engine.training import sub_models
    from search.storage import records
    from search.storage.artifacts import load_trial_model, open_artifact_store

    path = write_study(tmp_path, data={"folds": 3}, search_space={"epochs": 2})
    run = run_here(capsys, "run", str(path))
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr and "retracing" not in run.stderr
    config = load_config(path)
    dataset = load_dataset(config.data)
    n_val, n_train = len(dataset.y_val), len(dataset.y_train)
    assert folds_line(3, n_val, n_train) in run.stderr.splitlines()
    assert re.search(
        rf"\(epoch [12]; out of fold on the {n_train} training images, 95% CI ", run.stdout
    )

    study = stored_study(tmp_path)
    assert records.study_record(study, records.DATA)["folds"] == 3
    held = stratified_folds(dataset.y_train, 3, config.data.split_seed)
    store = open_artifact_store(config.study.artifacts, create=False)
    for trial in study.trials:
        folds = trial.user_attrs[records.FOLD_ACCURACIES]
        correct = sum(round(a * len(images)) for a, images in zip(folds, held, strict=True))
        best_epoch = trial.user_attrs[records.BEST_EPOCH]
        assert trial.value == trial.intermediate_values[best_epoch] == correct / n_train
        model = load_trial_model(store, saved_model_id(trial))  # the fold models averaged
        assert [fold.name for fold in sub_models(model)] == ["fold_1", "fold_2", "fold_3"]
        assert model.count_params() == trial.user_attrs[records.PARAM_COUNT]
    # What a script, and the model card, read of it.
    best = json.loads(run_here(capsys, "best", str(path), "--format", "json").stdout)
    assert best["folds_model"] == f"the 3 fold models at epoch {best['best_epoch']}, averaged"
    assert len(best["fold_accuracies"]) == 3


@pytest.mark.slow
def test_a_warm_started_study_trains_the_earlier_studys_best_first(
    finished_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from search.storage.trials import ranked_trials

    folder = copy_of(finished_study, tmp_path)
    first, second = ranked_trials(stored_study(folder))  # the earlier study's, best first
    path = write_study(folder, name="warm", n_trials=3, study={"warm_start": "tiny.toml"})
    run = run_here(capsys, "run", str(path))
    assert run.returncode == 0, run.stderr
    assert (
        f'warm start: 2 configurations of study "tiny" first (its trials {first.number}, '
        f"{second.number})"
    ) in run.stderr.splitlines()
    trials = stored_study(folder, "warm").trials
    assert [t.params for t in trials[:2]] == [first.params, second.params]  # then TPE's
    table = run_here(capsys, "trials", str(path)).stdout
    assert f"warm start: tiny trial {first.number}" in table


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB filesystem of its own (tmpfs), mounted for the test: a disk that fills."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        message = f"cannot mount a small filesystem here: {mounted.stderr.strip()}"
        if os.environ.get("LENET_SEARCH_REQUIRE_MOUNT"):
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield folder
    finally:
        # Lazily: a database connection the test left to the garbage collector may hold it.
        subprocess.run(["umount", "--lazy", str(folder)], check=True)


def run_as_the_disk_fills(path: Path, filler: Path, database: Path) -> subprocess.CompletedProcess:
    """`run` of the study file at ``path`` in a process of its own while a thread, once the
    study in ``database`` has a complete trial, writes ``filler`` until its disk has not a byte
    left."""

    def fill() -> None:
        while _count(database, "COMPLETE") < 1:
            time.sleep(0.05)
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:
                pass

    filling = threading.Thread(target=fill, daemon=True)
    filling.start()
    run = command("run", str(path))
    filling.join(timeout=60)
    return run


@pytest.mark.slow
def test_a_full_disk_stops_the_run_with_one_line_and_the_study_resumes(
    tmp_path: Path, image_folder: Path, small_disk: Path, capsys: pytest.CaptureFixture
) -> None:
    models = small_disk / "models"
    path = write_study(
        tmp_path,
        n_trials=5,
        study={"artifacts": str(models)},
        search_space={"epochs": 2},
        run={"trial_pictures": False},
    )
    database = tmp_path / "tiny.db"
    filler = small_disk / "filler"
    run = run_as_the_disk_fills(path, filler, database)
    full = (
        f"no space left on {models} for a model: free some, then run again (finished trials "
        "are kept)"
    )
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert run.stderr.splitlines()[-1] == f"Error: {full}"
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        reasons = db.execute(
            "SELECT value_json FROM trial_user_attributes WHERE key = 'fail_reason'"
        ).fetchall()
    assert reasons == [(json.dumps(full),)]
    kept = {p.name for p in models.iterdir()}
    assert not any(name.endswith(".partial") for name in kept)  # nothing half-written
    recorded = {
        t.user_attrs["artifact_id"]
        for t in stored_study(tmp_path).trials
        if t.state.name == "COMPLETE"
    }
    assert recorded <= kept

    filler.unlink()  # space again: the study resumes to exactly its trials
    again = run_here(capsys, "run", str(path), "--quiet")
    assert again.returncode == 0, again.stderr
    assert _count(database, "COMPLETE") == 5


@pytest.mark.slow
def test_a_full_disk_under_the_database_stops_the_run_and_the_study_resumes(
    tmp_path: Path, image_folder: Path, small_disk: Path, capsys: pytest.CaptureFixture
) -> None:
    database = small_disk / "tiny.db"
    path = write_study(
        tmp_path,
        n_trials=4,
        study={"storage": f"sqlite:///{database}", "heartbeat_interval": 1, "grace_period": 2},
        search_space={"epochs": 3},
        run={"trial_pictures": False},
    )
    filler = small_disk / "filler"
    run = run_as_the_disk_fills(path, filler, database)
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert re.fullmatch(
        rf"Error: no space left on {re.escape(str(small_disk))} for the study database: free "
        r"some, then run again \(finished trials are kept\)(; trial \d+ is left RUNNING, .+)?",
        run.stderr.splitlines()[-1],
    ), run.stderr
    filler.unlink()  # space again: the study is whole, and resumes to exactly its trials
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    time.sleep(2)  # past the grace period: a trial left RUNNING is retried
    again = run_here(capsys, "run", str(path), "--quiet")
    assert again.returncode == 0, again.stderr
    assert _count(database, "COMPLETE") == 4


@pytest.mark.slow
def test_run_export_predict_end_to_end(
    tmp_path: Path,
    image_folder: Path,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The first run is the real command; the rest run in this process (seconds less each).
    study_file = write_study(tmp_path, n_trials=2)
    run = command("run", str(study_file))
    assert run.returncode == 0, run.stderr
    assert "trial 0 (conv1=" in run.stderr and "epoch 1/" in run.stderr
    assert 'best trial of study "tiny"' in run.stdout
    assert "trials:              2 trials: 2 complete" in run.stdout
    assert "Traceback" not in run.stderr
    # Where the models are, and what to do with them.
    assert run.stderr.splitlines()[-5:] == [
        f"models: {tmp_path.resolve() / 'tiny_artifacts'} (each complete trial's, at its best "
        "epoch)",
        "next:",
        f"  lenet-search export {study_file}      # exported/tiny",
        f"  lenet-search report {study_file}      # one HTML page of the study",
        f"  lenet-search dashboard {study_file}   # http://127.0.0.1:8080/dashboard/",
    ]
    again = run_here(capsys, "run", str(study_file))
    assert again.stderr.splitlines()[2] == (
        'nothing to run: study "tiny" has its 2 finished trials; raise n_trials, or pass '
        "--n-trials, to run more"
    )
    quiet = run_here(capsys, "run", str(study_file), "--quiet")
    assert quiet.returncode == 0 and quiet.stderr == ""

    monkeypatch.chdir(tmp_path)
    export = run_here(capsys, "export", str(study_file))  # exported/<study> by default
    assert export.returncode == 0, export.stderr
    assert export.stdout.startswith("exported trial ") and " to exported/tiny: " in export.stdout
    output = tmp_path / "exported" / "tiny"
    card = json.loads((output / "model_card.json").read_text())
    image = next((image_folder / "horizontal").glob("*.png"))
    predict = run_here(capsys, "predict", str(output), str(image), "--top", "2")
    assert predict.returncode == 0, predict.stderr
    every = run_here(capsys, "predict", str(output), str(image), "--top", "20")
    assert every.stderr == "Warning: --top 20: the model knows 3 classes; all 3 shown\n"
    assert every.stdout.count("%") == 3
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    failed = run_here(capsys, "predict", str(output), str(image), str(broken))
    assert failed.returncode == 2
    assert failed.stdout.startswith(f"{image}: ")  # the readable image is still classified
    assert failed.stderr == f"Error: 1 of 2 images could not be read: {broken} (not an image)\n"
    line = predict.stdout.strip()
    assert line.startswith(f"{image}: ")
    names = [part.rsplit(" ", 1)[0] for part in line.split(": ", 1)[1].split(", ")]
    assert len(names) == 2 and set(names) <= set(card["class_names"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stop", "copies"), [(signal.SIGINT, 1), (signal.SIGTERM, 1), (signal.SIGINT, 2)]
)
def test_ctrl_c_keeps_finished_trials_and_the_study_resumes(
    tmp_path: Path, image_folder, stop: signal.Signals, copies: int, capsys: pytest.CaptureFixture
) -> None:
    # Two copies at once are one Ctrl-C (GNU `timeout -s INT` signals the process, then its
    # group): the run still evaluates the best trial on the test split, as after one.
    study_file = write_study(tmp_path, n_trials=50, search_space={"epochs": 150})
    database = tmp_path / "tiny.db"
    process = start("run", str(study_file))
    try:
        deadline = time.monotonic() + 240
        # Stop once a trial has completed and the next one is training (it has reported an
        # epoch, with many left): the signal then lands mid-trial, not between two trials.
        while _count(database, "COMPLETE") < 1 or _training(database) < 1:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
        for _ in range(copies):
            process.send_signal(stop)
        stopped = time.monotonic()
        out, err = process.communicate(timeout=120)
    finally:
        process.kill()
    print(f"exited {time.monotonic() - stopped:.1f} s after the signal")
    assert process.returncode == 130, err
    assert "Interrupted: finished trials are kept" in err and "Traceback" not in err
    assert "best trial of study" in out
    assert re.search(r"\n  test accuracy: +[01]\.\d{4} \(loss", out), out  # evaluated
    assert _count(database, "RUNNING") == 0
    completed = _count(database, "COMPLETE")
    assert completed >= 1
    with sqlite3.connect(database) as db:
        reasons = db.execute(
            "SELECT value_json FROM trial_user_attributes WHERE key = 'fail_reason'"
        ).fetchall()
    assert reasons == [('"interrupted (Ctrl-C)"',)]

    if (stop, copies) == (signal.SIGINT, 1):  # the study it leaves is the same after each
        resumed = run_here(
            capsys, "run", str(study_file), "--n-trials", str(completed + 1), "--quiet"
        )
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


@pytest.mark.slow
def test_a_run_in_which_no_trial_completes_says_why(
    tmp_path: Path, image_folder: Path, capsys: pytest.CaptureFixture
) -> None:
    # A learning rate that makes every trial diverge.
    study_file = write_study(tmp_path, training={"learning_rate": 1e12})
    result = run_here(capsys, "run", str(study_file), "--quiet")
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
def test_worker_joins_a_study_from_its_storage_alone(
    tmp_path: Path, image_folder: Path, capsys: pytest.CaptureFixture
) -> None:
    study_file = write_study(tmp_path, n_trials=2)
    assert run_here(capsys, "run", str(study_file), "--quiet").returncode == 0
    url = f"sqlite:///{tmp_path}/tiny.db"
    workers = [
        start(
            *("worker", "--storage", url, "--study-name", "tiny", "--n-trials", "5", "--quiet"),
            cwd=tmp_path.parent,  # no study file anywhere near
        )
        for _ in range(2)
    ]
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0 and err == "", err
        assert "test accuracy:       " in out  # the stored one, from the `run`
    assert _count(tmp_path / "tiny.db", "COMPLETE") == 5

    # This machine's copy of the data differs: one image changed.
    image = next((image_folder / "vertical").glob("*.png"))
    image.write_bytes((image_folder / "circle" / "0.png").read_bytes())
    before = (tmp_path / "tiny.db").read_bytes()
    assert main(["worker", "--storage", url, "--study-name", "tiny", "--n-trials", "8"]) == 2
    refused = capsys.readouterr().err  # in this process: the header, then the error
    assert refused.endswith(
        'Error: the data of study "tiny" changed since the study was made: 1 file changed '
        f"(vertical/{image.name}). Pass --allow-changes to go on with the new settings and "
        "data, or give the study another [study] name\n"
    )
    assert (tmp_path / "tiny.db").read_bytes() == before


@pytest.mark.slow
def test_a_study_keeps_its_models_in_an_s3_bucket(
    tmp_path: Path, image_folder: Path, s3_bucket: str, capsys: pytest.CaptureFixture
) -> None:
    import boto3

    from search.storage.artifacts import OWNER_FILE

    location = f"s3://{s3_bucket}/tiny"
    study_file = write_study(tmp_path, study={"artifacts": location})
    result = run_here(capsys, "run", str(study_file), "--quiet")  # boto3: the server's in env
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
    exported = run_here(capsys, "export", str(study_file), "--output", str(tmp_path / "out"))
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


@pytest.mark.slow
def test_a_search_space_with_nothing_to_search_is_warned_of(
    tmp_path: Path, image_folder: Path, capsys: pytest.CaptureFixture
) -> None:
    fixed = {"conv1_channels": 4, "conv2_channels": 4, "dense_units": 8, "epochs": 1}
    study_file = write_study(tmp_path, n_trials=1, search_space=fixed)
    result = run_here(capsys, "run", str(study_file), "--quiet")
    assert result.returncode == 0
    assert result.stderr == (
        f"Warning: {study_file}: [search_space] searches nothing (every hyperparameter is fixed): "
        "each trial trains the same network, with a seed of its own\n"
    )
