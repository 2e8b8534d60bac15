"""Pruners from the study file. Steps are epochs: step 1 is the accuracy after the first epoch."""

from __future__ import annotations

import optuna

from search.config.settings import PrunerSettings


def make_pruner(settings: PrunerSettings, max_epochs: int) -> optuna.pruners.BasePruner:
    """The configured pruner; ``max_epochs`` is Hyperband's largest budget."""
    if settings.kind == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=settings.n_startup_trials, n_warmup_steps=settings.n_warmup_steps
        )
    if settings.kind == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=settings.min_resource, reduction_factor=settings.reduction_factor
        )
    if settings.kind == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=settings.min_resource,
            max_resource=max(max_epochs, settings.min_resource),
            reduction_factor=settings.reduction_factor,
        )
    return optuna.pruners.NopPruner()
