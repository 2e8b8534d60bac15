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


def timed_command(
    args: list[str], cwd: Path = ROOT, **kwargs
) -> tuple[float, subprocess.CompletedProcess]:
    """Run ``python -m search ...`` or another Python command in ``cwd``; its wall seconds and
    result."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, *args], cwd=cwd, text=True, capture_output=True, **kwargs
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


def fp32_peak_per_core() -> tuple[float, str]:
    """One core's FP32 peak in GFLOP/s, and how it was reckoned (printed beside it).

    FLOPs a cycle from the vector units the CPU's flags imply: two FMA pipes of 8 floats on
    AVX2 (Zen 3, Intel client); on AVX-512 two of 16 on Intel server cores and AMD Zen 5
    (family 26, whose EPYC parts have full 512-bit pipes), but still 8-wide pipes on AMD Zen 4,
    which splits 512-bit work in two. The clock is /proc/cpuinfo's (often the base clock in a
    VM; boost makes the true peak higher, the fraction lower).
    """
    from search.engine.precision import cpu_flags as all_flags

    flags = all_flags()
    vendor, family, mhz = "", 0, 0.0
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("vendor_id"):
            vendor = line.split(":", 1)[1].strip()
        elif line.startswith("cpu family") and not family:
            family = int(line.split(":", 1)[1])
        elif line.startswith("cpu MHz") and not mhz:
            mhz = float(line.split(":", 1)[1])
    zen5_or_later = vendor == "AuthenticAMD" and family >= 26
    wide = "avx512f" in flags and (vendor == "GenuineIntel" or zen5_or_later)
    per_cycle = 2 * 2 * (16 if wide else 8)  # 2 pipes x 2 (multiply and add) x floats a pipe
    how = f"{per_cycle} FLOP a cycle ({'2 AVX-512' if wide else '2 256-bit'} FMA pipes)"
    return per_cycle * mhz / 1000, f"{how} x {mhz / 1000:.2f} GHz"


def training_flops(arch: object, n_train: int, n_val: int) -> float:
    """FLOPs of one epoch: a training image costs about three forward passes (forward,
    and the two products of the backward pass), a validation image one."""
    from models.architecture import forward_flops

    forward = forward_flops(arch)
    return forward * (3 * n_train + n_val)


def run_and_read(path: Path) -> dict:
    """``lenet-search run`` of the study file ``path``, then what it did (trials, states,
    epochs, wall time) and chose: its best trial, the validation and test accuracy, and the
    test answers (``correct``, image by image) of the study's one test evaluation."""
    from search.config.study_file import load_config
    from search.data.record import judged_images
    from search.engine.evaluation import load_predictions
    from search.storage import records
    from search.storage.artifacts import open_artifact_store
    from search.storage.database import load_study, open_storage
    from search.storage.trials import best_trial

    wall, result = timed_command(["-m", "search", "run", str(path), "--quiet"])
    if result.returncode != 0:
        sys.exit(f"lenet-search run failed:\n{result.stderr}")
    config = load_config(path)
    study = load_study(open_storage(config.study.storage, create=False), config.study.name)
    best = best_trial(study)
    evaluation = records.stored_test_evaluation(study, best.number)
    store = open_artifact_store(config.study.artifacts, create=False)
    predictions = load_predictions(store, evaluation.predictions_id)
    states = [t.state.name for t in study.trials]
    judged = judged_images(records.study_record(study, records.DATA))
    return {
        "config": config,
        "study": study,
        "wall": wall,
        "trials": len(states),
        "complete": states.count("COMPLETE"),
        "pruned": states.count("PRUNED"),
        "pruned_at_1": sum(
            t.state.name == "PRUNED" and t.user_attrs.get(records.EPOCHS_RUN) == 1
            for t in study.trials
        ),
        "epochs": sum(t.user_attrs.get(records.EPOCHS_RUN, 0) for t in study.trials),
        "best": best.number,
        "best_trial": best,
        "best_epoch": best.user_attrs[records.BEST_EPOCH],
        "val": accuracy_text(best.value, judged),
        "test_accuracy": evaluation.accuracy,
        "test": accuracy_text(evaluation.accuracy, evaluation.n_images),
        "correct": predictions.y_pred == predictions.y_true,
    }
