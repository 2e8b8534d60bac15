"""Workers behind `lenet-search storage-proxy` (Optuna's gRPC proxy) on a real PostgreSQL
server: exact n_trials without the database's lock, beside workers that reach the database
directly, and a dead worker's trial recovered through the proxy's heartbeats."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.helpers import ROOT, command, start, write_study
from tests.postgres import free_port, pg_states
from tests.stubs import made_study, run_instant_pool, slow_objective


def start_proxy(url: str, port: int) -> subprocess.Popen:
    """`storage-proxy` serving ``url`` on ``port``, once it says so."""
    process = start("storage-proxy", "--storage", url, "--port", str(port))
    line = process.stdout.readline()
    assert line.startswith("storage proxy for postgresql+psycopg://"), process.stderr.read()
    return process


def stop_proxy(process: subprocess.Popen) -> None:
    """Ctrl-C: it ends the calls under way, then exits 130 without a traceback."""
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130 and "Traceback" not in err, err


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[str]:
    """`storage-proxy` serving the test database; its grpc:// URL."""
    port = free_port()
    process = start_proxy(postgres_url, port)
    yield f"grpc://127.0.0.1:{port}"
    stop_proxy(process)


def proxied(study_file: Path, proxy_url: str) -> tuple:
    """The study made on the database (as `run` makes it), and a config whose workers reach it
    through the proxy; the study fills to its n_trials (what `run` records for the proxy)."""
    from search.engine.study import open_for_trials
    from search.storage import records

    made, config = made_study(study_file)
    records.set_study_record(made.study, records.N_TRIALS, config.study.n_trials)
    through = dataclasses.replace(
        config, study=dataclasses.replace(config.study, storage=proxy_url)
    )
    return made, config, open_for_trials(through), through


def test_workers_through_the_proxy_and_beside_it_make_exactly_n_trials(
    tmp_path: Path, image_folder: Path, postgres_url: str, proxy: str
) -> None:
    study = {"storage": postgres_url}
    run = {"trials_per_worker": 100}
    _, _, behind, through = proxied(
        write_study(tmp_path, n_trials=60, study=study, run=run), proxy
    )
    assert type(behind.study._storage).__name__ == "ProxyStorage"
    # Two processes on the database itself, under its lock, at the same time.
    code = f"import tests.stubs as s; s.run_with_instant_trials({str(tmp_path / 'tiny.toml')!r})"
    beside = [
        subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    run_instant_pool(behind, through, workers=3, trials=60)
    for process in beside:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0 and "Traceback" not in err, err
    workers = {t.user_attrs["worker"] for t in behind.study.get_trials()}
    assert len(workers) == 5  # all five processes ran trials
    # The commands that read a study take the proxy's URL too.
    listed = command("trials", "--storage", proxy, "--study-name", "tiny", "--format", "csv")
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 1 + 60
    assert pg_states(postgres_url) == {"COMPLETE": 60}


def test_a_dead_workers_trial_is_recovered_through_the_proxys_heartbeats(
    tmp_path: Path, image_folder: Path, postgres_url: str, proxy: str
) -> None:
    from search.engine.study import open_for_trials

    study = {"storage": postgres_url, "heartbeat_interval": 1, "grace_period": 3}
    made, _, _, through = proxied(write_study(tmp_path, n_trials=3, study=study), proxy)
    # A worker behind the proxy, in a process of its own, killed in the middle of its trial.
    code = (
        "import tests.search.scheduler.test_proxy as t; "
        f"t.run_slow_trial({str(tmp_path / 'tiny.toml')!r}, {proxy!r})"
    )
    victim = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    while pg_states(postgres_url).get("RUNNING", 0) < 1:
        assert victim.poll() is None
        time.sleep(0.1)
    time.sleep(1.5)  # a beat or two recorded through the proxy
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    time.sleep(3.5)  # past the grace period: the proxy recovers it at the next reservation
    run_instant_pool(open_for_trials(through), through, workers=2, trials=3)
    trials = made.study.get_trials()
    assert [t.state.name for t in trials].count("COMPLETE") == 3
    failed = [t for t in trials if t.state.name == "FAIL"]
    assert len(failed) == 1
    assert "sent no heartbeat for over 3 s" in failed[0].user_attrs["fail_reason"]
    assert [t.user_attrs.get("retry_of") for t in trials].count(failed[0].number) == 1


def run_slow_trial(path: str, proxy_url: str) -> None:
    """One trial of 30 s through the proxy, in this process (to be killed in the middle)."""
    from search.config.study_file import load_config
    from search.engine.study import open_for_trials
    from search.scheduler.events import Progress
    from search.scheduler.worker import Budget, RunLimits, run_trials

    config = load_config(Path(path))
    through = dataclasses.replace(
        config, study=dataclasses.replace(config.study, storage=proxy_url)
    )
    objective, failing = slow_objective(SimpleNamespace(config=through), Progress(), seconds=30)
    limits = RunLimits(through.study.n_trials, Budget(1), None)
    run_trials(open_for_trials(through), objective, limits, Progress(), failing)


def test_workers_wait_for_a_restarted_proxy(
    tmp_path: Path, image_folder: Path, postgres_url: str, capfd: pytest.CaptureFixture
) -> None:
    port = free_port()
    process = start_proxy(postgres_url, port)
    study = {"storage": postgres_url}
    _, _, behind, through = proxied(
        write_study(tmp_path, n_trials=8, study=study), f"grpc://127.0.0.1:{port}"
    )
    restarted: list[subprocess.Popen] = []

    def restart_the_proxy() -> None:
        while pg_states(postgres_url).get("COMPLETE", 0) < 2:
            time.sleep(0.1)
        stop_proxy(process)
        time.sleep(3)
        restarted.append(start_proxy(postgres_url, port))

    restart = threading.Thread(target=restart_the_proxy)
    restart.start()
    trials = partial(slow_objective, seconds=1)
    run_instant_pool(behind, through, workers=2, trials=8, factory=trials)
    restart.join()
    stop_proxy(restarted[0])
    assert pg_states(postgres_url) == {"COMPLETE": 8}
    assert "Traceback" not in capfd.readouterr().err


def test_runs_started_together_through_the_proxy_give_their_new_study_one_uid(
    tmp_path: Path, image_folder: Path, proxy: str
) -> None:
    from search.storage import records
    from search.storage.artifacts import open_artifact_store, store_owner

    # No lock behind the proxy: each run makes or opens the study at the same moment, and only
    # its maker names it; two names would leave the study and its store's claim apart for good.
    path = write_study(tmp_path, study={"storage": proxy})
    together, made = threading.Barrier(4), []

    def run() -> None:
        together.wait()
        made.append(made_study(path))

    runs = [threading.Thread(target=run) for _ in range(4)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    assert len(made) == 4
    owner = store_owner(open_artifact_store(made[0][1].study.artifacts, create=False))
    assert owner is not None
    assert {records.study_uid(handle.study) for handle, _ in made} == {owner.uid}
