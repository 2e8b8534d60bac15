"""The search space in Optuna's terms: what a real trial samples, and its distributions."""

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from search.space.ranges import Choices, Fixed, FloatRange, IntRange
from search.space.suggest import distributions, suggest, trial_seed

SPACE = {
    "conv1_channels": IntRange(2, 64, log=True),
    "dense_units": Choices((16, 32)),
    "learning_rate": FloatRange(1e-4, 1e-2, log=True),
    "epochs": Fixed(3),
}


def test_a_trial_samples_each_range_and_keeps_fixed_values_out_of_its_params() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    values = suggest(trial, SPACE)
    assert set(values) == set(SPACE) and values["epochs"] == 3
    assert set(trial.params) == {"conv1_channels", "dense_units", "learning_rate"}
    assert 2 <= values["conv1_channels"] <= 64 and values["dense_units"] in (16, 32)
    assert 1e-4 <= values["learning_rate"] <= 1e-2
    assert trial.distributions == distributions(SPACE)


def test_distributions_are_optunas_for_the_searched_names_only() -> None:
    assert distributions(SPACE) == {
        "conv1_channels": IntDistribution(2, 64, log=True),
        "dense_units": CategoricalDistribution([16, 32]),
        "learning_rate": FloatDistribution(1e-4, 1e-2, log=True),
    }


def test_a_trials_seed_depends_on_the_study_seed_and_its_number_alone() -> None:
    assert trial_seed(0, 5) == trial_seed(0, 5) == 5
    assert len({trial_seed(seed, number) for seed in range(3) for number in range(3)}) == 9
    assert 0 <= trial_seed(2**32 - 1, 10**6) < 2**31


def test_a_choice_of_names_is_suggested_and_stored_as_a_name() -> None:
    space = {"lr_schedule": Choices(("constant", "one_cycle")), "shift": Fixed(2)}
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(6):
        trial = study.ask()
        values = suggest(trial, space)
        assert values["lr_schedule"] in ("constant", "one_cycle") and values["shift"] == 2
        study.tell(trial, 0.5)
    assert distributions(space) == {
        "lr_schedule": CategoricalDistribution(["constant", "one_cycle"])
    }
    assert {t.params["lr_schedule"] for t in study.trials} == {"constant", "one_cycle"}
