"""Many workers on one PostgreSQL study, directly and through `lenet-search storage-proxy`.

    python benchmarks/storage_proxy.py [--workers 12] [--trials 600]

Each side runs the study's trials in ``--workers`` spawned worker processes with trials that
take no time (the scheduler alone: what every trial costs in storage calls), on a PostgreSQL
server of its own (Debian's, started here), side by side in one command. It prints trials per
minute, the storage seconds a trial costs a worker (workers x wall seconds / trials), the
database connections held (``pg_stat_activity``, sampled every 0.1 s) and whether the study
ended with exactly its trials.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ROOT, machine

from search.engine.study import create_or_resume_study, open_for_trials
from search.scheduler.events import Progress
from search.scheduler.plan import plan_workers
from search.scheduler.pool import run_worker_pool
from search.scheduler.worker import Budget, RunLimits
from search.storage import records
from search.storage.artifacts import open_artifact_store
from tests.helpers import make_image_folder, write_study
from tests.postgres import binaries, free_port, pg_states, server
from tests.stubs import instant_objective


def connections(url: str, samples: list[int], stop: threading.Event) -> None:
    """Sample the database's client connections until ``stop``."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    query = sqlalchemy.text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'lenet' AND pid <> pg_backend_pid()"
    )
    while not stop.wait(0.1):
        with engine.connect() as connection:
            samples.append(connection.execute(query).scalar_one())
    engine.dispose()


def one_side(folder: Path, url: str, proxied: bool, workers: int, trials: int) -> dict:
    from search.config.study_file import load_config
    from search.data.loading import load_dataset

    make_image_folder(folder / "shapes")
    run = {"workers": workers, "trials_per_worker": trials}
    config = load_config(write_study(folder, n_trials=trials, study={"storage": url}, run=run))
    store = open_artifact_store(config.study.artifacts, create=True)
    study = create_or_resume_study(config, load_dataset(config.data), store)
    records.set_study_record(study, records.N_TRIALS, trials)
    proxy = None
    if proxied:
        port = free_port()
        proxy = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "search",
                "storage-proxy",
                "--storage",
                url,
                "--port",
                str(port),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        proxy.stdout.readline()  # serving
        storage = dataclasses.replace(config.study, storage=f"grpc://127.0.0.1:{port}")
        config = dataclasses.replace(config, study=storage)
    samples: list[int] = []
    stop = threading.Event()
    sampler = threading.Thread(target=connections, args=(url, samples, stop))
    sampler.start()
    started = time.perf_counter()
    run_worker_pool(
        open_for_trials(config),
        plan_workers(workers, trials),
        RunLimits(trials, Budget(trials), None, trials),
        Progress(),
        config=config,
        open_study=open_for_trials,
        objective_factory=instant_objective,
    )
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    if proxy is not None:
        proxy.terminate()
        proxy.wait()
    return {
        "wall": wall,
        "states": pg_states(url),
        "connections_max": max(samples),
        "connections_median": statistics.median(samples),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=12)
    parser.add_argument("--trials", type=int, default=600)
    args = parser.parse_args()
    print(f"machine: {machine()}; {args.workers} workers, {args.trials} trials of no time")
    results = {}
    for side, proxied in (("PostgreSQL directly", False), ("through storage-proxy", True)):
        with tempfile.TemporaryDirectory() as folder, server(binaries()) as database:
            results[side] = one_side(
                Path(folder), database.url, proxied, args.workers, args.trials
            )
    print(
        f"\n| {args.workers} workers | trials/min | storage s a trial, per worker "
        "| DB connections (max, median) | trials |"
    )
    print("| --- | --- | --- | --- | --- |")
    for side, r in results.items():
        per_minute = args.trials / r["wall"] * 60
        per_trial = args.workers * r["wall"] / args.trials
        print(
            f"| {side} | {per_minute:,.0f} | {per_trial:.2f} | "
            f"{r['connections_max']}, {r['connections_median']:g} | {r['states']} |"
        )


if __name__ == "__main__":
    main()
