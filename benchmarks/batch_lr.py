"""Batch size and learning rate by accuracy reached per wall-second, as trials train.

    .venv/bin/python benchmarks/batch_lr.py --budget 300

Trains one mid-sized LeNet (32/64/128 by default) on the full Fashion-MNIST split with each
(batch size, learning rate) pair for the same wall budget, in single-threaded processes pinned
one per core (as ``run --workers auto`` runs trials), and prints the best validation accuracy
reached within the budget, after how many epochs, and the seconds an epoch took.
"""

from __future__ import annotations

import argparse
import json
import time

import common

PAIRS = [(32, 0.001), (64, 0.001), (64, 0.002), (128, 0.001), (128, 0.002), (256, 0.003)]


def one(batch: int, lr: float, budget: float, arch: tuple[int, int, int]) -> None:
    """In a child process: train until the budget is spent; print a JSON line."""
    from search.runtime.tensorflow import start_tensorflow

    start_tensorflow(threads=1)
    from models import LeNetArchitecture
    from search.config.settings import DataSettings
    from search.data.loading import load_dataset
    from search.engine.training import Training, TrainingData
    from search.space.hyperparameters import TrainingParams

    data = TrainingData(load_dataset(DataSettings("fashion_mnist", validation_split=0.1)))
    training = Training(
        data, LeNetArchitecture((28, 28, 1), 10, *arch), TrainingParams(1000, batch, lr), seed=0
    )
    started, best, epochs, per_epoch = time.perf_counter(), (0.0, 0), 0, []
    for result in training.epochs():
        if time.perf_counter() - started > budget:
            break
        epochs = result.epoch
        per_epoch.append(result.train_seconds + result.validation_seconds)
        if result.val_accuracy > best[0]:
            best = (result.val_accuracy, result.epoch)
    print(json.dumps({"best": best, "epochs": epochs, "epoch_seconds": per_epoch}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=300, help="seconds of training each")
    parser.add_argument("--arch", default="32,64,128", help="conv1,conv2,dense (32,64,128)")
    parser.add_argument("--one", nargs=2, type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    arch = tuple(int(n) for n in args.arch.split(","))
    if args.one:
        one(int(args.one[0]), args.one[1], args.budget, arch)
        return

    print(f"machine: {common.machine()}; {args.budget:.0f} s each, LeNet {args.arch}")
    commands = [
        [__file__, "--one", str(batch), str(lr), "--budget", str(args.budget), "--arch", args.arch]
        for batch, lr in PAIRS
    ]
    for index, stdout in common.run_pinned(commands):
        batch, lr = PAIRS[index]
        result = json.loads(stdout.strip().splitlines()[-1])
        (accuracy, epoch), seconds = result["best"], result["epoch_seconds"]
        mean = sum(seconds) / len(seconds)
        print(
            f"  batch {batch:3d}, lr {lr:g}: best "
            f"{common.accuracy_text(accuracy, 6000)} at epoch {epoch} of "
            f"{result['epochs']}; {mean:.1f} s an epoch",
            flush=True,
        )


if __name__ == "__main__":
    main()
