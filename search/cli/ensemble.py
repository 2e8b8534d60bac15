"""`ensemble`: the study's ensemble of its best trials, made and evaluated now as `run` does."""

from __future__ import annotations

import argparse

from search.cli.common import (
    Command,
    add_study_target,
    open_study,
    recorded_config,
    required_artifacts,
)
from search.errors import ConfigError, LenetSearchError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_study_target(parser, artifacts=True)
    parser.add_argument(
        "--size",
        type=int,
        metavar="K",
        help="the K best trials by validation accuracy (default: [ensemble] size, 5)",
    )


def handle(args: argparse.Namespace) -> int:
    from search.data.loading import load_dataset
    from search.data.record import require_same_data
    from search.engine.distill import distill_student
    from search.engine.ensemble import evaluate_ensemble_on_test
    from search.engine.evaluation import evaluate_best_on_test
    from search.outputs.tables import best_report
    from search.runtime.tensorflow import start_tensorflow
    from search.storage.artifacts import open_artifact_store
    from search.storage.trials import ensemble_members

    if args.size is not None and args.size < 2:
        raise ConfigError(f"--size must be an integer of at least 2, got {args.size}")
    target = open_study(args)
    config = recorded_config(target)
    size = config.ensemble.size if args.size is None else args.size
    study = target.study
    complete = len(ensemble_members(study, max(size, 2)))
    if size < 2 or complete < 2:
        why = "[ensemble] size = 0 turns it off" if size < 2 else f"it has {complete}"
        raise LenetSearchError(
            f'study "{study.study_name}" has no ensemble: it needs 2 complete trials or more '
            f"({why}); pass --size K"
        )
    store = open_artifact_store(required_artifacts(target), create=False)
    dataset = load_dataset(config.data)
    require_same_data(study, dataset, config.data, "its test accuracy would not be comparable")
    start_tensorflow()
    evaluate_best_on_test(study, dataset, store)  # as `run` does: the best, then the ensemble
    ensemble = evaluate_ensemble_on_test(study, dataset, store, size, config.budget)
    distill_student(study, dataset, store, ensemble, config.distill, config.study.seed)
    print(best_report(study))
    return 0


COMMAND = Command(
    "ensemble",
    "make and evaluate the study's ensemble of its best trials and its student (as `run` "
    "does at its end)",
    add_arguments,
    handle,
)
