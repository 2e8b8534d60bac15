"""Where a trial's seconds go: TensorFlow's start, data, training, validation, saving, pictures.

    .venv/bin/python benchmarks/trial_seconds.py

Times TensorFlow's import and the loading of Fashion-MNIST in a fresh process (each worker pays
them once), then runs 4 trials of ``studies/fashion_mnist.toml`` (3 epochs each, no pruning,
``--workers auto``) and splits each trial's duration, as the storage records it, into training,
validation after each epoch, saving the model, the dashboard's pictures (learning curves and
confusion matrix, drawn and uploaded), and the rest (building the model, sampling, and Optuna's
reads and writes).
"""

from __future__ import annotations

import re
import sqlite3
import sys
import tempfile
from pathlib import Path

import common

STARTUP = """
import time
t = time.perf_counter()
from search.runtime.tensorflow import start_tensorflow
start_tensorflow(threads=1)
t_tf = time.perf_counter() - t
from search.config.settings import DataSettings
from search.data.loading import load_dataset
t = time.perf_counter()
load_dataset(DataSettings("fashion_mnist", validation_split=0.1))
print(t_tf, time.perf_counter() - t)
"""


def main() -> None:
    print(f"machine: {common.machine()}")
    _, result = common.timed_command(["-c", STARTUP])
    tf_seconds, data_seconds = (float(v) for v in result.stdout.split())
    print(f"once per worker: TensorFlow start {tf_seconds:.1f} s, data {data_seconds:.1f} s")

    text = (common.ROOT / "studies" / "fashion_mnist.toml").read_text()
    text = text.replace("[study]\n", "[study]\nn_trials = 4\n", 1)  # the shipped one has none
    text = re.sub(r"\[pruner\]\n(?:[^\[\n].*\n|\n)*", '[pruner]\nkind = "none"\n\n', text)
    text = re.sub(r"epochs = \{[^}]*\}", "epochs = 3", text)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fashion_mnist.toml"
        path.write_text(text)
        wall, result = common.timed_command(["-m", "search", "run", str(path), "--quiet"])
        if result.returncode != 0:
            sys.exit(result.stderr)
        with sqlite3.connect(Path(tmp) / "fashion_mnist.db") as db:
            trials = db.execute(
                "SELECT trial_id, number, (julianday(datetime_complete) - "
                "julianday(datetime_start)) * 86400 FROM trials ORDER BY number"
            ).fetchall()
            attrs = dict.fromkeys(t[0] for t in trials)
            for trial_id in attrs:
                attrs[trial_id] = dict(
                    db.execute(
                        "SELECT key, value_json FROM trial_user_attributes WHERE trial_id = ?",
                        (trial_id,),
                    ).fetchall()
                )
    print(f"4 trials of 3 epochs in {wall:.0f} s (whole command)")
    print(
        "trial  size          total   train  validation  saving  pictures       "
        "rest (build, Optuna I/O)"
    )
    for trial_id, number, total in trials:
        a = attrs[trial_id]
        keys = ("train_seconds", "validation_seconds", "save_seconds", "plot_seconds")
        train, val, save, plot = (float(a[k]) for k in keys)
        rest = total - train - val - save - plot
        size = f"{int(a['param_count']):,} p"
        print(
            f"{number:5d}  {size:12s} {total:6.1f}  {train:6.1f}  {val:10.1f}  {save:6.2f}  "
            f"{plot:5.2f} ({plot / total:.1%})  {rest:5.2f} ({rest / total:.1%})"
        )


if __name__ == "__main__":
    main()
