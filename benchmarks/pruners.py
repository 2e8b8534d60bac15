"""Which pruner pays on the fashion study: median, successive halving and Hyperband, same budget.

    .venv/bin/python benchmarks/pruners.py --budget 900 [--keep DIR]

Runs ``studies/fashion_mnist.toml`` as shipped, on a fresh study, once per pruner (its
``[pruner]`` table replaced, everything else the same, ``--timeout`` = the budget), one after
the other. Prints for each what the study delivers, on validation (the default is chosen on it;
the test split is not looked at): its ensemble's accuracy and the best single trial's; then the
trials, and the epochs trained against the epochs the same trials would have trained unpruned.
``--keep DIR`` keeps each study in DIR/<pruner>/ (for benchmarks/ensemble_size.py).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import common

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=900, help="seconds each (900)")
    parser.add_argument("--only", nargs="*", choices=PRUNERS, help="run only these")
    parser.add_argument("--keep", type=Path, help="keep each study in DIR/<pruner>/")
    parser.add_argument("--seed", type=int, default=0, help="the studies' seed (0)")
    args = parser.parse_args()
    import optuna

    print(f"machine: {common.machine()}; flags: {common.cpu_flags()}")
    print(f"budget {args.budget:.0f} s each, seed {args.seed}")
    for name in args.only or PRUNERS:
        with tempfile.TemporaryDirectory() as tmp:
            folder = args.keep / name if args.keep else Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / STUDY_FILE.name
            path.write_text(with_pruner(STUDY_FILE.read_text(), PRUNERS[name]))
            wall, result = common.timed_command(
                ["-m", "search", "run", str(path), "--timeout", str(args.budget), "--quiet"]
                + ["--seed", str(args.seed)]
            )
            if result.returncode != 0:
                sys.exit(f"lenet-search run failed:\n{result.stderr}")
            study = optuna.load_study(
                study_name="fashion_mnist", storage=f"sqlite:///{folder}/fashion_mnist.db"
            )
        trials = study.trials
        states = [t.state.name for t in trials]
        trained = sum(t.user_attrs.get(records.EPOCHS_RUN, 0) for t in trials)
        planned = sum(t.user_attrs[records.HYPERPARAMETERS]["epochs"] for t in trials)
        ensemble = records.latest_ensemble_evaluation(study)
        print(f"{name} ({PRUNERS[name].replace(chr(10), ', ')}), {wall:.0f} s")
        if ensemble is not None:
            print(
                f"  ensemble of {len(ensemble.members)} validation: "
                f"{common.accuracy_text(ensemble.val_accuracy, ensemble.n_val)}"
            )
        print(f"  best single validation: {common.accuracy_text(study.best_value, 6000)}")
        print(f"  best: trial {study.best_trial.number} {study.best_trial.params}")
        print(
            f"  trials: {len(trials)} ({states.count('COMPLETE')} complete, "
            f"{states.count('PRUNED')} pruned, {states.count('FAIL')} failed); epochs trained: "
            f"{trained}, against {planned} for the same trials unpruned "
            f"({1 - trained / planned:.0%} saved)"
        )


if __name__ == "__main__":
    main()
