"""What the benchmarks share: the real data, scratch study files, timed commands, intervals.

Benchmarks are run by hand (never by the test suite) and print figures; see each script's
docstring for its command.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as `python benchmarks/x.py` from anywhere

from search.runtime.tensorflow import hide_native_output  # noqa: E402 - after the path
from search.stats import wilson_interval  # noqa: E402

hide_native_output()  # TensorFlow's C++ start-up lines, as the CLI hides them


def accuracy_text(accuracy: float, n: int) -> str:
    """An accuracy with its 95% interval on a split of ``n`` images."""
    low, high = wilson_interval(round(accuracy * n), n)
    return f"{accuracy:.2%} (95% CI {low:.2%} to {high:.2%}, n={n:,})"


def timed_command(args: list[str], **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    """Run ``python -m search ...`` or another Python command; its wall seconds and result."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, text=True, capture_output=True, **kwargs
    )
    return time.perf_counter() - started, result


def machine() -> str:
    cores = len(os.sched_getaffinity(0))
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cores} cores, {model}"


def cpu_flags() -> str:
    """The CPU features that change how TensorFlow runs: vector width, bfloat16, AMX."""
    from search.engine.precision import cpu_flags as all_flags

    wanted = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16")
    return " ".join(flag for flag in wanted if flag in all_flags()) or "none of " + ", ".join(
        wanted
    )


def run_pinned(commands: list[list[str]]) -> Iterator[tuple[int, str]]:
    """Run each Python command in a process of its own pinned to one core, as many at once as
    there are cores (as `run --workers auto` runs trials); yield (index, stdout) as each ends."""
    cores = sorted(os.sched_getaffinity(0))
    pending = list(enumerate(commands))
    running: dict[int, tuple[int, subprocess.Popen]] = {}
    while pending or running:
        for core in cores:
            if core not in running and pending:
                index, command = pending.pop(0)
                process = subprocess.Popen(
                    ["taskset", "-c", str(core), sys.executable, *command],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                    cwd=ROOT,
                )
                running[core] = (index, process)
        for core, (index, process) in list(running.items()):
            if process.poll() is not None:
                del running[core]
                yield index, process.stdout.read()
        time.sleep(1)
