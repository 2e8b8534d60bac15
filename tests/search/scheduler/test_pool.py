"""Several processes on one study: spawned workers, simultaneous `run`s, Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import pytest

from tests.helpers import ROOT, command, start, states, write_study
from tests.postgres import Server, pg_states
from tests.stubs import made_study, run_instant_pool, slow_objective


def quick_study(folder: Path, n_trials: int, workers: int = 1) -> Path:
    return write_study(
        folder,
        n_trials=n_trials,
        search_space={"epochs": 1},
        run={"workers": workers},
    )


def test_runs_started_together_on_a_new_study_make_exactly_n_trials(
    tmp_path: Path, image_folder: Path
) -> None:
    # Three processes make the study at once and share its trials (instant ones: the scheduler
    # alone, tests/stubs.py), three times over.
    for attempt in range(3):
        study_file = quick_study(tmp_path, n_trials=20)
        study_file = study_file.rename(tmp_path / f"s{attempt}.toml")
        code = f"import tests.stubs as s; s.run_with_instant_trials({str(study_file)!r})"
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True
            )
            for _ in range(3)
        ]
        for process in processes:
            _, err = process.communicate(timeout=120)
            assert process.returncode == 0 and "Traceback" not in err, err
        assert states(tmp_path / "tiny.db") == {"COMPLETE": 20}
        (tmp_path / "tiny.db").rename(tmp_path / f"tiny{attempt}.db")
        (tmp_path / "tiny_artifacts").rename(tmp_path / f"tiny{attempt}_artifacts")


@pytest.mark.slow
def test_workers_flag_runs_exactly_n_trials_in_that_many_processes(
    tmp_path: Path, image_folder: Path
) -> None:
    study_file = quick_study(tmp_path, n_trials=5)
    result = command("run", str(study_file), "--workers", "3")
    assert result.returncode == 0, result.stderr
    assert "workers: 3 (as asked), 1 TensorFlow thread(s) each" in result.stderr
    assert "5/5 done (5 complete, 0 pruned)" in result.stderr
    assert "Traceback" not in result.stderr and "locked" not in result.stderr
    assert states(tmp_path / "tiny.db") == {"COMPLETE": 5}
    with sqlite3.connect(tmp_path / "tiny.db") as db:
        workers = db.execute(
            "SELECT COUNT(DISTINCT value_json) FROM trial_user_attributes WHERE key = 'worker'"
        ).fetchone()[0]
    assert workers > 1  # the trials really ran in several processes


def test_a_worker_is_replaced_after_its_trials_per_worker(
    tmp_path: Path, image_folder: Path
) -> None:
    run = {"workers": 2, "trials_per_worker": 2}
    made, config = made_study(write_study(tmp_path, n_trials=7, run=run))
    run_instant_pool(made, config, workers=2, trials=7)
    assert states(tmp_path / "tiny.db") == {"COMPLETE": 7}
    per_process: dict[str, int] = {}
    for trial in made.study.trials:
        worker = trial.user_attrs["worker"]
        per_process[worker] = per_process.get(worker, 0) + 1
    assert len(per_process) >= 4 and max(per_process.values()) <= 2


@pytest.mark.slow
def test_ctrl_c_stops_every_worker_and_the_study_resumes(
    tmp_path: Path, image_folder: Path
) -> None:
    study_file = write_study(
        tmp_path,
        n_trials=6,
        # Thousands of epochs of 33 images: trials that run for minutes.
        search_space={"epochs": 5000},
        run={"workers": 2},
    )
    database = tmp_path / "tiny.db"
    # Its own process group, as a terminal's foreground job.
    process = start("run", str(study_file), start_new_session=True)
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

    made, config = made_study(study_file)  # resumed: the scheduler alone, trials of no time
    run_instant_pool(made, config, workers=2, trials=6)
    assert states(database) == {"FAIL": 2, "COMPLETE": 6}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_four_workers_make_exactly_a_hundred_trials(
    tmp_path: Path, image_folder: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    # The scheduler alone: four spawned processes, a real database, trials of milliseconds.
    study: dict = {}
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_url")
        study["storage"] = url
    run = {"workers": 4, "trials_per_worker": 100}
    made, config = made_study(write_study(tmp_path, n_trials=100, run=run, study=study))
    started = time.perf_counter()
    run_instant_pool(made, config, workers=4, trials=100)
    print(f"{backend}: 4 workers x 25 instant trials in {time.perf_counter() - started:.1f} s")
    found = states(tmp_path / "tiny.db") if backend == "sqlite" else pg_states(url)
    assert found == {"COMPLETE": 100}


def worker_pids(parent: int) -> list[int]:
    """The spawned worker processes of a `run` (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    pids = []
    for pid in map(int, children):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"multiprocessing.spawn" in cmdline and b"resource_tracker" not in cmdline:
            pids.append(pid)
    return pids


def test_a_killed_workers_trial_fails_with_a_reason_and_its_retry_completes(
    tmp_path: Path, image_folder: Path, postgres_url: str
) -> None:
    # The pool's own workers (trials of 4 s, tests/stubs.py), one SIGKILLed mid-trial.
    import optuna

    study = {"storage": postgres_url, "heartbeat_interval": 1, "grace_period": 3}
    run = {"workers": 2, "trials_per_worker": 100}
    made, config = made_study(write_study(tmp_path, n_trials=4, study=study, run=run))
    killed_at: list[float] = []

    def kill_a_worker() -> None:
        # Once both trials have every parameter sampled: a trial killed while it is still
        # sampling is retried with the parameters it had (the rest are sampled anew).
        while training_trials(postgres_url) < 2:
            time.sleep(0.1)
        os.kill(worker_pids(os.getpid())[0], signal.SIGKILL)
        killed_at.append(time.time())

    killer = threading.Thread(target=kill_a_worker)
    killer.start()
    trials = partial(slow_objective, seconds=2)
    run_instant_pool(made, config, workers=2, trials=4, factory=trials)
    killer.join()
    study = optuna.load_study(study_name="tiny", storage=postgres_url)
    by_state = {s: [t for t in study.trials if t.state.name == s] for s in ("COMPLETE", "FAIL")}
    summary = [(t.number, t.state.name, t.user_attrs.get("fail_reason")) for t in study.trials]
    assert len(by_state["COMPLETE"]) == 4 and len(study.trials) == 5, summary
    [dead] = by_state["FAIL"]
    # The pool sees its process end at once; the heartbeat's grace period (3 s) is for workers
    # on other machines (tests/search/scheduler/test_recovery.py).
    assert dead.user_attrs["fail_reason"] == (
        "its worker process ended without recording it (exit code -9)"
    )
    [retry] = [t for t in study.trials if t.user_attrs.get("retry_of") == dead.number]
    assert retry.state.name == "COMPLETE" and retry.params == dead.params
    recovered_after = dead.datetime_complete.timestamp() - killed_at[0]
    print(f"the killed worker's trial was failed {recovered_after:.1f} s after the kill")
    assert recovered_after < 3  # before the grace period: not by a heartbeat


def test_a_worker_stopped_past_the_grace_period_drops_its_trial_and_the_retry_stands(
    tmp_path: Path, image_folder: Path
) -> None:
    # SIGSTOP a worker mid-trial for longer than the grace period (a preempted machine, a long
    # swap): the other worker fails its trial and retries it; woken, it drops the trial.
    import fcntl

    from search.scheduler.events import Progress
    from search.storage.database import lock_path

    study = {"heartbeat_interval": 1, "grace_period": 3}
    run = {"workers": 2, "trials_per_worker": 100}
    made, config = made_study(write_study(tmp_path, n_trials=4, run=run, study=study))
    database = tmp_path / "tiny.db"
    notes: list[str] = []

    class Notes(Progress):
        def note(self, text: str) -> None:
            notes.append(text)

    def holds_a_lock() -> bool:
        """Whether the stopped worker holds the study's lock or SQLite's write lock."""
        with open(lock_path(database), "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(lock, fcntl.LOCK_UN)
        try:
            with sqlite3.connect(database, timeout=0) as db:
                db.execute("BEGIN IMMEDIATE")
                db.rollback()
        except sqlite3.OperationalError:
            return True
        return False

    def freeze_a_worker() -> None:
        while states(database).get("RUNNING", 0) < 2:
            time.sleep(0.1)
        time.sleep(1)  # into the trials
        victim = worker_pids(os.getpid())[0]
        while True:  # stopped holding no lock, or the other worker could not recover its trial
            os.kill(victim, signal.SIGSTOP)
            if not holds_a_lock():
                break
            os.kill(victim, signal.SIGCONT)
            time.sleep(0.05)
        time.sleep(7)  # past the grace period, with a heartbeat interval to find it
        os.kill(victim, signal.SIGCONT)

    freezer = threading.Thread(target=freeze_a_worker, daemon=True)
    freezer.start()
    run_instant_pool(made, config, workers=2, trials=4, factory=slow_objective, progress=Notes())
    freezer.join(timeout=60)
    trials = made.study.get_trials()
    by_state = {s: [t for t in trials if t.state.name == s] for s in ("COMPLETE", "FAIL")}
    assert len(by_state["COMPLETE"]) == 4 and len(trials) == 5, [
        (t.number, t.state) for t in trials
    ]
    [dead] = by_state["FAIL"]
    assert dead.user_attrs["fail_reason"] == (
        "its worker sent no heartbeat for over 3 s (the process died or its machine was lost)"
    )
    [retry] = [t for t in trials if t.user_attrs.get("retry_of") == dead.number]
    assert retry.state.name == "COMPLETE" and retry.params == dead.params
    assert notes == [
        f"trial {dead.number}: another worker took it for dead while this one was stopped, and "
        "retries it; this worker drops it and goes on"
    ]


def training_trials(url: str) -> int:
    """How many RUNNING trials have reported an epoch (0 before the tables exist)."""
    import sqlalchemy

    query = (
        "SELECT COUNT(DISTINCT t.trial_id) FROM trials t JOIN trial_intermediate_values v"
        " ON v.trial_id = t.trial_id WHERE t.state = 'RUNNING'"
    )
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sqlalchemy.text(query)).scalar_one()
    except sqlalchemy.exc.ProgrammingError:  # the study's tables are not made yet
        return 0
    finally:
        engine.dispose()


def test_two_workers_ride_out_a_database_restart_and_thirty_seconds_without_it(
    tmp_path: Path, image_folder: Path, own_postgres: Server, capfd: pytest.CaptureFixture
) -> None:
    url = own_postgres.url
    made, config = made_study(
        write_study(tmp_path, n_trials=10, study={"storage": url}, run={"workers": 2})
    )
    outages: list[str] = []

    def take_the_database_away() -> None:
        while pg_states(url).get("COMPLETE", 0) < 2:
            time.sleep(0.1)
        own_postgres.restart()  # `pg_ctl restart -m fast`: every connection dropped
        outages.append(f"restarted with {pg_states(url)}")
        while pg_states(url).get("COMPLETE", 0) < 5:
            time.sleep(0.1)
        own_postgres.stop()
        time.sleep(30)
        own_postgres.start()
        outages.append(f"away for 30 s, back with {pg_states(url)}")

    outage = threading.Thread(target=take_the_database_away)
    outage.start()
    trials = partial(slow_objective, seconds=1)
    run_instant_pool(made, config, workers=2, trials=10, factory=trials)
    outage.join()
    print(*outages, sep="\n")
    assert len(outages) == 2 and "RUNNING" in outages[1]  # both outages came mid-trial
    assert pg_states(url) == {"COMPLETE": 10}
    assert "Traceback" not in capfd.readouterr().err


def test_a_database_away_past_the_retry_window_stops_the_workers_with_one_line(
    tmp_path: Path, image_folder: Path, own_postgres: Server
) -> None:
    from search.errors import LenetSearchError

    url = own_postgres.url.replace("postgres@", "postgres:secret@")  # trusted, shown hidden
    study = {"storage": url, "heartbeat_interval": 1, "grace_period": 2}
    run = {"workers": 2, "storage_retry_seconds": 3}
    made, config = made_study(write_study(tmp_path, n_trials=6, study=study, run=run))
    trials = partial(slow_objective, seconds=1)

    def stop_mid_study() -> None:
        while pg_states(url).get("COMPLETE", 0) < 2:
            time.sleep(0.1)
        own_postgres.stop()

    outage = threading.Thread(target=stop_mid_study)
    outage.start()
    with pytest.raises(LenetSearchError) as stopped:
        run_instant_pool(made, config, workers=2, trials=6, factory=trials)
    outage.join()
    shown = url.replace(":secret@", ":***@")
    assert re.fullmatch(
        rf"the study database {re.escape(shown)} could not be reached for 3 s "
        r"\(connection failed: .+\)"
        # when the worker that said it first was in a trial:
        r"(; trial \d+ is left RUNNING, for the next run or another worker to retry once its "
        r"heartbeat is stale)?",
        str(stopped.value),
    )
    own_postgres.start()
    left = pg_states(url)
    assert left.get("RUNNING", 0) >= 1 and set(left) <= {"COMPLETE", "RUNNING"}
    time.sleep(2)  # past the grace period: the next run recovers them
    made, config = made_study(write_study(tmp_path, n_trials=6, study=study, run=run))
    run_instant_pool(made, config, workers=2, trials=6 - left["COMPLETE"], factory=trials)
    assert pg_states(url) == {"COMPLETE": 6, "FAIL": left["RUNNING"]}
