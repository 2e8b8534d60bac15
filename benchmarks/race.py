"""The half-hour race: the optuna-examples loop against `lenet-search run`, same wall budget.

    .venv/bin/python benchmarks/race.py                  # 1800 s each, one after the other
    .venv/bin/python benchmarks/race.py --budget 300     # a quick look

(a) The baseline, written the way optuna-examples writes a Keras search: one process with
    TensorFlow's default threads, TPE and MedianPruner with Optuna's defaults, batch 32, Adam at
    1e-3, ``model.fit`` with a pruning callback, the value being the last epoch's validation
    accuracy. It searches the channels, dense units and epochs of ``studies/fashion_mnist.toml``
    (the tutorial's network, no opt-in keys) on the same 54,000 / 6,000 split.
(b) ``lenet-search run studies/fashion_mnist.toml`` as shipped, on a fresh study.

Both stop starting trials at the budget (``timeout``) and finish the trials they run. Each best
model is evaluated once on the 10,000 test images; accuracies are printed with 95% intervals,
and the difference of the two on the same test images with its paired 95% interval.
Target: (b) >= 92.0% test accuracy, and >= 0.7 points ahead of (a).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import common
import numpy as np

STUDY_FILE = common.ROOT / "studies" / "fashion_mnist.toml"


def baseline(budget: float, out: Path) -> None:
    """(a), in this process. Writes its summary and test predictions into ``out``."""
    import keras
    import optuna

    from models import LeNetArchitecture, build_lenet
    from search.config.study_file import load_config
    from search.data.loading import load_dataset

    started = time.perf_counter()
    config = load_config(STUDY_FILE)
    data = load_dataset(config.data)
    space = config.search_space
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    class PruningCallback(keras.callbacks.Callback):  # optuna-integration's, in 8 lines
        def __init__(self, trial: optuna.Trial) -> None:
            super().__init__()
            self.trial = trial

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            self.trial.report(float(logs["val_accuracy"]), step=epoch)
            if self.trial.should_prune():
                raise optuna.TrialPruned(f"pruned at epoch {epoch}")

    best = {"value": -1.0, "model": None}

    def suggest(trial: optuna.Trial, name: str) -> int:
        param = space[name]
        if hasattr(param, "value"):
            return param.value
        return trial.suggest_int(name, param.low, param.high, log=param.log)

    def objective(trial: optuna.Trial) -> float:
        keras.backend.clear_session()
        arch = LeNetArchitecture(
            (28, 28, 1),
            10,
            suggest(trial, "conv1_channels"),
            suggest(trial, "conv2_channels"),
            suggest(trial, "dense_units"),
        )
        model = build_lenet(arch)
        model.compile(
            optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        model.fit(
            data.x_train,
            data.y_train,
            batch_size=32,
            epochs=suggest(trial, "epochs"),
            validation_data=(data.x_val, data.y_val),
            callbacks=[PruningCallback(trial)],
            verbose=0,
        )
        value = float(model.evaluate(data.x_val, data.y_val, verbose=0)[1])
        if value > best["value"]:
            best.update(value=value, model=model)
        return value

    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=0),
        pruner=optuna.pruners.MedianPruner(),
    )
    study.optimize(objective, timeout=budget)
    probabilities = best["model"].predict(data.x_test, batch_size=1024, verbose=0)
    np.save(out / "baseline_test_predictions.npy", probabilities.argmax(axis=1))
    states = [t.state.name for t in study.trials]
    summary = {
        "complete": states.count("COMPLETE"),
        "pruned": states.count("PRUNED"),
        "failed": states.count("FAIL"),
        "best_params": study.best_params,
        "val_accuracy": study.best_value,
        "wall": time.perf_counter() - started,
    }
    (out / "baseline.json").write_text(json.dumps(summary))


def ours(budget: float, folder: Path) -> dict:
    """(b): a fresh copy of the shipped study, run with the budget as its timeout."""
    path = folder / STUDY_FILE.name
    shutil.copy(STUDY_FILE, path)
    wall, result = common.timed_command(
        ["-m", "search", "run", str(path), "--timeout", str(budget)]
    )
    if result.returncode != 0:
        sys.exit(f"lenet-search run failed:\n{result.stderr}")
    for line in result.stderr.splitlines():
        if line.startswith(("workers:", "precision:")):
            print(f"  {line}")
    import optuna

    from search.config.study_file import load_config
    from search.data.loading import load_dataset
    from search.storage import records
    from search.storage.artifacts import load_trial_model, open_artifact_store

    config = load_config(path)
    study = optuna.load_study(study_name=config.study.name, storage=config.study.storage)
    store = open_artifact_store(config.study.artifacts, create=False)
    model = load_trial_model(store, study.best_trial.user_attrs[records.ARTIFACT_ID])
    data = load_dataset(config.data)
    predictions = model.predict(data.x_test, batch_size=1024, verbose=0).argmax(axis=1)
    states = [t.state.name for t in study.trials]
    best = study.best_trial
    return {
        "complete": states.count("COMPLETE"),
        "pruned": states.count("PRUNED"),
        "failed": states.count("FAIL"),
        "best_params": best.params,
        "best_epoch": best.user_attrs[records.BEST_EPOCH],
        "val_accuracy": best.value,
        "stored_test": records.stored_test_evaluation(study, best.number).accuracy,
        "wall": wall,
        "predictions": predictions,
        "y_test": data.y_test,
        "epochs_trained": _epochs_trained(folder / f"{config.study.name}.db"),
    }


def _epochs_trained(database: Path) -> int:
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT value_json FROM trial_user_attributes WHERE key = 'epochs_run'"
        ).fetchall()
    return sum(int(value) for (value,) in rows)


def show(name: str, result: dict, n_val: int, n_test: int, test: float) -> None:
    trials = result["complete"] + result["pruned"] + result["failed"]
    print(f"{name}")
    print(f"  wall time:  {result['wall']:.0f} s")
    print(
        f"  trials:     {trials} ({result['complete']} complete, {result['pruned']} pruned, "
        f"{result['failed']} failed)"
    )
    print(f"  best:       {json.dumps(result['best_params'])}")
    print(f"  validation: {common.accuracy_text(result['val_accuracy'], n_val)}")
    print(f"  test:       {common.accuracy_text(test, n_test)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=1800, help="seconds each (1800)")
    parser.add_argument("--baseline-only", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_only:
        baseline(args.budget, args.baseline_only)
        return

    print(f"machine: {common.machine()}; budget {args.budget:.0f} s each")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print("(a) baseline: optuna-examples loop, one process, TPE + MedianPruner, batch 32 ...")
        _, result = common.timed_command(
            [__file__, "--baseline-only", tmp, "--budget", str(args.budget)]
        )
        if result.returncode != 0:
            sys.exit(f"baseline failed:\n{result.stderr}")
        base = json.loads((folder / "baseline.json").read_text())
        base_predictions = np.load(folder / "baseline_test_predictions.npy")
        print("(b) lenet-search run studies/fashion_mnist.toml ...")
        (folder / "ours").mkdir()
        mine = ours(args.budget, folder / "ours")

    y = mine["y_test"]
    n_test, n_val = len(y), 6000
    base_correct = base_predictions == y
    our_correct = mine["predictions"] == y
    assert math.isclose(our_correct.mean(), mine["stored_test"], abs_tol=1e-6)
    show("(a) baseline", base, n_val, n_test, float(base_correct.mean()))
    show("(b) lenet-search", mine, n_val, n_test, float(our_correct.mean()))
    print(f"  best epoch: {mine['best_epoch']}; epochs trained in all: {mine['epochs_trained']}")
    difference = our_correct.astype(float) - base_correct.astype(float)
    half = 1.96 * difference.std(ddof=1) / math.sqrt(n_test)
    print(
        f"(b) - (a) on the same test images: {difference.mean():+.2%} "
        f"(paired 95% CI {difference.mean() - half:+.2%} to {difference.mean() + half:+.2%})"
    )
    print("targets: (b) >= 92.00% test; (b) - (a) >= +0.70 points")


if __name__ == "__main__":
    main()
