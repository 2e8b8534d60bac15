"""Does a worker's memory stay flat over a long study? RSS per worker at its trial 1 and 50.

    .venv/bin/python benchmarks/memory.py                # 110 short trials, --workers auto

Each trial records its worker process's resident memory when it ends (``worker_rss_mb``); a
long study of short trials (a 3,000-image Fashion-MNIST subset, one epoch, varied widths)
shows whether it grows from trial to trial.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import common
import optuna

STUDY = """\
[study]
name = "memory"
n_trials = {n}
seed = 0

[data]
dataset = "fashion_mnist"
train_samples = 3000

[training]
batch_size = 64

[run]
workers = "auto"

[pruner]
kind = "none"

[search_space]
conv1_channels = {{ low = 8, high = 64, log = true }}
conv2_channels = {{ low = 16, high = 128, log = true }}
dense_units = {{ low = 16, high = 256, log = true }}
dropout_dense = {{ low = 0.0, high = 0.5 }}
epochs = 1
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=110, help="trials in the study (110)")
    args = parser.parse_args()
    print(f"machine: {common.machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "memory.toml"
        path.write_text(STUDY.format(n=args.trials))
        wall, result = common.timed_command(["-m", "search", "run", str(path), "--quiet"])
        if result.returncode != 0:
            sys.exit(f"lenet-search run failed:\n{result.stderr}")
        study = optuna.load_study(study_name="memory", storage=f"sqlite:///{tmp}/memory.db")
    by_worker: dict[str, list[float]] = {}
    for trial in study.trials:
        attrs = trial.user_attrs
        by_worker.setdefault(attrs["worker"], []).append(attrs["worker_rss_mb"])
    print(f"{args.trials} trials in {wall:.0f} s, {len(by_worker)} workers")
    for worker, rss in by_worker.items():
        at_50 = f"{rss[49]:.0f} MB" if len(rss) >= 50 else "(fewer than 50 trials)"
        growth = (rss[-1] - rss[min(9, len(rss) - 1)]) / max(len(rss) - 10, 1)
        print(
            f"  worker {worker}: {len(rss)} trials; RSS at trial 1 {rss[0]:.0f} MB, "
            f"trial 10 {rss[min(9, len(rss) - 1)]:.0f} MB, trial 50 {at_50}, "
            f"last {rss[-1]:.0f} MB; {growth:+.2f} MB a trial after the 10th"
        )


if __name__ == "__main__":
    main()
