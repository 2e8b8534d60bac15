"""How many worker processes a run starts, and what each gets: cores, threads, a GPU.

A pure function of the setting, the trials left, the cores, the memory and the GPUs, so that
every machine's plan is a unit test; the run says which plan it took and why.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from search.words import plural

# Measured on this project's 2-core machine: a worker training the fashion study holds 1.3 to
# 1.7 GB; leave room for that and for the data.
WORKER_MEMORY_BYTES = 2 * 2**30


@dataclass(frozen=True)
class WorkerPlan:
    count: int
    threads: int  # TensorFlow threads of each worker
    cpus: list[tuple[int, ...]]  # per worker, the cores it is pinned to (none: not pinned)
    reason: str  # said to the user
    # Per worker, the GPU it sees alone (CUDA_VISIBLE_DEVICES); None where it uses none.
    gpus: list[str | None]


def plan_workers(
    setting: int | None,
    trials_left: int | None,
    *,
    available_memory: int | None = None,
    gpus: Sequence[str] | None = None,
    cores: Sequence[int] | None = None,
) -> WorkerPlan:
    """How many workers to run, and on which cores and GPUs.

    ``setting`` None ("auto") runs one worker per GPU where there are GPUs, else one per core;
    as many as memory allows and no more than there are trials left (None: as many as the
    timeout allows). Measured on 2 cores: two single-threaded workers train 1.9x the images
    per second of one process using both cores, since TensorFlow's ops on LeNet-sized tensors
    barely use a second thread. On GPUs, TensorFlow would map all of a GPU's memory in each
    process: each worker sees one GPU alone (``start_tensorflow`` lets its memory grow), and a
    ``setting`` of more workers than GPUs shares them in turn.

    Args:
        setting: ``[run] workers``: a number, or None for "auto".
        trials_left: trials the run may still start; None when only a timeout ends it.
        available_memory: bytes; read from /proc/meminfo when None.
        gpus: the GPUs' ids; ``visible_gpus()`` when None.
        cores: the cores this process may use; its affinity when None.
    """
    cores = sorted(os.sched_getaffinity(0) if cores is None else cores)
    gpus = visible_gpus() if gpus is None else list(gpus)
    if setting is None:
        memory = _available_memory() if available_memory is None else available_memory
        by_memory = max(1, memory // WORKER_MEMORY_BYTES)
        units = len(gpus) or len(cores)
        count = max(1, min(units, by_memory, trials_left or units))
        machine = f"{len(gpus)} GPUs, one worker each" if gpus else f"{len(cores)} cores"
        left = (
            "until the timeout" if trials_left is None else f"{plural(trials_left, 'trial')} left"
        )
        reason = f"auto: {machine}, room in memory for {by_memory}, {left}"
    else:
        count, reason = setting, "as asked"
    on_gpus = [gpus[i % len(gpus)] if gpus else None for i in range(count)]
    per_worker = len(cores) // count
    if count == 1 or per_worker == 0:
        # One worker uses every core; more workers than cores share them, one thread each.
        threads = len(cores) if count == 1 else 1
        return WorkerPlan(count, threads, [()] * count, reason, on_gpus)
    cpus = [tuple(cores[i * per_worker : (i + 1) * per_worker]) for i in range(count)]
    return WorkerPlan(count, per_worker, cpus, reason, on_gpus)


def visible_gpus() -> list[str]:
    """The NVIDIA GPUs this process may use, without starting TensorFlow or CUDA.

    ``CUDA_VISIBLE_DEVICES`` when set (empty or -1: none), else one id per GPU the driver lists
    in /proc/driver/nvidia/gpus (none on a machine without the driver).
    """
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [part.strip() for part in visible.split(",") if part.strip()]
        return [] if not ids or ids[0] == "-1" else ids
    try:
        return [str(i) for i in range(len(list(Path("/proc/driver/nvidia/gpus").iterdir())))]
    except OSError:
        return []


def _available_memory() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
