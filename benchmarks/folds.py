"""Folds against one validation split on a small Fashion-MNIST subset, at equal wall time; and the
model a folds study keeps (its fold models averaged) against one network retrained.

    .venv/bin/python benchmarks/folds.py [--budget 180] [--sizes 2000] [--seeds 0 1]

Per size and seed, two studies of ``--budget`` seconds each, one after the other, on the same
subset of that many training images (stratified, seeded), split 80 / 20 into training and
validation:

- "split": ``[data] folds = 1``: each trial trains one model, judged on the validation split;
- "folds": ``[data] folds = 5``: each trial trains five, judged on every training image out of
  fold, and keeps the five at the best epoch, averaged.

Prints what each study did and chose, its chosen model's accuracy on the 10,000 Fashion-MNIST
test images (the study's own one evaluation), and folds - split paired on those images, over the
seeds together. Then, for each folds study's best trial, the other model it could have kept: one
network trained on all training images, with the trial's seed, for its best epoch's count of
epochs; the fold models averaged (kept) - retrained on the same images.
Nothing here chooses by the test split: both studies chose on their own validation.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import common
import numpy as np

from search.stats import paired_difference

FOLDS = 5
ARMS = {"split": 1, "folds": FOLDS}

STUDY = """\
[study]
name = "small"
timeout = {budget}
seed = {seed}

[data]
dataset = "fashion_mnist"
train_samples = {size}
validation_split = 0.2
folds = {folds}

[search_space]
conv1_channels = {{ low = 8, high = 32, log = true }}
conv2_channels = {{ low = 16, high = 64, log = true }}
dense_units = {{ low = 16, high = 128, log = true }}
epochs = {{ low = 5, high = 20 }}
"""


def retrained(got: dict) -> np.ndarray:
    """The folds study's best trial's network trained on the whole training split for its best
    epoch's count: whether it is right, image by image, on the test split."""
    from search.data.loading import load_dataset
    from search.engine.training import Training, TrainingData
    from search.space.hyperparameters import architecture, training_params
    from search.storage import records

    config, best = got["config"], got["best_trial"]
    dataset = load_dataset(config.data)
    values = best.user_attrs[records.HYPERPARAMETERS]
    arch = architecture(values, dataset.input_shape, len(dataset.class_names))
    training = Training(
        TrainingData(dataset),
        arch,
        training_params(values),
        best.user_attrs[records.KERAS_SEED],
        best.user_attrs[records.PRECISION],
    )
    for result in training.epochs():
        if result.epoch == got["best_epoch"]:
            break
    probabilities = training.model.predict(dataset.x_test, batch_size=1024, verbose=0)
    return probabilities.argmax(axis=1) == dataset.y_test


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=180, help="seconds a study (180)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000], help="training images")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()

    print(f"machine: {common.machine()}; flags: {common.cpu_flags()}")
    print(f"budget {args.budget:.0f} s a study; seeds {args.seeds}")
    for size in args.sizes:
        compare(size, args.seeds, args.budget)


def compare(size: int, seeds: list[int], budget: float) -> None:
    """Both studies per seed on ``size`` images, then the paired differences."""
    correct: dict[str, list[np.ndarray]] = {name: [] for name in (*ARMS, "retrained")}
    for seed in seeds:
        for name, folds in ARMS.items():
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "small.toml"
                path.write_text(STUDY.format(budget=budget, seed=seed, size=size, folds=folds))
                got = common.run_and_read(path)
                correct[name].append(got["correct"])
                print(
                    f"{size:,} images, seed {seed}, {name}: {got['wall']:.0f} s, {got['trials']} "
                    f"trials ({got['complete']} complete, {got['pruned']} pruned), "
                    f"{got['epochs']} epochs; best trial {got['best']} (epoch "
                    f"{got['best_epoch']}): validation {got['val']}, test {got['test']}",
                    flush=True,
                )
                if name == "folds":
                    other = retrained(got)
                    correct["retrained"].append(other)
                    test = common.accuracy_text(other.mean(), other.size)
                    print(f"  its network retrained on all training images: {test}", flush=True)
    for better, worse in (("folds", "split"), ("folds", "retrained")):
        mean, low, high = paired_difference(
            np.concatenate(correct[better]), np.concatenate(correct[worse])
        )
        print(
            f"{size:,} images, {better} - {worse} on the test images, {len(seeds)} seeds "
            f"pooled: {mean * 100:+.2f} points (paired 95% CI {low * 100:+.2f} to "
            f"{high * 100:+.2f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
