"""Which float precision trials train in: ``[training] precision``, with "auto" decided here.

bfloat16 pays only where the CPU computes it natively (AMX or AVX512-BF16); elsewhere TensorFlow
emulates it and a step is several times slower (measured on this project's AVX2-only AMD EPYC:
4-5x). So "auto" takes ``mixed_bfloat16`` only when the CPU has such a flag *and* a short
measurement finds it faster, and says which it took and why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

NATIVE_BFLOAT16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})


@dataclass(frozen=True)
class PrecisionChoice:
    policy: str  # "float32" or "mixed_bfloat16": a Keras dtype policy
    reason: str  # said to the user


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's feature flags (Linux); empty where they cannot be read."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def choose_precision(
    setting: str,
    *,
    flags: frozenset[str] | None = None,
    step_seconds: Callable[[str], float] | None = None,
) -> PrecisionChoice:
    """Resolve ``setting`` ("auto", "float32" or "mixed_bfloat16") to a dtype policy.

    Args:
        setting: the study file's ``[training] precision``.
        flags: the CPU's flags; read from /proc/cpuinfo when None.
        step_seconds: seconds a training step takes in a policy; ``measure_step_seconds`` when
            None. Called only when the CPU has native bfloat16.
    """
    if setting != "auto":
        return PrecisionChoice(setting, "as the study file sets it")
    native = sorted(NATIVE_BFLOAT16_FLAGS & (cpu_flags() if flags is None else flags))
    if not native:
        return PrecisionChoice(
            "float32", "this CPU has no native bfloat16 (neither amx_bf16 nor avx512_bf16)"
        )
    measure = step_seconds or measure_step_seconds
    float32, bfloat16 = measure("float32"), measure("mixed_bfloat16")
    if bfloat16 < float32:
        return PrecisionChoice(
            "mixed_bfloat16",
            f"this CPU has {' and '.join(native)}, and a training step measured "
            f"{float32 / bfloat16:.2f}x as fast as in float32",
        )
    return PrecisionChoice(
        "float32",
        f"this CPU has {' and '.join(native)}, but a bfloat16 training step measured no faster "
        f"({bfloat16 / float32:.2f}x the time of float32)",
    )


def measure_step_seconds(policy: str, batch_size: int = 128, images: int = 2048) -> float:
    """Seconds per training step of a mid-sized LeNet (32/64/128) in ``policy``, after warm-up."""
    import numpy as np

    from models import LeNetArchitecture
    from search.data.dataset import Dataset
    from search.engine.training import Training, TrainingData
    from search.space.hyperparameters import TrainingParams

    rng = np.random.default_rng(0)
    x = rng.random((images, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, images)
    data = TrainingData(Dataset("timing", tuple("0123456789"), x, y, x[:256], y[:256], x, y))
    arch = LeNetArchitecture((28, 28, 1), 10, 32, 64, 128)
    training = Training(data, arch, TrainingParams(2, batch_size, 0.001), seed=0, precision=policy)
    epochs = training.epochs()
    next(epochs)  # the first epoch also traces the step function
    return next(epochs).train_seconds / (images / batch_size)
