"""The recipes a study can open, each on its own: validation accuracy and time at equal epochs.

    .venv/bin/python benchmarks/recipes.py --epochs 12
    .venv/bin/python benchmarks/recipes.py --epochs 12 --widths 64/128/256 --only "cosine schedule"

Trains one mid-sized LeNet (32/64/128 unless ``--widths``, batch 32, Adam at 1e-3) on the full
Fashion-MNIST split for the same number of epochs with each recipe (batch normalization, a
learning-rate schedule, random shifts and flips, and their combinations), in single-threaded
processes pinned one per core as `run --workers auto` runs trials, and prints each one's best
validation accuracy (with its 95% interval on the 6,000 validation images), at which epoch, and
the seconds an epoch took: what a recipe gains, and what it costs in epochs a study could have
trained instead. One seed each: differences inside the intervals are noise. The test split is
not read.
"""

from __future__ import annotations

import argparse
import json
import time

import common

RECIPES = {
    "plain (the tutorial's recipe)": {},
    "cosine schedule": {"lr_schedule": "cosine"},
    "one-cycle schedule": {"lr_schedule": "one_cycle"},
    "shift 2 px": {"shift": 2},
    "cosine + shift 2": {"lr_schedule": "cosine", "shift": 2},
    "batch norm": {"batch_norm": 1},
    "batch norm + cosine": {"batch_norm": 1, "lr_schedule": "cosine"},
    "batch norm + cosine + shift 2": {"batch_norm": 1, "lr_schedule": "cosine", "shift": 2},
    "batch norm + cosine + shift 2 + flip": {
        "batch_norm": 1,
        "lr_schedule": "cosine",
        "shift": 2,
        "flip": 1,
    },
}
WIDTH_KEYS = ("conv1_channels", "conv2_channels", "dense_units")


def widths_arg(text: str) -> list[int]:
    """``--widths C1/C2/D``: three positive whole numbers, refused here rather than in a child."""
    parts = text.split("/")
    if len(parts) != len(WIDTH_KEYS) or not all(part.isdigit() and int(part) for part in parts):
        raise argparse.ArgumentTypeError(
            f"{text!r}: give conv1/conv2/dense as three positive whole numbers, e.g. 32/64/128"
        )
    return [int(part) for part in parts]


def one(recipe: dict, epochs: int, widths: list[int]) -> None:
    """In a child process: train the recipe; print a JSON line."""
    from search.runtime.tensorflow import start_tensorflow

    start_tensorflow(threads=1)
    from search.config.settings import DataSettings
    from search.data.loading import load_dataset
    from search.engine.training import Training, TrainingData
    from search.space.hyperparameters import architecture, training_params

    data = load_dataset(DataSettings("fashion_mnist", validation_split=0.1))
    values = {**dict(zip(WIDTH_KEYS, widths, strict=True)), "epochs": epochs, **recipe}
    arch = architecture(values, data.input_shape, len(data.class_names))
    training = Training(TrainingData(data), arch, training_params(values), seed=0)
    started, curve, seconds = time.perf_counter(), [], []
    for result in training.epochs():
        curve.append(result.val_accuracy)
        seconds.append(result.train_seconds)
    print(
        json.dumps(
            {"curve": curve, "train_seconds": seconds, "wall": time.perf_counter() - started}
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=12, help="epochs each (12)")
    parser.add_argument("--only", help="the names of RECIPES to run, comma-separated")
    parser.add_argument(
        "--widths",
        type=widths_arg,
        default="32/64/128",
        help="conv1/conv2/dense of the LeNet (32/64/128)",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    widths = "/".join(map(str, args.widths))
    if args.one:
        one(json.loads(args.one), args.epochs, args.widths)
        return
    names = [n for n in RECIPES if not args.only or n in args.only.split(",")]
    print(f"machine: {common.machine()}; flags: {common.cpu_flags()}")
    print(f"LeNet {widths}, batch 32, lr 1e-3, {args.epochs} epochs each, one core each, seed 0")
    commands = [
        [__file__, "--one", json.dumps(RECIPES[name]), "--epochs", str(args.epochs)]
        + ["--widths", widths]
        for name in names
    ]
    for index, stdout in common.run_pinned(commands):
        result = json.loads(stdout.strip().splitlines()[-1])
        curve, seconds = result["curve"], result["train_seconds"]
        best = max(curve)
        print(
            f"  {names[index]:<38} best {common.accuracy_text(best, 6000)} at epoch "
            f"{curve.index(best) + 1}; last {curve[-1]:.2%}; "
            f"{sum(seconds) / len(seconds):.1f} s an epoch",
            flush=True,
        )


if __name__ == "__main__":
    main()
