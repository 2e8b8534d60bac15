"""A size budget: never trained over it, TPE told where it is, refused when nothing fits."""

from pathlib import Path

import pytest
from optuna.trial import TrialState

from models import count_params
from search.config.settings import SizeBudget
from search.config.study_file import load_config
from search.data.loading import load_dataset
from search.engine.budget import check_budget, smallest_network
from search.engine.runner import run_study
from search.errors import ConfigError
from search.outputs.tables import trials_output
from search.storage import records
from search.storage.trials import tally
from tests.helpers import run_here, write_study

SPACE = {
    "conv1_channels": {"low": 2, "high": 8},
    "conv2_channels": {"low": 2, "high": 8},
    "dense_units": {"low": 4, "high": 16},
    "epochs": 1,
}


def test_the_smallest_network_takes_each_width_at_its_least(tmp_path: Path, image_folder) -> None:
    config = load_config(write_study(tmp_path, search_space=SPACE))
    smallest = smallest_network(config.search_space, (28, 28, 1), 3)
    assert (smallest.conv1_channels, smallest.conv2_channels, smallest.dense_units) == (2, 2, 4)
    assert count_params(smallest) == 277


def test_a_budget_nothing_meets_is_refused_naming_the_smallest(
    tmp_path: Path, image_folder, capsys: pytest.CaptureFixture
) -> None:
    path = write_study(tmp_path, search_space={**SPACE, "max_params": 100})
    with pytest.raises(ConfigError) as error:
        config = load_config(path)
        check_budget(config, load_dataset(config.data))
    assert str(error.value) == (
        f"{path}: [search_space] no configuration is within the size budget: the smallest "
        "network of the search space (conv1 2, conv2 2, dense 4) has 277 parameters, over "
        "max_params = 100"
    )
    result = run_here(capsys, "run", str(path))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"Error: {error.value}\n"
    assert not (tmp_path / "tiny.db").exists()  # nothing was touched


def test_tpe_is_told_how_far_over_the_budget_a_trial_was() -> None:
    budget = SizeBudget(max_params=1000, max_mflops=0.5)
    # Over in parameters, within in FLOPs.
    assert budget.overruns(1500, 250_000) == {"max_params": 0.5, "max_mflops": -0.5}
    assert budget.excess(1500, 250_000) == "1,500 parameters, over max_params = 1,000"
    assert budget.excess(900, 600_000) == "0.6 MFLOPs, over max_mflops = 0.5"
    assert budget.excess(1000, 500_000) is None  # at the limit is within it
    assert SizeBudget().overruns(1500, 250_000) == {}


@pytest.mark.slow
def test_a_study_with_a_budget_trains_nothing_over_it(tmp_path: Path, image_folder) -> None:
    path = write_study(
        tmp_path,
        n_trials=12,
        search_space={**SPACE, "max_params": 1000},
        run={"trial_pictures": False},
    )
    config = load_config(path)
    study = run_study(config, load_dataset(config.data)).study
    trained = [t for t in study.trials if records.OVER_BUDGET not in t.user_attrs]
    rejected = [t for t in study.trials if records.OVER_BUDGET in t.user_attrs]
    assert rejected and trained  # the space straddles the budget
    for trial in trained:
        assert trial.state == TrialState.COMPLETE and trial.user_attrs["param_count"] <= 1000
    for trial in rejected:
        assert trial.state == TrialState.PRUNED and trial.intermediate_values == {}
        assert trial.user_attrs[records.OVER_BUDGET] == (
            f"{trial.user_attrs['param_count']:,} parameters, over max_params = 1,000"
        )
        assert "epochs_run" not in trial.user_attrs  # never trained
    for trial in study.trials:  # what TPE reads to sample inside the budget
        assert (trial.constraints["max_params"] > 0) == (trial in rejected)
    counted = tally(study)
    assert (counted.complete, counted.over_budget, counted.pruned) == (
        len(trained),
        len(rejected),
        0,
    )
    table = trials_output(study)
    assert (
        table.splitlines()[-1]
        == f"12 trials: {len(trained)} complete, {len(rejected)} over budget"
    )
    assert f"not trained: {rejected[0].user_attrs['param_count']:,} parameters" in table


def test_with_folds_the_budget_counts_a_network_per_fold(tmp_path: Path, image_folder) -> None:
    # 277 parameters fit 1,000; five of them, the fold models a trial keeps, do not.
    path = write_study(tmp_path, search_space={**SPACE, "max_params": 1000}, data={"folds": 5})
    config = load_config(path)
    with pytest.raises(ConfigError) as error:
        check_budget(config, load_dataset(config.data))
    assert str(error.value) == (
        f"{path}: [search_space] no configuration is within the size budget: the smallest "
        "network of the search space (conv1 2, conv2 2, dense 4), kept once for each of the 5 "
        "folds, has 1,385 parameters, over max_params = 1,000"
    )
