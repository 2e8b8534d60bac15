"""A size budget the search respects: configurations over ``[search_space] max_params`` or
``max_mflops`` are never trained, and the sampler learns where they are.

A LeNet's size is known before it trains (``models.count_params``, ``forward_flops``), so a
trial over the budget is pruned at once (``engine.objective``), its size and the reason
recorded. Every trial also gets its size against the budget as constraints
(``SizeBudget.overruns`` to ``Trial.set_constraint``, which TPE reads: an infeasible trial
counts among the worst), so that TPE samples inside the budget rather than again and again
over it. Every COMPLETE trial is then within the budget, so best, export and report mean
"best within the budget"; an ensemble's members, summed, are kept within it too
(``engine.ensemble.within_budget``). Here: the check, before anything trains, that the space
can meet the budget at all.
"""

from __future__ import annotations

from models import LeNetArchitecture, count_params, forward_flops
from search.config.settings import StudyConfig
from search.data.dataset import Dataset
from search.data.folds import networks_kept
from search.errors import ConfigError
from search.space.hyperparameters import architecture
from search.space.ranges import Choices, Fixed, FloatRange, IntRange, Param


def smallest_network(
    space: dict[str, Param], input_shape: tuple[int, int, int], n_classes: int
) -> LeNetArchitecture:
    """The smallest network of the search space: a LeNet grows with each of its widths, and
    with batch normalization (1 against 0)."""
    return architecture(
        {name: _least(param) for name, param in space.items()}, input_shape, n_classes
    )


def check_budget(config: StudyConfig, dataset: Dataset) -> None:
    """Refuse, before anything trains, a budget that no configuration of the space meets
    (with folds, a trial keeps one network per fold, and the budget counts them all).

    Raises:
        ConfigError: even the smallest network is over the budget.
    """
    smallest = smallest_network(config.search_space, dataset.input_shape, len(dataset.class_names))
    networks = networks_kept(config.data, dataset)
    excess = config.budget.excess(
        networks * count_params(smallest), networks * forward_flops(smallest)
    )
    if excess is not None:
        widths = (
            f"conv1 {smallest.conv1_channels}, conv2 {smallest.conv2_channels}, "
            f"dense {smallest.dense_units}"
        )
        kept = f", kept once for each of the {networks} folds," if networks > 1 else ""
        where = f"{config.path}: " if config.path is not None else ""
        raise ConfigError(
            f"{where}[search_space] no configuration is within the size budget: the smallest "
            f"network of the search space ({widths}){kept} has {excess}"
        )


def _least(param: Param) -> int | float | str:
    if isinstance(param, IntRange | FloatRange):
        return param.low
    if isinstance(param, Choices):
        return min(param.choices)
    assert isinstance(param, Fixed)
    return param.value
