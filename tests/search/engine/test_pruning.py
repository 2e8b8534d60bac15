"""The study file's pruner, as Optuna gets it, and the median pruner that knows the noise."""

import optuna
import pytest

from search.config.settings import PrunerSettings
from search.engine.pruning import NoiseAwareMedianPruner, make_pruner, noise_gap, warmup_epochs
from search.storage import records


@pytest.mark.parametrize(
    ("settings", "kind", "attributes"),
    [
        (
            PrunerSettings("median", n_startup_trials=4, n_warmup_steps=2, noise_margin=1.0),
            NoiseAwareMedianPruner,
            {"_n_warmup_steps": 2, "_margin": 1.0},
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


def test_the_median_pruners_start_up_trials_reach_optuna() -> None:
    pruner = make_pruner(PrunerSettings("median", n_startup_trials=4), max_epochs=12)
    assert pruner._median._n_startup_trials == 4


@pytest.mark.parametrize(
    ("train_images", "epochs"), [(54_000, 1), (5_000, 1), (4_999, 2), (1_295, 4), (84, 60)]
)
def test_the_auto_warmup_lasts_until_a_trial_has_seen_5000_images(train_images, epochs) -> None:
    assert warmup_epochs(train_images) == epochs


def test_the_noise_gap_is_the_one_sided_wilson_bound() -> None:
    # 95% of 143 images (one image is 0.7 points): the bound is 91.08%, 5.6 images below.
    assert noise_gap(0.95, 143, 1.645) == pytest.approx(0.0392, abs=1e-4)
    assert noise_gap(0.88, 6_000, 1.645) == pytest.approx(0.0071, abs=1e-4)
    assert noise_gap(1.0, 30, 1.645) == pytest.approx(0.0827, abs=1e-3)  # not 0 at 100%
    assert noise_gap(0.95, 143, 0.0) == 0.0


def _study(validation: int, margin: float, warmup: int | None = 1, folds: int = 1) -> optuna.Study:
    """Three trials complete at 90% after epoch 1, on ``validation`` images (with ``folds``:
    on the 1,000 training images, out of fold)."""
    study = optuna.create_study(
        direction="maximize",
        pruner=NoiseAwareMedianPruner(n_startup_trials=3, n_warmup_steps=warmup, margin=margin),
    )
    sizes = {"train": 1_000, "validation": validation, "test": 1}
    records.set_study_record(study, records.DATA, {"sizes": sizes, "folds": folds})
    for _ in range(3):
        trial = study.ask()
        trial.report(0.9, 1)
        study.tell(trial, 0.9)
    return study


def _pruned_after_one_epoch(study: optuna.Study, value: float) -> bool:
    trial = study.ask()
    trial.report(value, 1)
    return trial.should_prune()


def test_a_prune_within_the_validation_noise_is_refused() -> None:
    # 200 images: one image fewer than the median is 0.5 points; the noise gap 4.0.
    study = _study(validation=200, margin=1.645)
    assert not _pruned_after_one_epoch(study, 0.895)
    assert not _pruned_after_one_epoch(study, 0.87)
    assert _pruned_after_one_epoch(study, 0.85)


def test_with_folds_the_noise_is_that_of_every_training_image() -> None:
    # 1,000 images judged out of fold: the noise gap is 1.6 points, not 4.0.
    assert _pruned_after_one_epoch(_study(validation=200, margin=1.645, folds=5), 0.87)


def test_a_margin_of_zero_prunes_as_optunas_median_pruner_does() -> None:
    study = _study(validation=200, margin=0.0)
    assert _pruned_after_one_epoch(study, 0.895)
    assert not _pruned_after_one_epoch(study, 0.9)


def test_on_many_validation_images_a_gap_of_a_point_prunes() -> None:
    assert _pruned_after_one_epoch(_study(validation=6_000, margin=1.645), 0.89)


def test_the_auto_warmup_keeps_a_trial_on_1000_training_images_for_five_epochs() -> None:
    study = _study(validation=200, margin=0.0, warmup=None)
    assert not _pruned_after_one_epoch(study, 0.5)
    assert study.pruner.warmup(study) == 5
