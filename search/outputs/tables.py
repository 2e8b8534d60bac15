"""Readable and scriptable text of a study: the trials table, the best trial, the run's summary.

``trials`` and ``best`` print a table for people (at most 100 columns wide) or CSV and JSON for
scripts; all of them read the same ``TrialRecord``s. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict
from typing import Any

import optuna
import pandas as pd

from search.config.record import flatten
from search.data.record import judged_images
from search.outputs.text import format_params, format_size, format_value
from search.space.hyperparameters import HYPERPARAMETERS, worth_showing
from search.stats import wilson_interval
from search.storage import records
from search.storage.records import (
    EnsembleEvaluation,
    Repeat,
    StudentEvaluation,
    TrialRecord,
    stored_repeat,
    stored_test_evaluation,
    trial_records,
    trial_summary,
)
from search.storage.trials import (
    LatestEnsemble,
    best_trial,
    current_student,
    latest_ensemble,
    tally,
)

TABLE_WIDTH = 100
MIN_NOTE_WIDTH = 24  # below this, notes get lines of their own


def sorted_records(records: list[TrialRecord], sort: str = "number") -> list[TrialRecord]:
    """By number; by validation accuracy, best first; or by seconds, longest first."""
    if sort == "value":
        # COMPLETE trials by value, then the pruned by their last value, then the rest.
        order = {"COMPLETE": 0, "PRUNED": 1}
        return sorted(records, key=lambda r: (order.get(r.state, 2), -(r.value or 0), r.number))
    if sort == "seconds":
        return sorted(records, key=lambda r: (r.seconds is None, -(r.seconds or 0), r.number))
    return sorted(records, key=lambda r: r.number)


def shown_hyperparameters(records: list[TrialRecord]) -> list[str]:
    """Hyperparameters some trial searched or trained away from the tutorial's value."""
    worth = {name for r in records for name in worth_showing(r.params, r.sampled)}
    return [hp.name for hp in HYPERPARAMETERS if hp.name in worth]


def trials_output(study: optuna.Study, fmt: str = "table", sort: str = "number") -> str:
    records = sorted_records(trial_records(study), sort)
    best = best_trial(study)
    best_number = best.number if best is not None else None
    if fmt == "json":
        rows = [{**_json_record(r), "best": r.number == best_number} for r in records]
        return json.dumps(rows, indent=2)
    if fmt == "csv":
        return _flat_frame(records, best_number).to_csv(index=False).rstrip("\n")
    if not records:
        return f'study "{study.study_name}" has no trials yet'
    return trials_table(records, best_number) + "\n" + tally(study).summary()


def _json_record(record: TrialRecord) -> dict[str, Any]:
    fields = dict(record.__dict__)
    fields["curve"] = {str(epoch): value for epoch, value in record.curve.items()}
    return fields


def _flat_frame(records: list[TrialRecord], best_number: int | None) -> pd.DataFrame:
    """One row per trial, one column per hyperparameter: for pandas and spreadsheets."""
    names = shown_hyperparameters(records)
    rows = []
    for r in records:
        row: dict[str, Any] = {
            "number": r.number,
            "state": r.state,
            "best": r.number == best_number,
        }
        row.update({name: r.params.get(name) for name in names})
        row.update(
            value=r.value,
            best_epoch=r.best_epoch,
            epochs_run=r.epochs_run,
            param_count=r.param_count,
            flops=r.flops,
            seconds=r.seconds,
            fail_reason=r.fail_reason,
            retry_of=r.retry_of,
            over_budget=r.over_budget,
            warm_start_from=r.warm_start_from,
        )
        rows.append(row)
    columns = ["number", "state", "best", *names, "value", "best_epoch", "epochs_run"]
    columns += ["param_count", "flops", "seconds", "fail_reason", "retry_of", "over_budget"]
    columns += ["warm_start_from"]
    frame = pd.DataFrame(rows, columns=columns)
    counts = ["best_epoch", "epochs_run", "param_count", "flops", "retry_of"]
    return frame.astype({name: "Int64" for name in counts})  # integers, blank where missing


