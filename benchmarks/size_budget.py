"""A size budget against none: the best model of at most 50,000 parameters found in 15 minutes.

    .venv/bin/python benchmarks/size_budget.py [--budget 900] [--max-params 50000] [--keep DIR]

Runs the fashion study twice on the same budget, one after the other, with a search space wider
than it ships (conv1 8-48, conv2 16-96, dense 16-256: from well under the budget to far over
it) and no ensemble (its members' sizes would add up): (a) with ``[search_space] max_params``,
(b) without. Prints (a)'s best trial, (b)'s best, and (b)'s best trial within the budget, each
chosen by validation; then each one's model evaluated here once on the test split (the
benchmark's measurement: the tool chooses on validation only), with 95% intervals, and the
paired difference of (a) to each of (b)'s on the same test images.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import common
import numpy as np

from search.stats import paired_difference

STUDY_FILE = common.ROOT / "studies" / "fashion_mnist.toml"
SPACE = """[search_space]
conv1_channels = { low = 8, high = 48, log = true }
conv2_channels = { low = 16, high = 96, log = true }
dense_units = { low = 16, high = 256, log = true }
epochs = { low = 5, high = 14 }
"""


def study_text(max_params: int | None) -> str:
    """The fashion study with the wider space, no ensemble, and the budget if any."""
    text = STUDY_FILE.read_text()
    text = re.sub(r"\[search_space\]\n(?:[^\[\n].*\n|\n)*", SPACE, text)
    text = re.sub(r"\[ensemble\]\n(?:[^\[\n].*\n|\n)*", "[ensemble]\nsize = 0\n\n", text)
    if max_params is not None:
        text += f"max_params = {max_params}\n"
    return text


def run(folder: Path, max_params: int | None, budget: float):  # noqa: ANN201 - optuna.Study
    from search.config.study_file import load_config
    from search.storage.database import load_study, open_storage

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / STUDY_FILE.name
    path.write_text(study_text(max_params))
    wall, result = common.timed_command(
        ["-m", "search", "run", str(path), "--timeout", str(budget), "--quiet"]
    )
    if result.returncode != 0:
        sys.exit(f"lenet-search run failed:\n{result.stderr}")
    config = load_config(path)
    study = load_study(open_storage(config.study.storage, create=False), config.study.name)
    return config, study, wall


def test_correct(config, trial, data) -> np.ndarray:  # noqa: ANN001
    """Whether the trial's saved model is right, image by image, on the test split."""
    from search.engine.training import float32_lenet
    from search.storage import records
    from search.storage.artifacts import load_trial_model, open_artifact_store
    from search.storage.records import trial_params

    store = open_artifact_store(config.study.artifacts, create=False)
    model = float32_lenet(
        load_trial_model(store, trial.user_attrs[records.ARTIFACT_ID]), trial_params(trial)
    )
    predicted = model.predict(data.x_test, batch_size=1024, verbose=0).argmax(axis=1)
    return predicted == data.y_test


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=900, help="seconds each (900)")
    parser.add_argument("--max-params", type=int, default=50000, help="the budget (50000)")
    parser.add_argument("--keep", type=Path, help="keep the studies in DIR/budget/ and DIR/none/")
    args = parser.parse_args()
    from optuna.trial import TrialState

    from search.data.loading import load_dataset
    from search.runtime.tensorflow import start_tensorflow
    from search.storage import records

    print(f"machine: {common.machine()}; flags: {common.cpu_flags()}")
    print(f"budget {args.budget:.0f} s each; max_params = {args.max_params:,}")
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        constrained = run(root / "budget", args.max_params, args.budget)
        unconstrained = run(root / "none", None, args.budget)
        start_tensorflow()
        data = load_dataset(constrained[0].data)
        n_val, n_test = len(data.y_val), len(data.y_test)

        def size(trial) -> int:  # noqa: ANN001
            return trial.user_attrs[records.PARAM_COUNT]

        def describe(label: str, config, study, wall: float) -> None:  # noqa: ANN001
            states = [t.state for t in study.trials]
            over = sum(records.OVER_BUDGET in t.user_attrs for t in study.trials)
            print(
                f"{label}: {wall:.0f} s, {len(states)} trials ({states.count(TrialState.COMPLETE)}"
                f" complete, {states.count(TrialState.PRUNED) - over} pruned, {over} over budget,"
                f" not trained)"
            )

        describe("(a) max_params", *constrained)
        describe("(b) no budget", *unconstrained)
        complete = unconstrained[1].get_trials(states=(TrialState.COMPLETE,))
        within = [t for t in complete if size(t) <= args.max_params]
        chosen = {
            "(a) best within the budget": (constrained[0], constrained[1].best_trial),
            "(b) best": (unconstrained[0], unconstrained[1].best_trial),
        }
        if within:
            best_within = max(within, key=lambda t: (t.value, -t.number))
            chosen["(b) best <= max_params"] = (unconstrained[0], best_within)
        else:
            print(f"(b) has no complete trial of at most {args.max_params:,} parameters")
        correct = {}
        for label, (config, trial) in chosen.items():
            correct[label] = test_correct(config, trial, data)
            print(
                f"{label}: trial {trial.number} {trial.params}, {size(trial):,} parameters; "
                f"validation {common.accuracy_text(trial.value, n_val)}; "
                f"test {common.accuracy_text(float(correct[label].mean()), n_test)}"
            )
        ours = correct["(a) best within the budget"]
        for label in list(chosen)[1:]:
            mean, low, high = paired_difference(ours, correct[label])
            print(
                f"(a) minus {label[4:]} on the same test images: {mean * 100:+.2f} points "
                f"(paired 95% CI {low * 100:+.2f} to {high * 100:+.2f})"
            )


if __name__ == "__main__":
    main()
