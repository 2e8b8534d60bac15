"""The study file's pruner, as Optuna gets it."""

import optuna
import pytest

from search.config.settings import PrunerSettings
from search.engine.pruning import make_pruner


@pytest.mark.parametrize(
    ("settings", "kind", "attributes"),
    [
        (
            PrunerSettings("median", n_startup_trials=4, n_warmup_steps=2),
            optuna.pruners.MedianPruner,
            {"_n_startup_trials": 4, "_n_warmup_steps": 2},
        ),
        (
            PrunerSettings("successive_halving", min_resource=2, reduction_factor=4),
            optuna.pruners.SuccessiveHalvingPruner,
            {"_min_resource": 2, "_reduction_factor": 4},
        ),
        (
            PrunerSettings("hyperband", min_resource=1, reduction_factor=3),
            optuna.pruners.HyperbandPruner,
            {"_min_resource": 1, "_max_resource": 12, "_reduction_factor": 3},
        ),
        (PrunerSettings("none"), optuna.pruners.NopPruner, {}),
    ],
)
def test_study_file_pruner_settings_reach_optuna(settings, kind, attributes) -> None:
    pruner = make_pruner(settings, max_epochs=12)
    assert type(pruner) is kind
    assert {name: getattr(pruner, name) for name in attributes} == attributes