def trials_table(records: list[TrialRecord], best_number: int | None) -> str:
    """Trials as aligned text, the best marked ``*``; the last column says how each ended."""
    names = shown_hyperparameters(records)
    labels = [hp.label for hp in HYPERPARAMETERS if hp.name in names]
    header = ["trial", "state", *labels, "val_acc", "epoch", "params", "sec"]
    rows = [_row(r, names, r.number == best_number) for r in records]
    widths = [max(len(header[i]), *(len(row[i]) for row in rows)) for i in range(len(header))]
    gap = "  " if sum(widths) + 2 * len(widths) + MIN_NOTE_WIDTH <= TABLE_WIDTH else " "
    note_width = TABLE_WIDTH - sum(widths) - len(gap) * len(widths)
    # A note too long for its column (many hyperparameters shown, a long failure reason)
    # goes on a line of its own under its trial.
    notes_inline = note_width >= MIN_NOTE_WIDTH

    def line(cells: list[str], note: str) -> str:
        # Text left-aligned, numbers right-aligned, as people read them.
        parts = [
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        text = gap.join(parts)
        if notes_inline and len(note) <= note_width:
            return (text + gap + note).rstrip()
        return text.rstrip() + ("\n" + _clip(f"{' ' * 6}{note}", TABLE_WIDTH) if note else "")

    lines = [line(header, "note" if notes_inline else "")]
    lines += [line(row, _note(r)) for r, row in zip(records, rows, strict=True)]
    return "\n".join(lines)


def _row(record: TrialRecord, names: list[str], is_best: bool) -> list[str]:
    return [
        f"{'*' if is_best else ' '}{record.number}",
        record.state,
        *(format_value(record.params.get(name)) for name in names),
        f"{record.value:.4f}" if record.state == "COMPLETE" else "-",  # the note says the rest
        str(record.best_epoch) if record.state == "COMPLETE" and record.best_epoch else "-",
        format_size(record.param_count),
        f"{record.seconds:.0f}" if record.seconds is not None else "-",
    ]


def _note(record: TrialRecord) -> str:
    """How the trial ended, where the value column cannot say it."""
    last = record.curve.get(record.epochs_run) if record.epochs_run else None
    at = f" ({last:.4f})" if last is not None else ""
    if record.over_budget is not None:
        return f"not trained: {record.over_budget}"
    if record.state == "PRUNED":
        return f"pruned at epoch {record.epochs_run}{at}"
    if record.state == "FAIL":
        return f"failed: {record.fail_reason or 'no reason recorded'}"
    if record.state == "RUNNING":
        return f"running, epoch {record.epochs_run}{at}" if record.epochs_run else "running"
    if record.retry_of is not None:
        return f"retry of trial {record.retry_of}"
    if record.warm_start_from is not None:
        return f"warm start: {record.warm_start_from}"
    return ""


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def best_record(study: optuna.Study) -> dict[str, Any] | None:
    """The best trial as scripts read it; None before any trial completes."""
    best = best_trial(study)
    if best is None:
        return None
    repeat = stored_repeat(study, best.number)
    latest = latest_ensemble(study)
    ensemble = None
    if latest is not None:  # how it was chosen, its evaluation (None: the best alone won)
        evaluation = asdict(latest.evaluation) if latest.evaluation else None
        ensemble = {
            "chosen": asdict(latest.choice),
            **(evaluation or {}),
            "current": latest.current,
        }
    student = current_student(study)
    return {
        **trial_summary(study, best),
        "repeat_seeds": repeat.seeds if repeat else None,
        "repeat_val_accuracies": repeat.val_accuracies if repeat else None,
        "ensemble": ensemble,
        "student": {**asdict(student), "preferred": student.preferred} if student else None,
    }


def best_output(study: optuna.Study, fmt: str = "table") -> str | None:
    record = best_record(study)
    if record is None or fmt == "table":
        return best_report(study)
    if fmt == "json":
        return json.dumps(record, indent=2)
    flat = flatten({key: value for key, value in record.items() if key != "params"})
    flat = {**record["params"], **flat}  # ensemble.members, ensemble.test_accuracy, ...
    flat = {k: json.dumps(v) if isinstance(v, list) else v for k, v in flat.items()}
    buffer = io.StringIO()
    pd.DataFrame([flat]).to_csv(buffer, index=False)
    return buffer.getvalue().rstrip("\n")


def best_report(study: optuna.Study) -> str | None:
    """The best trial's parameters, validation and test accuracy; None before any completes."""
    best = best_trial(study)
    if best is None:
        return None
    record = TrialRecord.of(best)
    test = stored_test_evaluation(study, best.number)
    params = worth_showing(record.params, record.sampled)
    lines = [
        f'best trial of study "{study.study_name}": trial {best.number}',
        f"  params:              {format_params(params)}",
    ]
    data = records.study_record(study, records.DATA, {})
    judged = judged_images(data) if data else None
    folds = record.fold_accuracies
    if folds and judged:
        low, high = wilson_interval(round(best.value * judged), judged)
        lines += [
            f"  validation accuracy: {best.value:.4f} (epoch {record.best_epoch}; out of fold on "
            f"the {judged:,} training images, 95% CI {low:.4f} to {high:.4f})",
            f"  folds:               {' '.join(f'{value:.4f}' for value in folds)}",
        ]
        judged = None  # its interval is said
    else:
        lines.append(f"  validation accuracy: {best.value:.4f} (epoch {record.best_epoch})")
    lines += [f"  warning:             {warning}" for warning in thin_numbers(best.value, judged)]
    repeat = stored_repeat(study, best.number)
    if repeat is not None:
        lines.append(f"  with other seeds:    {repeat_summary(repeat)}")
    if test is not None:
        lines.append(f"  test accuracy:       {test.accuracy:.4f} (loss {test.loss:.4f})")
    else:
        lines.append("  test accuracy:       not evaluated yet (the next `run` evaluates it)")
    if record.param_count is not None:
        lines.append(f"  model size:          {_size_text(record.param_count, record.flops)}")
    latest = latest_ensemble(study)
    if latest is not None:
        lines += ensemble_lines(latest)
        lines += student_lines(study)
    return "\n".join(lines)


# Below this many validation images, one image moves the accuracy by more than 0.2 points and
# trials a few images apart cannot be told apart: worth a word.
THIN_VALIDATION = 500


def thin_numbers(value: float, n_val: int | None) -> list[str]:
    """What to say of a best validation value that a few images decided."""
    warnings = []
    if n_val is not None and n_val < THIN_VALIDATION:
        low, high = wilson_interval(round(value * n_val), n_val)
        warnings.append(
            f"only {n_val} validation images: one is {100 / n_val:.1f} points, and the 95% "
            f"interval of {value:.4f} is {low:.4f} to {high:.4f}; more images (or a larger "
            "validation_split, or [data] folds) tell trials apart"
        )
    if value >= 1:
        warnings.append(
            "100% on validation: the split no longer tells the best trials apart; give the "
            "study more validation images (a larger validation_split, more photos, [data] "
            "folds) or harder "
            "ones, never the test split: it only reports"
        )
    return warnings


def ensemble_lines(latest: LatestEnsemble) -> list[str]:
    """The ensemble's members, accuracies with their intervals, and its lead over the best."""
    choice, ensemble = latest.choice, latest.evaluation
    top = len(choice.val_accuracies)
    chosen = [
        f"    chosen on:         validation, the mean of the top 1 to {top}: "
        + " ".join(f"{accuracy:.4f}" for accuracy in choice.val_accuracies)
    ]
    if choice.cross_fitted is not None:
        chosen.append(
            "      cross-fitted:    "
            + " ".join(f"{accuracy:.4f}" for accuracy in choice.cross_fitted)
            + " (ranked on half the images, scored on the other: k is chosen by these)"
        )
    stale = "" if latest.current else "; better trials completed since: the next `run` updates it"
    if ensemble is None:
        return [f"  ensemble:            none: the best trial alone scored best{stale}", *chosen]
    members = ", ".join(map(str, ensemble.members))
    return [
        f"  ensemble:            the mean of trials {members} (the {len(ensemble.members)} best "
        f"by validation accuracy){stale}",
        *chosen,
        f"    validation:        {ensemble.val_accuracy:.4f}",
        *_test_lines(ensemble),
        f"    size:              {_size_text(ensemble.param_count, ensemble.flops)} in all",
    ]


def _test_lines(evaluated: EnsembleEvaluation | StudentEvaluation) -> list[str]:
    """An ensemble's or a student's one test evaluation, and its lead over the best trial."""
    low, high = wilson_interval(
        round(evaluated.test_accuracy * evaluated.n_test), evaluated.n_test
    )
    return [
        f"    test accuracy:     {evaluated.test_accuracy:.4f} (95% CI {low:.4f} to "
        f"{high:.4f}, loss {evaluated.test_loss:.4f})",
        f"    minus the best:    {evaluated.difference * 100:+.2f} points on the same test images "
        f"(paired 95% CI {evaluated.difference_low * 100:+.2f} to "
        f"{evaluated.difference_high * 100:+.2f})",
    ]


def student_lines(study: optuna.Study) -> list[str]:
    """The student distilled from the ensemble, its accuracies against the best trial's, and
    which of the two `export` takes; or why there is none."""
    student = current_student(study)
    if student is None:
        config = records.study_record(study, records.CONFIG, {})
        if not config.get("distill", {}).get("enabled", True):
            why = "[distill] enabled = false"
        elif (latest := latest_ensemble(study)) is None or latest.evaluation is None:
            why = "a student learns from the study's ensemble, and it has none"
        else:
            why = "the next `run` (or `lenet-search ensemble`) distills it"
        return [f"  student:             none: {why}"]
    taken = "the student" if student.preferred else f"trial {student.trial}"
    return [
        f"  student:             trial {student.trial}'s network distilled from the ensemble "
        f"(temperature {student.temperature:g}, soft weight {student.soft_weight:g}, "
        f"epoch {student.best_epoch} of {student.params['epochs']})",
        f"    validation:        {student.val_accuracy:.4f} (trial {student.trial}: "
        f"{student.single_val_accuracy:.4f}): `export` takes {taken}",
        *_test_lines(student),
        f"    size:              {_size_text(student.param_count, student.flops)}",
    ]


def _size_text(param_count: int, flops: int | None) -> str:
    return f"{param_count:,} parameters, {(flops or 0) / 1e6:.2f} MFLOPs/image"


def repeat_summary(repeat: Repeat) -> str:
    """Mean ± standard deviation of the retrained validation accuracies, and how many."""
    values = pd.Series(repeat.val_accuracies, dtype=float)
    spread = f" ± {values.std():.4f}" if len(values) > 1 else ""
    return f"{values.mean():.4f}{spread} validation accuracy over {len(values)} seeds"


def run_summary(study: optuna.Study, wall_seconds: float) -> str:
    best = best_report(study)
    lines = [best if best is not None else f'study "{study.study_name}": no trial completed']
    lines.append(f"  trials:              {tally(study).summary()}")
    lines.append(f"  wall time:           {wall_seconds:.0f}s")
    return "\n".join(lines)
