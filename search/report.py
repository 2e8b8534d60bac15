"""Readable text of a study: the trials table, the best trial and the end-of-run summary.

Reads the storage only; nothing here imports TensorFlow.
"""

from __future__ import annotations

import optuna
import pandas as pd
from optuna.trial import TrialState

from search.evaluation import TestEvaluation, stored_test_evaluation
from search.hyperparameters import HYPERPARAMETERS, worth_showing
from search.progress import format_params
from search.trials import best_trial, trial_params


def trials_frame(study: optuna.Study) -> pd.DataFrame:
    """One row per trial: number, state, parameters, value, epochs run, size, duration.

    A hyperparameter has a column when some trial searched it or trained with a value other
    than the tutorial's.
    """
    trials = study.get_trials(deepcopy=False)
    params = [trial_params(trial) for trial in trials]
    worth = {n for t, p in zip(trials, params, strict=True) for n in worth_showing(p, t.params)}
    shown = [hp for hp in HYPERPARAMETERS if hp.name in worth]
    rows = []
    for trial, hyper in zip(trials, params, strict=True):
        row = {"trial": trial.number, "state": trial.state.name}
        for hp in shown:
            row[hp.label] = hyper.get(hp.name)
        row["val_accuracy"] = trial.value
        row["epochs_run"] = trial.user_attrs.get("epochs_run")
        row["best_epoch"] = trial.user_attrs.get("best_epoch")
        row["params"] = trial.user_attrs.get("param_count")
        duration = trial.duration
        row["seconds"] = round(duration.total_seconds(), 1) if duration is not None else None
        rows.append(row)
    return pd.DataFrame(rows)


def trials_table(study: optuna.Study) -> str:
    frame = trials_frame(study)
    if frame.empty:
        return f'study "{study.study_name}" has no trials yet'
    text = frame.to_string(
        index=False,
        na_rep="-",
        formatters={
            "val_accuracy": lambda v: "-" if pd.isna(v) else f"{v:.4f}",
            "lr": lambda v: "-" if pd.isna(v) else f"{v:.3g}",
        },
        float_format=lambda v: f"{v:g}",
    )
    return text + "\n" + state_counts(study)


def state_counts(study: optuna.Study) -> str:
    trials = study.get_trials(deepcopy=False)
    counts = {state: sum(t.state == state for t in trials) for state in TrialState}
    shown = [f"{n} {state.name.lower()}" for state, n in counts.items() if n]
    return f"{len(trials)} trials: " + ", ".join(shown) if trials else "0 trials"


def best_report(study: optuna.Study, test: TestEvaluation | None = None) -> str | None:
    """The best trial's parameters, validation and test accuracy; None before any completes."""
    best = best_trial(study)
    if best is None:
        return None
    test = test or stored_test_evaluation(study, best.number)
    params = worth_showing(trial_params(best), best.params)
    lines = [
        f'best trial of study "{study.study_name}": trial {best.number}',
        f"  params:              {format_params(params)}",
        f"  validation accuracy: {best.value:.4f} (epoch {best.user_attrs.get('best_epoch')})",
    ]
    if test is not None:
        lines.append(f"  test accuracy:       {test.accuracy:.4f} (loss {test.loss:.4f})")
    else:
        lines.append("  test accuracy:       not evaluated yet (the next `run` evaluates it)")
    size = best.user_attrs.get("param_count")
    if size is not None:
        flops = best.user_attrs.get("flops", 0)
        lines.append(f"  model size:          {size:,} parameters, {flops / 1e6:.2f} MFLOPs/image")
    return "\n".join(lines)


def run_summary(study: optuna.Study, test: TestEvaluation | None, wall_seconds: float) -> str:
    best = best_report(study, test)
    lines = [best if best is not None else f'study "{study.study_name}": no trial completed']
    lines.append(f"  trials:              {state_counts(study)}")
    lines.append(f"  wall time:           {wall_seconds:.0f}s")
    return "\n".join(lines)
