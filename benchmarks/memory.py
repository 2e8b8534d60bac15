"""Does a worker's memory stay flat over a long study? RSS per worker at its trial 1 and 50.

    .venv/bin/python benchmarks/memory.py                          # as shipped: replaced after 20
    .venv/bin/python benchmarks/memory.py --trials-per-worker 1000 # each worker kept for good

Each trial records its worker process's resident memory when it ends (``worker_rss_mb``); a
long study of short trials (a 3,000-image Fashion-MNIST subset, one epoch, varied widths)
shows whether it grows from trial to trial, per process and for the study as a whole.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import common
import optuna

from search.storage import records

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
trials_per_worker = {per_worker}

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
    parser.add_argument(
        "--trials-per-worker",
        type=int,
        default=20,
        help="[run] trials_per_worker (20, as shipped; 1000 to keep each worker for good)",
    )
    args = parser.parse_args()
    print(f"machine: {common.machine()}; trials_per_worker = {args.trials_per_worker}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "memory.toml"
        path.write_text(STUDY.format(n=args.trials, per_worker=args.trials_per_worker))
        wall, result = common.timed_command(["-m", "search", "run", str(path), "--quiet"])
        if result.returncode != 0:
            sys.exit(f"lenet-search run failed:\n{result.stderr}")
        study = optuna.load_study(study_name="memory", storage=f"sqlite:///{tmp}/memory.db")
    by_worker: dict[str, list[float]] = {}
    for trial in study.trials:
        attrs = trial.user_attrs
        by_worker.setdefault(attrs[records.WORKER], []).append(attrs[records.WORKER_RSS_MB])
    print(f"{args.trials} trials in {wall:.0f} s, {len(by_worker)} worker processes")
    for worker, rss in by_worker.items():
        at_50 = f"{rss[49]:.0f} MB" if len(rss) >= 50 else "(fewer than 50 trials)"
        growth = (rss[-1] - rss[min(9, len(rss) - 1)]) / max(len(rss) - 10, 1)
        print(
            f"  worker {worker}: {len(rss)} trials; RSS at trial 1 {rss[0]:.0f} MB, "
            f"trial 10 {rss[min(9, len(rss) - 1)]:.0f} MB, trial 50 {at_50}, "
            f"last {rss[-1]:.0f} MB; {growth:+.2f} MB a trial after the 10th"
        )

    ordered = sorted(study.trials, key=lambda t: t.datetime_complete)
    rss = [t.user_attrs[records.WORKER_RSS_MB] for t in ordered]
    print(
        f"  any process, in the order trials ended: trial 1-10 at most {max(rss[:10]):.0f} MB, "
        f"trials 41-50 {max(rss[40:50]):.0f} MB, the last 10 {max(rss[-10:]):.0f} MB"
    )


if __name__ == "__main__":
    main()
