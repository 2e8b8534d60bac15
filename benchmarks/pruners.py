"""Which pruner pays on the fashion study: median, successive halving and Hyperband, same budget.

    .venv/bin/python benchmarks/pruners.py --budget 900 [--seeds 0 1 2] [--keep DIR]

Runs ``studies/fashion_mnist.toml`` as shipped, on a fresh study, once per pruner and seed (its
``[pruner]`` table replaced, everything else the same, ``--timeout`` = the budget), one after
the other. Prints for each what the study delivers, on validation (the default is chosen on it;
the test split is not looked at): its ensemble's accuracy, the best single trial's and the
exported model's (the student where it beat the best trial); then the trials, and the epochs
trained against the epochs the same trials would have trained unpruned. At the end, each
pruner against median on the same validation images, seed by seed, pooled over the seeds with
its paired 95% interval. ``--keep DIR`` keeps each study in DIR/<pruner>-<seed>/ (for
benchmarks/ensemble_size.py).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import common
import numpy as np
import optuna

from search.stats import paired_difference
from search.storage import records

STUDY_FILE = common.ROOT / "studies" / "fashion_mnist.toml"
PRUNERS = {
    "median": 'kind = "median"\nn_startup_trials = 4\nn_warmup_steps = 2',
    "successive_halving": 'kind = "successive_halving"\nmin_resource = 2\nreduction_factor = 3',
    "hyperband": 'kind = "hyperband"\nmin_resource = 2\nreduction_factor = 3',
}


def with_pruner(text: str, pruner: str) -> str:
    """The study file with its [pruner] table replaced."""
    return re.sub(r"\[pruner\]\n(?:[^\[\n].*\n|\n)*", f"[pruner]\n{pruner}\n\n", text)


def delivered(path: Path) -> tuple[optuna.Study, dict[str, np.ndarray]]:
    """The study at ``path`` and, per validation image, whether what it delivers got it right:
    its best trial, its exported model (the student where it beat the best trial) and its
    ensemble."""
    from search.config.study_file import load_config
    from search.data.loading import load_dataset
    from search.storage.artifacts import load_trial_model, open_artifact_store
    from search.storage.database import load_study, open_storage
    from search.storage.trials import best_trial, current_student

    config = load_config(path)
    data = load_dataset(config.data)
    study = load_study(open_storage(config.study.storage, create=False), config.study.name)
    store = open_artifact_store(config.study.artifacts, create=False)

    def probabilities(artifact_id: str) -> np.ndarray:
        model = load_trial_model(store, artifact_id)
        return model.predict(data.x_val, batch_size=1024, verbose=0).astype(np.float64)

    def right(probabilities: np.ndarray) -> np.ndarray:
        return probabilities.argmax(1) == data.y_val

    best = right(probabilities(best_trial(study).user_attrs[records.ARTIFACT_ID]))
    student = current_student(study)
    exported = best
    if student is not None and student.preferred:
        exported = right(probabilities(student.artifact_id))
    ensemble, together = records.latest_ensemble_evaluation(study), best
    if ensemble is not None:  # its members' probabilities, weighted as the study chose
        members = [study.trials[n].user_attrs[records.ARTIFACT_ID] for n in ensemble.members]
        together = right(
            sum(w * probabilities(a) for w, a in zip(ensemble.weights, members, strict=True))
        )
    return study, {"best trial": best, "exported": exported, "ensemble": together}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=900, help="seconds each (900)")
    parser.add_argument("--only", nargs="*", choices=PRUNERS, help="run only these")
    parser.add_argument("--keep", type=Path, help="keep each study in DIR/<pruner>-<seed>/")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="the studies' seeds")
    args = parser.parse_args()
    print(f"machine: {common.machine()}; flags: {common.cpu_flags()}")
    print(f"budget {args.budget:.0f} s each, seeds {args.seeds}")
    names = args.only or list(PRUNERS)
    right: dict[tuple[str, int], dict[str, np.ndarray]] = {}
    for seed in args.seeds:
        for name in names:
            with tempfile.TemporaryDirectory() as tmp:
                folder = args.keep / f"{name}-{seed}" if args.keep else Path(tmp)
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / STUDY_FILE.name
                path.write_text(with_pruner(STUDY_FILE.read_text(), PRUNERS[name]))
                wall, result = common.timed_command(
                    ["-m", "search", "run", str(path), "--timeout", str(args.budget), "--quiet"]
                    + ["--seed", str(seed)]
                )
                if result.returncode != 0:
                    sys.exit(f"lenet-search run failed:\n{result.stderr}")
                study, right[name, seed] = delivered(path)
            show(name, seed, wall, study, right[name, seed])
    if "median" in names:
        print("\nagainst median, on the same validation images (pooled over the seeds):")
        for name in names:
            if name == "median":
                continue
            for what in ("exported", "ensemble"):
                per_seed = [
                    right[name, s][what].mean() - right["median", s][what].mean()
                    for s in args.seeds
                ]
                mean, low, high = paired_difference(
                    np.concatenate([right[name, s][what] for s in args.seeds]),
                    np.concatenate([right["median", s][what] for s in args.seeds]),
                )
                seeds = ", ".join(f"{d:+.2%}" for d in per_seed)
                print(
                    f"  {name} - median, {what}: {mean:+.2%} (paired 95% CI {low:+.2%} to "
                    f"{high:+.2%}); by seed {seeds}"
                )


def show(name: str, seed: int, wall: float, study: optuna.Study, right: dict) -> None:
    from search.storage.trials import best_trial

    trials = study.trials
    states = [t.state.name for t in trials]
    trained = sum(t.user_attrs.get(records.EPOCHS_RUN, 0) for t in trials)
    planned = sum(t.user_attrs[records.HYPERPARAMETERS]["epochs"] for t in trials)
    n_val = len(right["best trial"])
    print(f"{name} ({PRUNERS[name].replace(chr(10), ', ')}), seed {seed}, {wall:.0f} s")
    for what, correct in right.items():
        print(f"  {what} validation: {common.accuracy_text(correct.mean(), n_val)}")
    best = best_trial(study)  # the tool's ranking, which Optuna's best_trial is not
    print(f"  best: trial {best.number} {best.params}")
    print(
        f"  trials: {len(trials)} ({states.count('COMPLETE')} complete, "
        f"{states.count('PRUNED')} pruned, {states.count('FAIL')} failed); epochs trained: "
        f"{trained}, against {planned} for the same trials unpruned "
        f"({1 - trained / planned:.0%} saved)"
    )


if __name__ == "__main__":
    main()
