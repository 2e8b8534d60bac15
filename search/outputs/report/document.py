"""One self-contained HTML page about a study: what it searched, how, and how well the best did.

The page needs no network: plotly.js is embedded once, the pictures are data: URLs and the
fonts are the reader's own. It reads the storage, and the artifact store only for the best
trial's stored test predictions; nothing here imports TensorFlow, and the test split is only
shown, never used to choose anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna

from search.config.record import flatten
from search.errors import StorageError
from search.outputs.report.ensemble import ensemble_section, student_section
from search.outputs.report.held_out import test_section
from search.outputs.report.page import TARGET_NAME, Page, esc
from search.outputs.report.plots import (
    history_section,
    importances_section,
    learning_curves_section,
    parallel_section,
    size_section,
)
from search.outputs.tables import repeat_summary
from search.outputs.text import format_params, safe_name
from search.space.ranges import describe, from_toml
from search.storage import records
from search.storage.database import display_url
from search.storage.location import ArtifactLocation
from search.storage.records import TrialRecord, trial_records
from search.storage.trials import best_trial, tally

REPORT_FILE = "report.html"


def default_output(study_name: str, folder: Path) -> Path:
    """``<folder>/<study name>_report``, with characters unsafe in a file name replaced.

    The CLI's ``folder`` is the study file's: the report lands beside the database and
    artifacts the study file makes (``.gitignore`` covers ``studies/*_report/``).
    """
    return folder / (safe_name(study_name) + "_report")


@dataclass(frozen=True)
class ReportSummary:
    """What ``write_report`` wrote."""

    path: Path
    plots: int  # plotly figures on the page
    wrong_shown: int  # images in the gallery of wrong test predictions


def write_report(
    study: optuna.Study,
    output: Path,
    *,
    storage_url: str,
    artifacts: ArtifactLocation | None,
) -> ReportSummary:
    """Write ``output/report.html`` about ``study``.

    Args:
        study: the study to describe.
        output: the folder to write into (made if missing; an older report there is replaced).
        storage_url: where the study is, shown without its password.
        artifacts: the study's artifact store, for the stored test predictions; a store that is
            missing or unreadable only leaves those out, saying why.

    Raises:
        StorageError: ``output`` cannot be written.
    """
    page = Page()
    records_ = trial_records(study)
    page.section("Study", _summary(study, storage_url))
    page.section("Optimization history", history_section(page, records_))
    page.section("Learning curves", learning_curves_section(page, records_))
    page.section("Parameter importances", importances_section(page, study, records_))
    page.section("Parallel coordinates", parallel_section(page, study, records_))
    page.section("Accuracy against model size", size_section(page, records_))
    page.section("Best model on the test split", test_section(page, study, artifacts))
    page.section("Ensemble of the best trials", ensemble_section(study))
    page.section("Student distilled from the ensemble", student_section(study))
    page.section("Trials", _trials_table(records_))
    text = page.render(f"lenet-search report: {study.study_name}")
    path = output / REPORT_FILE
    try:
        output.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{REPORT_FILE}.partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)  # a reader never sees half a page
    except OSError as e:
        raise StorageError(f"cannot write the report to {path}: {e.strerror or e}") from None
    return ReportSummary(path, page.plots, page.images)


def _summary(study: optuna.Study, storage_url: str) -> str:
    counted = tally(study)
    rows = [
        ("study", study.study_name),
        ("storage", display_url(storage_url)),
        ("trials", f"{counted.total} ({counted.by_state() or 'none'})"),
    ]
    best = best_trial(study)
    if best is not None:
        record = TrialRecord.of(best)
        rows.append(
            (
                "best trial",
                f"trial {best.number}: {TARGET_NAME} {best.value:.4f} "
                f"(epoch {record.best_epoch}), {format_params(record.params)}",
            )
        )
        repeat = records.stored_repeat(study, best.number)  # `best --repeat`
        if repeat is not None:
            rows.append(("best trial, other seeds", repeat_summary(repeat)))
    data = records.study_record(study, records.DATA)
    if data:
        sizes = data.get("sizes", {})
        rows += [
            ("dataset", str(data.get("dataset"))),
            ("classes", ", ".join(map(str, data.get("class_names", [])))),
            ("input shape", " x ".join(map(str, data.get("input_shape", [])))),
            ("images", ", ".join(f"{n:,} {split}" for split, n in sizes.items())),
        ]
        fingerprint = data.get("fingerprint") or {}
        if "digest" in fingerprint:
            files = len(fingerprint.get("files", {}))
            rows.append(("data fingerprint", f"{fingerprint['digest'][:16]}... ({files} files)"))
    else:
        rows.append(("data", "not recorded (a study made by another program?)"))
    body = _table(rows)
    settings = records.study_record(study, records.SETTINGS)
    if settings:
        flat = flatten(settings, keep=lambda value: from_toml(value) is not None)
        body += "<h3>Settings, as the study file gave them</h3>" + _table(flat.items())
    changes = records.study_record(study, records.SETTINGS_CHANGES) or []
    if any(changes):
        items = "".join(
            f"<li>resume {i + 1}: {esc('; '.join(c))}</li>" for i, c in enumerate(changes) if c
        )
        body += f"<h3>Settings changed when resumed</h3><ul>{items}</ul>"
    return body


def _trials_table(trials: list[TrialRecord]) -> str:
    if not trials:
        return "<p>No trials yet.</p>"
    names = sorted({name for t in trials for name in t.sampled})
    head = ["trial", "state", *names, TARGET_NAME, "epochs run", "best epoch", "parameters"]
    head += ["MFLOPs", "seconds", "warm start from"]
    rows = []
    for t in trials:
        cells = [t.number, t.state.lower(), *(t.sampled.get(name) for name in names)]
        cells += [t.value if t.state == "COMPLETE" else None, t.epochs_run, t.best_epoch]
        cells += [t.param_count]
        cells += [None if t.flops is None else t.flops / 1e6, t.seconds, t.warm_start_from]
        rows.append("".join(f"<td>{esc(_cell(c))}</td>" for c in cells))
    header = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join(f"<tr>{row}</tr>" for row in rows)
    return (
        f"<details><summary>{len(trials)} trials</summary>"
        f'<table class="trials"><tr>{header}</tr>{body}</table></details>'
    )


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _table(rows: Any) -> str:
    cells = "".join(f"<tr><th>{esc(k)}</th><td>{esc(_show(v))}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def _show(value: Any) -> str:
    param = from_toml(value)
    if param is not None:
        return describe(param)
    return value if isinstance(value, str) else json.dumps(value)
