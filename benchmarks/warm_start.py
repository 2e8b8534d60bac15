"""A study warm-started from an earlier one against the same study started cold.

    .venv/bin/python benchmarks/warm_start.py [--budget 600] [--from quickstart]
        [--study fashion_mnist] [--quick-look 10000]

Runs ``studies/<from>.toml`` as shipped (or, with ``--quick-look N``, the study itself on N
training images for 240 s: a first look in its own search space), then ``studies/<study>.toml``
twice with ``--budget`` seconds each, one after the other: cold, and with ``[study] warm_start``
naming the first. Prints what the warm start carried over (and left out), each study's best
validation accuracy, and the seconds each took to reach the cold study's best (the end of the
trial that first reached it, from the run's first trial start), or that it never did.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import common

from search.storage import records


def run(path: Path, budget: float | None) -> dict:
    """`run` of the study file ``path`` with ``--timeout budget`` (None: the file's own)."""
    timeout = [] if budget is None else ["--timeout", str(budget)]
    wall, result = common.timed_command(["-m", "search", "run", str(path), *timeout, "--quiet"])
    if result.returncode != 0:
        raise SystemExit(f"lenet-search run {path} failed:\n{result.stderr}")
    from search.config.study_file import load_config
    from search.storage.database import load_study, open_storage

    config = load_config(path)
    study = load_study(open_storage(config.study.storage, create=False), config.study.name)
    return {"wall": wall, "study": study}


def reached(study, target: float) -> float | None:  # noqa: ANN001 - an optuna.Study
    """Seconds from the first trial's start to the end of the first trial at ``target`` or more."""
    trials = [t for t in study.trials if t.datetime_start is not None]
    start = min(t.datetime_start for t in trials)
    done = [t for t in trials if t.state.name == "COMPLETE" and t.value >= target]
    if not done:
        return None
    return min((t.datetime_complete - start).total_seconds() for t in done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=600, help="seconds a study (600)")
    parser.add_argument("--from", dest="earlier", default="quickstart")
    parser.add_argument("--study", default="fashion_mnist")
    parser.add_argument(
        "--quick-look",
        type=int,
        metavar="N",
        help="start from the study itself on N training images for 240 s (its own search "
        "space, the way a first look is taken) rather than from --from",
    )
    args = parser.parse_args()

    print(f"machine: {common.machine()}; flags: {common.cpu_flags()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copy(common.ROOT / "studies" / f"{args.study}.toml", folder)
        text = (folder / f"{args.study}.toml").read_text()
        if args.quick_look:
            args.earlier = "quick_look"
            (folder / "quick_look.toml").write_text(
                text.replace(f'name = "{args.study}"', 'name = "quick_look"')
                .replace("timeout = 1800", "timeout = 240")
                .replace("[data]\n", f"[data]\ntrain_samples = {args.quick_look}\n")
            )
        else:
            shutil.copy(common.ROOT / "studies" / f"{args.earlier}.toml", folder)
        earlier = run(folder / f"{args.earlier}.toml", budget=None)
        print(f"{args.earlier}: {earlier['wall']:.0f} s, best {earlier['study'].best_value:.4f}")

        warm = folder / "warm.toml"
        warm.write_text(
            text.replace(
                f'name = "{args.study}"',
                f'name = "warm"\nwarm_start = "{args.earlier}.toml"',
            )
        )
        assert "warm_start" in warm.read_text(), "the study file has no name line to extend"
        outcomes = {
            "cold": run(folder / f"{args.study}.toml", args.budget),
            "warm": run(warm, args.budget),
        }

        carried = records.study_record(outcomes["warm"]["study"], records.WARM_START)
        left_out = "; ".join(carried["left_out"]) or "none"
        print(f"warm start: trials {carried['trials']} of {args.earlier}; left out: {left_out}")
        target = outcomes["cold"]["study"].best_value
        for name, got in outcomes.items():
            study = got["study"]
            seconds = reached(study, target)
            when = f"{seconds:.0f} s" if seconds is not None else "never"
            print(
                f"{name}: {got['wall']:.0f} s, {len(study.trials)} trials, best validation "
                f"{study.best_value:.4f}; reached the cold study's best ({target:.4f}): {when}",
                flush=True,
            )


if __name__ == "__main__":
    main()
