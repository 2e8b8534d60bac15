"""What the benchmarks share: the real data, scratch study files, timed commands, intervals.

Benchmarks are run by hand (never by the test suite) and print figures; see each script's
docstring for its command.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as `python benchmarks/x.py` from anywhere

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def wilson_interval(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval of a binomial proportion (Wilson's, good near 0 and 1 too)."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


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
