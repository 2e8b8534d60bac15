"""An ensemble of the study's own best trials: the mean of their class probabilities.

A study trains dozens of good models and keeps one; the mean of the softmax outputs of the few best
by validation accuracy is often more accurate than the best alone (measured: the README's
Benchmarks), but not when the runners-up are much weaker (a short study's). So, on the validation
split alone: of the ``size`` best trials, the mean of the first k, for the k whose mean scores best
there, cross-fitted (``cross_fitted``); k = 1 (the best alone) means no ensemble. Under a size
budget only as many of the best as fit in it, summed, are considered. Members are weighted alike,
each rebuilt in float32 with its saved weights. An ensemble is evaluated once on the test split per
set of members, at the end of `run` (the process that made the study, never a `worker`), and stored
on the study as the best trial's evaluation is; `export --ensemble` builds the very same model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import optuna

from search.config.settings import SizeBudget
from search.data.dataset import Dataset
from search.engine.evaluation import load_predictions, saved_model_id
from search.stats import accuracy, loss_and_accuracy, paired_difference
from search.storage import records
from search.storage.artifacts import ArtifactStore, load_trial_model
from search.storage.records import (
    EnsembleChoice,
    EnsembleEvaluation,
    store_ensemble_choice,
    store_ensemble_evaluation,
    stored_ensemble_choice,
    stored_ensemble_evaluation,
    stored_test_evaluation,
    trial_params,
)
from search.storage.trials import ensemble_members

BATCH_SIZE = 1024
HALVINGS = 20  # random halvings of the validation split for ``cross_fitted``, each used both ways


def evaluate_ensemble_on_test(
    study: optuna.Study,
    dataset: Dataset,
    store: ArtifactStore,
    size: int,
    budget: SizeBudget = SizeBudget(),
) -> EnsembleEvaluation | None:
    """Choose the study's ensemble on validation and, if its members are new, evaluate it on the
    test split; both are stored. None when ``size`` is 0, fewer than 2 trials completed, or the
    best trial alone scored best on validation.

    Call it after ``evaluate_best_on_test``: the paired difference is taken against the best
    trial's stored test predictions.
    """
    ranked = ensemble_members(study, size) if size >= 2 else []
    considered = within_budget(study, ranked, budget)
    if len(considered) < 2:
        return None
    left_out = ranked[len(considered)] if len(considered) < len(ranked) else None
    networks: dict[int, Any] = {}
    choice = stored_ensemble_choice(study)
    # None yet, or one stored before k was cross-fitted: choose again.
    stale = choice is None or choice.cross_fitted is None
    if stale or (choice.size, choice.considered, choice.left_out) != (size, considered, left_out):
        networks = _networks(study, store, considered)
        probabilities = [
            networks[number].predict(dataset.x_val, batch_size=BATCH_SIZE, verbose=0)
            for number in considered
        ]
        choice = choose(size, considered, probabilities, dataset.y_val, left_out)
    store_ensemble_choice(study, choice)
    if len(choice.members) < 2:
        return None
    evaluation = stored_ensemble_evaluation(study, choice.members)
    if evaluation is None:
        networks = networks or _networks(study, store, choice.members)
        model = ensemble_model(study, store, choice.members, networks)
        evaluation = _evaluate(study, dataset, store, model, choice)
    store_ensemble_evaluation(study, evaluation)
    return evaluation


def within_budget(study: optuna.Study, ranked: list[int], budget: SizeBudget) -> list[int]:
    """The first of the ``ranked`` trials whose sizes, summed, are within the size budget: an
    ensemble is one model, and a budget is for the model a user exports."""
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    kept: list[int] = []
    params = flops = 0
    for number in ranked:
        params += trials[number].user_attrs.get(records.PARAM_COUNT, 0)
        flops += trials[number].user_attrs.get(records.FLOPS, 0)
        if budget.excess(params, flops) is not None:
            break
        kept.append(number)
    return kept


def ensemble_model(
    study: optuna.Study,
    store: ArtifactStore,
    members: list[int],
    networks: dict[int, Any] | None = None,
) -> Any:
    """The ensemble of these trials as one compiled keras.Model, computing in float32;
    ``networks`` are members already loaded (``_networks``)."""
    from search.engine.training import averaged

    networks = networks or _networks(study, store, members)
    name = "ensemble_of_" + "_".join(map(str, members))
    return averaged([networks[number] for number in members], name)


def _networks(study: optuna.Study, store: ArtifactStore, numbers: list[int]) -> dict[int, Any]:
    """Each trial's saved model, rebuilt in float32 under a name of its own."""
    from search.engine.training import float32_lenet

    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    return {
        number: float32_lenet(
            load_trial_model(store, saved_model_id(trials[number])),
            trial_params(trials[number]),
            name=f"trial_{number}",
        )
        for number in numbers
    }


