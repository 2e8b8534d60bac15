"""Several processes on one study: spawned workers, simultaneous `run`s, Ctrl-C."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from search.worker_pool import plan_workers
from tests.conftest import write_study
from tests.search.test_cli import ROOT, command

CORES = sorted(os.sched_getaffinity(0))


def test_auto_runs_one_single_threaded_worker_per_core() -> None:
    plan = plan_workers(None, trials_left=100)
    assert plan.count == len(CORES) or plan.reason.startswith("auto: ")  # memory may cap it
    if plan.count == len(CORES) > 1:
        assert (plan.threads, plan.cpus) == (1, [(core,) for core in CORES])


def test_auto_never_runs_more_workers_than_trials_left() -> None:
    plan = plan_workers(None, trials_left=1)
    assert (plan.count, plan.threads, plan.cpus) == (1, len(CORES), [()])


def test_more_workers_than_cores_share_them_one_thread_each() -> None:
    plan = plan_workers(len(CORES) * 2, trials_left=100)
    assert (plan.count, plan.threads, plan.cpus) == (len(CORES) * 2, 1, [()] * len(CORES) * 2)
    assert plan.reason == "as asked"


def states(database: Path) -> dict[str, int]:
    """Trials by state; none while the database or its tables are not made yet."""
    if not database.exists():
        return {}
    try:
        with sqlite3.connect(database) as db:
            rows = db.execute("SELECT state, COUNT(*) FROM trials GROUP BY state").fetchall()
    except sqlite3.OperationalError:
        return {}
    return dict(rows)


def quick_study(folder: Path, n_trials: int, workers: int = 1) -> Path:
    return write_study(
        folder,
        n_trials=n_trials,
        edits={
            "epochs = { low = 1, high = 3 }": "epochs = 1",
            "workers = 1": f"workers = {workers}",
        },
    )


@pytest.mark.slow
def test_runs_started_together_on_a_new_study_make_exactly_n_trials(
    tmp_path: Path, image_folder: Path
) -> None:
    for attempt in range(3):
        study_file = quick_study(tmp_path, n_trials=5)
        study_file.rename(tmp_path / f"s{attempt}.toml")
        study_file = tmp_path / f"s{attempt}.toml"
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "search", "run", str(study_file), "--quiet"],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        for process in processes:
            out, err = process.communicate(timeout=300)
            assert process.returncode == 0 and err == "", err
            assert 'best trial of study "tiny"' in out  # others may still run the last trials
        assert states(tmp_path / "tiny.db") == {"COMPLETE": 5}
        (tmp_path / "tiny.db").rename(tmp_path / f"tiny{attempt}.db")


@pytest.mark.slow
def test_workers_flag_runs_exactly_n_trials_in_that_many_processes(
    tmp_path: Path, image_folder: Path
) -> None:
    study_file = quick_study(tmp_path, n_trials=7)
    result = command("run", str(study_file), "--workers", "3")
    assert result.returncode == 0, result.stderr
    assert "workers: 3 (as asked), 1 TensorFlow thread(s) each" in result.stderr
    assert "7/7 done (7 complete, 0 pruned)" in result.stderr
    assert "Traceback" not in result.stderr and "locked" not in result.stderr
    assert states(tmp_path / "tiny.db") == {"COMPLETE": 7}
    with sqlite3.connect(tmp_path / "tiny.db") as db:
        workers = db.execute(
            "SELECT COUNT(DISTINCT value_json) FROM trial_user_attributes WHERE key = 'worker'"
        ).fetchone()[0]
    assert workers > 1  # the trials really ran in several processes


@pytest.mark.slow
def test_ctrl_c_stops_every_worker_and_the_study_resumes(
    tmp_path: Path, image_folder: Path
) -> None:
    study_file = write_study(
        tmp_path,
        n_trials=6,
        # Thousands of epochs of 33 images: trials that run for minutes.
        edits={"epochs = { low = 1, high = 3 }": "epochs = 5000", "workers = 1": "workers = 2"},
    )
    database = tmp_path / "tiny.db"
    process = subprocess.Popen(
        [sys.executable, "-m", "search", "run", str(study_file)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        deadline = time.monotonic() + 240
        while states(database).get("RUNNING", 0) < 2:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
        time.sleep(1)  # into training
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "Interrupted: finished trials are kept" in err
    assert states(database) == {"FAIL": 2}
    with sqlite3.connect(database) as db:
        reasons = db.execute(
            "SELECT value_json FROM trial_user_attributes WHERE key = 'fail_reason'"
        ).fetchall()
    assert reasons == [('"interrupted (Ctrl-C)"',)] * 2

    study_file.write_text(study_file.read_text().replace("epochs = 5000", "epochs = 1"))
    resumed = command("run", str(study_file), "--allow-changes", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert states(database) == {"FAIL": 2, "COMPLETE": 6}
