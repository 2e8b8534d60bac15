"""How many workers a run starts, and what each gets: a pure function of the machine."""

from __future__ import annotations

import os

import pytest

from search.scheduler.plan import WORKER_MEMORY_BYTES, plan_workers, visible_gpus

CORES = sorted(os.sched_getaffinity(0))


def test_auto_runs_one_single_threaded_worker_per_core() -> None:
    plan = plan_workers(None, trials_left=100, available_memory=64 * 2**30, gpus=[])
    assert plan.reason == f"auto: {len(CORES)} cores, room in memory for 32, 100 trials left"
    assert plan.count == len(CORES)
    if len(CORES) > 1:
        assert (plan.threads, plan.cpus) == (1, [(core,) for core in CORES])


def test_auto_runs_no_more_workers_than_memory_holds() -> None:
    plan = plan_workers(
        None, trials_left=100, available_memory=WORKER_MEMORY_BYTES * 3 // 2, gpus=[]
    )
    assert (plan.count, plan.threads, plan.cpus, plan.gpus) == (1, len(CORES), [()], [None])
    assert plan.reason == f"auto: {len(CORES)} cores, room in memory for 1, 100 trials left"


def test_auto_never_runs_more_workers_than_trials_left() -> None:
    plan = plan_workers(None, trials_left=1, gpus=[])
    assert (plan.count, plan.threads, plan.cpus, plan.gpus) == (1, len(CORES), [()], [None])


def test_more_workers_than_cores_share_them_one_thread_each() -> None:
    plan = plan_workers(len(CORES) * 2, trials_left=100, gpus=[])
    assert (plan.count, plan.threads, plan.cpus, plan.gpus) == (
        len(CORES) * 2,
        1,
        [()] * len(CORES) * 2,
        [None] * len(CORES) * 2,
    )
    assert plan.reason == "as asked"


def test_a_run_that_only_a_timeout_ends_is_not_capped_by_trials() -> None:
    plan = plan_workers(None, None, available_memory=64 * 2**30, gpus=[], cores=[0, 1, 2, 3])
    assert plan.count == 4
    assert plan.reason == "auto: 4 cores, room in memory for 32, until the timeout"


def test_auto_on_gpus_runs_one_worker_per_gpu_with_the_cores_shared_out() -> None:
    plan = plan_workers(
        None, 100, available_memory=64 * 2**30, gpus=["0", "1"], cores=list(range(16))
    )
    assert (plan.count, plan.threads, plan.gpus) == (2, 8, ["0", "1"])
    assert plan.cpus == [tuple(range(8)), tuple(range(8, 16))]
    assert plan.reason == "auto: 2 GPUs, one worker each, room in memory for 32, 100 trials left"


def test_more_workers_than_gpus_share_them_in_turn() -> None:
    plan = plan_workers(3, 100, gpus=["0", "1"], cores=list(range(6)))
    assert (plan.count, plan.threads, plan.gpus) == (3, 2, ["0", "1", "0"])


def test_one_gpu_runs_one_worker_in_the_run_itself() -> None:
    plan = plan_workers(None, 100, available_memory=64 * 2**30, gpus=["0"], cores=[0, 1])
    assert (plan.count, plan.threads, plan.cpus, plan.gpus) == (1, 2, [()], ["0"])


def test_visible_gpus_follow_cuda_visible_devices(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, expected in (("0,2", ["0", "2"]), ("", []), ("-1", []), ("3", ["3"])):
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", value)
        assert visible_gpus() == expected
