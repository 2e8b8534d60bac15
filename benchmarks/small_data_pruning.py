"""Pruning on small data: the median pruner as Optuna has it against the one that knows the noise.

    .venv/bin/python benchmarks/small_data_pruning.py [--budget 120] [--sizes 400 2000]
        [--seeds 0 1]

For each size, a Fashion-MNIST subset of that many training images (stratified, seeded) split
80 / 20 into training and validation, the README's small-data search space (the hands study's),
and ``--budget`` seconds a study, run twice per seed one after the other:

- "optuna": ``[pruner] n_warmup_steps = 1, noise_margin = 0``: Optuna's MedianPruner, pruning
  from the first epoch on any gap, what the tool did before issue 19;
- "noise": the defaults, a warm-up until a trial has seen 5,000 images and no prune within the
  validation split's one-sided 95% bound.

Prints per study what it did (trials complete and pruned, epochs trained) and what it chose on
validation: the best trial's validation accuracy, and its accuracy on the 10,000 Fashion-MNIST
test images (the study's own one evaluation at the end of `run`); then, per size, the paired
difference of the two pruners' chosen models on those images, over the seeds together.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import common
import numpy as np

from search.stats import paired_difference

PRUNERS = {
    "optuna": "n_warmup_steps = 1\nnoise_margin = 0",
    "noise": "",  # the defaults
}

STUDY = """\
[study]
name = "small"
timeout = {budget}
seed = {seed}

[data]
dataset = "fashion_mnist"
train_samples = {size}
validation_split = 0.2

[pruner]
kind = "median"
{pruner}

[search_space]
conv1_channels = {{ low = 8, high = 32, log = true }}
conv2_channels = {{ low = 16, high = 64, log = true }}
dense_units = {{ low = 16, high = 128, log = true }}
epochs = {{ low = 5, high = 20 }}
"""


def run_study(folder: Path, size: int, seed: int, pruner: str, budget: float) -> dict:
    """One study run to its budget; what it did and chose, and its chosen model's test answers."""
    path = folder / "small.toml"
    path.write_text(STUDY.format(budget=budget, seed=seed, size=size, pruner=PRUNERS[pruner]))
    return common.run_and_read(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=120, help="seconds a study (120)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[400, 2000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()

    print(f"machine: {common.machine()}; flags: {common.cpu_flags()}")
    print(f"budget {args.budget:.0f} s a study; seeds {args.seeds}")
    for size in args.sizes:
        correct: dict[str, list[np.ndarray]] = {name: [] for name in PRUNERS}
        for seed in args.seeds:
            for name in PRUNERS:
                with tempfile.TemporaryDirectory() as tmp:
                    got = run_study(Path(tmp), size, seed, name, args.budget)
                correct[name].append(got["correct"])
                print(
                    f"{size:,} images, seed {seed}, {name}: {got['wall']:.0f} s, "
                    f"{got['trials']} trials ({got['complete']} complete, {got['pruned']} "
                    f"pruned, {got['pruned_at_1']} after epoch 1), {got['epochs']} epochs; "
                    f"best trial {got['best']} (epoch {got['best_epoch']}): validation "
                    f"{got['val']}, test {got['test']}",
                    flush=True,
                )
        mean, low, high = paired_difference(
            np.concatenate(correct["noise"]), np.concatenate(correct["optuna"])
        )
        print(
            f"{size:,} images, noise - optuna on the test images, {len(args.seeds)} seeds "
            f"pooled: {mean * 100:+.2f} points (paired 95% CI {low * 100:+.2f} to "
            f"{high * 100:+.2f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
