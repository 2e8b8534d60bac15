"""Images trained per wall-second: the tutorial's way against `lenet-search run --workers auto`.

    .venv/bin/python benchmarks/throughput.py            # both, one after the other

Six LeNets from small to large, 2 epochs each on the full Fashion-MNIST training split (54,000
images, 6,000 held out for validation after every epoch), batch 32, float32 for the baseline,
no pruning:

(a) the tutorial's way: one default Python process that builds each model and calls
    ``model.fit`` (TensorFlow's default threads);
(b) the same configurations enqueued, in the same order, into a fresh study that
    ``lenet-search run --workers auto`` then runs.

Both are timed as whole commands, start-up and data loading included. Target: (b) >= 2.5x (a).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import common

from models.architecture import LeNetArchitecture
from search.storage import records

CONFIGS = [(8, 16, 16), (16, 32, 32), (16, 32, 64), (32, 64, 64), (32, 64, 128), (64, 128, 256)]
EPOCHS, BATCH = 2, 32

STUDY = """\
[study]
name = "throughput"
n_trials = {n}
seed = 0

[data]
dataset = "fashion_mnist"
validation_split = 0.1

[training]
batch_size = {batch}
learning_rate = 0.001

[run]
workers = "auto"

[pruner]
kind = "none"

[ensemble]
size = 0   # no ensemble and no student: (a) trains and validates only, so (b) does too

[search_space]
conv1_channels = {{ low = 8, high = 64 }}
conv2_channels = {{ low = 16, high = 128 }}
dense_units = {{ low = 16, high = 256 }}
epochs = {epochs}
"""


WIDTH_KEYS = ("conv1_channels", "conv2_channels", "dense_units")


def peak_text(arch: LeNetArchitecture, seconds: float, cores: int) -> str:
    """GFLOP/s reached over ``seconds`` of EPOCHS epochs, and its fraction of ``cores``' peak."""
    peak, _ = common.fp32_peak_per_core()
    reached = EPOCHS * common.training_flops(arch, 54_000, 6_000) / seconds / 1e9
    share = reached / (peak * cores)
    return f"{reached:5.1f} GFLOP/s = {share:4.0%} of {cores} core(s)' FP32 peak"


def baseline() -> None:
    """(a), in this process: plain Keras, as the tutorial trains."""
    import keras

    from models import build_lenet
    from search.config.settings import DataSettings
    from search.data.loading import load_dataset

    data = load_dataset(DataSettings("fashion_mnist", validation_split=0.1))
    for conv1, conv2, dense in CONFIGS:
        keras.utils.set_random_seed(0)
        model = build_lenet(LeNetArchitecture((28, 28, 1), 10, conv1, conv2, dense))
        model.compile(
            optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        started = time.perf_counter()
        model.fit(
            data.x_train,
            data.y_train,
            batch_size=BATCH,
            epochs=EPOCHS,
            validation_data=(data.x_val, data.y_val),
            verbose=0,
        )
        seconds = time.perf_counter() - started
        images = EPOCHS * len(data.y_train)
        arch = LeNetArchitecture((28, 28, 1), 10, conv1, conv2, dense)
        print(
            f"  {conv1}/{conv2}/{dense}: {seconds:6.1f} s  {images / seconds:7.0f} images/s  "
            f"{peak_text(arch, seconds, len(os.sched_getaffinity(0)))}"
        )


def ours(folder: Path) -> tuple[float, int]:
    """(b): enqueue the configurations and time the `run` command. Returns (wall, images)."""
    from search.config.study_file import load_config
    from search.data.loading import load_dataset
    from search.engine.study import create_or_resume_study
    from search.runtime.tensorflow import quiet_libraries
    from search.storage.artifacts import open_artifact_store

    quiet_libraries()
    path = folder / "throughput.toml"
    path.write_text(STUDY.format(n=len(CONFIGS), batch=BATCH, epochs=EPOCHS))
    config = load_config(path)
    dataset = load_dataset(config.data)
    store = open_artifact_store(config.study.artifacts, create=True)
    study = create_or_resume_study(config, dataset, store)
    for conv1, conv2, dense in CONFIGS:
        study.enqueue_trial(
            {"conv1_channels": conv1, "conv2_channels": conv2, "dense_units": dense}
        )
    del dataset
    wall, result = common.timed_command(["-m", "search", "run", str(path)])
    if result.returncode != 0:
        sys.exit(f"lenet-search run failed:\n{result.stderr}")
    for line in result.stderr.splitlines():
        if line.startswith(("workers:", "precision:")):
            print(f"  {line}")
    import optuna

    study = optuna.load_study(study_name="throughput", storage=config.study.storage)
    n_train = 54_000
    for trial in study.trials:
        attrs = trial.user_attrs
        hp = attrs[records.HYPERPARAMETERS]
        seconds = attrs[records.TRAIN_SECONDS] + attrs[records.VALIDATION_SECONDS]
        arch = LeNetArchitecture((28, 28, 1), 10, *(hp[k] for k in WIDTH_KEYS))
        print(
            f"  {hp['conv1_channels']}/{hp['conv2_channels']}/{hp['dense_units']}: "
            f"{seconds:6.1f} s  {EPOCHS * n_train / seconds:7.0f} images/s  "
            f"{peak_text(arch, seconds, cores=1)} "
            f"(trial {trial.number}, worker {attrs[records.WORKER].rsplit(':', 1)[1]})"
        )
    return wall, EPOCHS * n_train * len(CONFIGS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_only:
        baseline()
        return

    print(f"machine: {common.machine()}; flags: {common.cpu_flags()}")
    peak, how = common.fp32_peak_per_core()
    print(f"FP32 peak of one core: {peak:.0f} GFLOP/s ({how}); an epoch's FLOPs: 3 forward")
    print("passes a training image, 1 a validation image (models.forward_flops)")
    print(f"{len(CONFIGS)} configurations x {EPOCHS} epochs of 54,000 images, batch {BATCH}")
    print("(a) the tutorial's way: model.fit in one default process, float32")
    wall_a, result = common.timed_command([__file__, "--baseline-only"])
    if result.returncode != 0:
        sys.exit(f"baseline failed:\n{result.stderr}")
    print(result.stdout, end="")
    images = EPOCHS * 54_000 * len(CONFIGS)
    print(f"  whole command: {wall_a:.1f} s, {images / wall_a:.0f} images/s")

    print("(b) lenet-search run --workers auto, the same configurations enqueued")
    with tempfile.TemporaryDirectory() as tmp:
        wall_b, images_b = ours(Path(tmp))
    print(f"  whole command: {wall_b:.1f} s, {images_b / wall_b:.0f} images/s")
    print(f"ratio (b)/(a): {wall_a / wall_b:.2f}x images per wall-second (target >= 2.5x)")


if __name__ == "__main__":
    main()
