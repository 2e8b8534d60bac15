"""Which ensemble of a study's own trials: the mean of the top k by validation, for k = 1..10,
against greedy selection with replacement (Caruana et al. 2004), on finished studies.

    .venv/bin/python benchmarks/ensemble_size.py STUDY_FILE [STUDY_FILE ...]

For each study: every COMPLETE trial's model (rebuilt in float32, as the ensemble uses it)
classifies the validation and test splits once; then the validation and test accuracy of the
mean of the top k trials' probabilities (ranked by their own validation accuracy), the same
cross-fitted as the tool chooses k (ranked on half the validation images, scored on the other),
the paired difference to the best trial alone on test, and greedy selection's (20 rounds on
validation). ``[ensemble] size`` is chosen by the cross-fitted curve across the studies; test
is printed as the check a reader can make, not as the chooser.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import common
import numpy as np

from search.engine.ensemble import cross_fitted
from search.stats import paired_difference

KS = range(1, 11)
GREEDY_ROUNDS = 20


def probabilities(study_file: Path) -> tuple[list, np.ndarray, np.ndarray, np.ndarray, str]:
    """(trials best first, their val and test probabilities, the labels, a title)."""
    from optuna.trial import TrialState

    from search.config.study_file import load_config
    from search.data.loading import load_dataset
    from search.engine.training import float32_lenet
    from search.runtime.tensorflow import start_tensorflow
    from search.storage import records
    from search.storage.artifacts import load_trial_model, open_artifact_store
    from search.storage.database import load_study, open_storage
    from search.storage.records import trial_params

    start_tensorflow()
    config = load_config(study_file)
    study = load_study(open_storage(config.study.storage, create=False), config.study.name)
    store = open_artifact_store(config.study.artifacts, create=False)
    data = load_dataset(config.data)
    trials = sorted(
        study.get_trials(states=(TrialState.COMPLETE,)), key=lambda t: (-t.value, t.number)
    )
    val, test = [], []
    for trial in trials:
        model = float32_lenet(
            load_trial_model(store, trial.user_attrs[records.ARTIFACT_ID]), trial_params(trial)
        )
        val.append(model.predict(data.x_val, batch_size=1024, verbose=0))
        test.append(model.predict(data.x_test, batch_size=1024, verbose=0))
    title = (
        f"{config.study.name} ({study_file}): {len(trials)} complete of {len(study.trials)} "
        f"trials; validation n={len(data.y_val):,}, test n={len(data.y_test):,}"
    )
    labels = (data.y_val, data.y_test)
    return trials, np.array(val), np.array(test), labels, title


def greedy(val: np.ndarray, y_val: np.ndarray, rounds: int = GREEDY_ROUNDS) -> list[int]:
    """Caruana's selection with replacement: add the trial that most raises validation accuracy."""
    chosen: list[int] = []
    total = np.zeros_like(val[0])
    for _ in range(rounds):
        scores = [((total + p).argmax(1) == y_val).mean() for p in val]
        best = int(np.argmax(scores))
        chosen.append(best)
        total += val[best]
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study_files", type=Path, nargs="+")
    args = parser.parse_args()
    print(f"machine: {common.machine()}")
    gains: dict[int, list[float]] = {k: [] for k in KS}
    for study_file in args.study_files:
        trials, val, test, (y_val, y_test), title = probabilities(study_file)
        print(f"\n{title}")
        print(
            f"  {'k':>2}  {'validation':>10}  {'cross-fitted':>12}  {'test':>7}  "
            "test minus the best alone (paired 95% CI)"
        )
        single = test[0].argmax(1) == y_test
        # What the tool chooses k by (engine.ensemble.cross_fitted), over the top max(KS).
        fitted = cross_fitted(val[: max(KS)], y_val)
        for k in KS:
            if k > len(trials):
                break
            val_acc = (val[:k].mean(0).argmax(1) == y_val).mean()
            correct = test[:k].mean(0).argmax(1) == y_test
            mean, low, high = paired_difference(correct, single)
            print(
                f"  {k:>2}  {val_acc:>10.2%}  {fitted[k - 1]:>12.2%}  {correct.mean():>7.2%}  "
                f"{mean:+.2%} ({low:+.2%} to {high:+.2%})"
            )
            gains[k].append(fitted[k - 1] - fitted[0])
        picked = greedy(val, y_val)
        counts = np.bincount(picked, minlength=len(trials))
        weights = counts / counts.sum()
        val_acc = ((weights[:, None, None] * val).sum(0).argmax(1) == y_val).mean()
        correct = (weights[:, None, None] * test).sum(0).argmax(1) == y_test
        mean, low, high = paired_difference(correct, single)
        members = {trials[i].number: int(c) for i, c in enumerate(counts) if c}
        print(
            f"  greedy, {GREEDY_ROUNDS} rounds (trial: times picked {members}): validation "
            f"{val_acc:.2%}, test {correct.mean():.2%}, {mean:+.2%} ({low:+.2%} to {high:+.2%})"
        )
    print(
        "\ncross-fitted validation gain of the top k over the best alone, mean over the studies:"
    )
    for k, values in gains.items():
        if values:
            print(f"  k={k:>2}: {np.mean(values):+.2%} ({len(values)} studies)")


if __name__ == "__main__":
    main()