def choose(
    size: int,
    considered: list[int],
    val_probabilities: list[np.ndarray],
    y_val: np.ndarray,
    left_out: int | None = None,
) -> EnsembleChoice:
    """The choice among the means of the first k ``considered`` trials (``val_probabilities``:
    each one's softmax outputs on the validation split), by their cross-fitted validation
    accuracy; ``left_out``: the next best trial, which the size budget kept out."""
    probabilities = np.stack(val_probabilities)
    accuracies = [accuracy(mean.argmax(axis=1), y_val) for mean in _top_k_means(probabilities)]
    return EnsembleChoice(
        size, considered, accuracies, left_out, cross_fitted(probabilities, y_val)
    )


def cross_fitted(probabilities: np.ndarray, y: np.ndarray) -> list[float]:
    """The accuracy of the mean of the top k trials, for k = 1, 2, ..., judged on images that did
    not rank them: ranked on a random half of the validation split (``probabilities``: trials x
    images x classes) and scored on the other, both ways round, averaged over ``HALVINGS``
    halvings (seeded: the same study chooses the same k).

    Why: the study ranks its trials on the validation images, and the best one's lead there is
    partly its luck on them (the winner's curse). Judging k on the same images flatters the best
    trial, and so understates what more members add: on three 30-minute race studies the plain
    curve chose k = 8, 5 and 3 of 10, the cross-fitted one 10 each time, and the test split,
    which chooses nothing, rose to k = 10 in all three (README, benchmarks/ensemble_size.py)."""
    correct = probabilities.argmax(axis=2) == y
    n_images = correct.shape[1]
    random = np.random.default_rng(0)
    scores = []
    for _ in range(HALVINGS):
        order = random.permutation(n_images)
        halves = order[: n_images // 2], order[n_images // 2 :]
        for rank_on, judge_on in (halves, halves[::-1]):
            # Of equal ones, the study's order: a stable sort of the considered trials.
            ranked = np.argsort(-correct[:, rank_on].mean(axis=1), kind="stable")
            means = _top_k_means(probabilities[ranked][:, judge_on])
            scores.append((means.argmax(axis=2) == y[judge_on]).mean(axis=1))
    return [float(score) for score in np.mean(scores, axis=0)]


def _top_k_means(probabilities: np.ndarray) -> np.ndarray:
    """The mean of the first k of ``probabilities`` (trials x images x classes), for each k."""
    return np.cumsum(probabilities, axis=0) / np.arange(1, len(probabilities) + 1)[:, None, None]


def _evaluate(
    study: optuna.Study,
    dataset: Dataset,
    store: ArtifactStore,
    model: Any,
    choice: EnsembleChoice,
) -> EnsembleEvaluation:
    members = choice.members
    single = best_test_predictions(study, store, members[0], dataset)
    figures, _ = held_out_figures(model, dataset, single)
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}
    return EnsembleEvaluation(
        members=members,
        weights=[1 / len(members)] * len(members),
        size=choice.size,
        **figures,
        param_count=sum(trials[n].user_attrs.get(records.PARAM_COUNT, 0) for n in members),
        flops=sum(trials[n].user_attrs.get(records.FLOPS, 0) for n in members),
    )


def held_out_figures(
    model: Any, dataset: Dataset, single: np.ndarray
) -> tuple[dict[str, Any], np.ndarray]:
    """A model's validation and test loss and accuracy, and its test accuracy minus that of the
    model whose predicted test classes are ``single`` (the best trial), with the paired 95%
    interval: the fields an ensemble's or a student's evaluation records. Also its test
    probabilities."""
    val_probabilities = model.predict(dataset.x_val, batch_size=BATCH_SIZE, verbose=0)
    val_loss, val_accuracy = loss_and_accuracy(val_probabilities, dataset.y_val)
    probabilities = model.predict(dataset.x_test, batch_size=BATCH_SIZE, verbose=0)
    test_loss, test_accuracy = loss_and_accuracy(probabilities, dataset.y_test)
    correct = probabilities.argmax(axis=1) == dataset.y_test
    difference = paired_difference(correct, single == dataset.y_test)
    figures = {
        "val_accuracy": val_accuracy,
        "val_loss": val_loss,
        "n_val": len(dataset.y_val),
        "test_accuracy": test_accuracy,
        "test_loss": test_loss,
        "n_test": len(dataset.y_test),
        "single_test_accuracy": accuracy(single, dataset.y_test),
        "difference": difference[0],
        "difference_low": difference[1],
        "difference_high": difference[2],
    }
    return figures, probabilities


def best_test_predictions(
    study: optuna.Study, store: ArtifactStore, number: int, dataset: Dataset
) -> np.ndarray:
    """Trial ``number``'s predicted test classes: those its one evaluation stored, if it did
    (the best trial's was)."""
    evaluation = stored_test_evaluation(study, number)
    if evaluation is not None and evaluation.predictions_id is not None:
        return load_predictions(store, evaluation.predictions_id).y_pred
    trial = next(t for t in study.get_trials(deepcopy=False) if t.number == number)
    model = load_trial_model(store, saved_model_id(trial))
    return model.predict(dataset.x_test, batch_size=BATCH_SIZE, verbose=0).argmax(axis=1)
