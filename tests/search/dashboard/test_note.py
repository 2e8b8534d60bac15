"""The study note optuna-dashboard shows: written on creation, kept, rewritten on change."""

from __future__ import annotations

from pathlib import Path

from optuna_dashboard import get_note, save_note

from search.config.study_file import load_config
from search.data.loading import load_dataset
from search.engine.study import create_or_resume_study
from search.storage import records
from search.storage.artifacts import open_artifact_store
from tests.helpers import write_study


def test_the_study_note_follows_the_settings(tmp_path: Path, image_folder: Path) -> None:
    store = open_artifact_store(tmp_path / "artifacts", create=True)
    config = load_config(write_study(tmp_path))
    dataset = load_dataset(config.data)
    study = create_or_resume_study(config, dataset, store)
    assert study.metric_names == [records.METRIC_NAME]
    note = get_note(study)
    assert "### Data" in note and "- shapes: " in note and "| epochs | 1 to 3 |" in note
    assert records.study_record(study, records.DATA)["fingerprint"]["digest"] in note

    # A resume with the same settings keeps the note, even one edited in the dashboard...
    save_note(study, "my own words")
    assert get_note(create_or_resume_study(config, dataset, store)) == "my own words"
    # ... and changed settings rewrite it.
    changed = load_config(write_study(tmp_path, search_space={"epochs": 2}))
    study = create_or_resume_study(changed, dataset, store, allow_changes=True)
    assert "| epochs | 2 (fixed) |" in get_note(study)
