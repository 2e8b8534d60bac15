"""What optuna-dashboard shows of a study lenet-search ran: the real server, read over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from optuna_dashboard import get_note, save_note

from search import records
from search.artifacts import open_artifact_store
from search.config import load_config
from search.data import load_dataset
from search.study import create_or_resume_study
from search.trial_pictures import CONFUSION_FILE, CURVES_FILE
from tests.conftest import write_study
from tests.postgres import free_port

ROOT = Path(__file__).parents[2]
PNG = b"\x89PNG\r\n\x1a\n"


@contextmanager
def dashboard(study_file: Path) -> Iterator[str]:
    """`lenet-search dashboard` in a process of its own; yields its base URL once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "search", "dashboard", str(study_file), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/meta").close()
                break
            except OSError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def get(url: str) -> bytes:
    with urllib.request.urlopen(url) as response:
        assert response.status == 200
        return response.read()


@pytest.mark.slow
def test_dashboard_serves_the_study(finished_study: Path) -> None:
    with dashboard(finished_study / "tiny.toml") as base:
        studies = json.loads(get(f"{base}/api/studies"))["study_summaries"]
        assert [s["study_name"] for s in studies] == ["tiny"]
        assert b"<html" in get(f"{base}/dashboard/").lower()

        study_id = studies[0]["study_id"]
        study = json.loads(get(f"{base}/api/studies/{study_id}"))
        assert study["objective_names"] == ["val_accuracy"]
        note = study["note"]["body"]
        assert "**val_accuracy**" in note and "circle, horizontal, vertical" in note
        assert "| conv1_channels | 2 to 8 (log) |" in note and "**Pruner**: kind = none" in note

        states = {trial["state"] for trial in study["trials"]}
        assert "Complete" in states
        for trial in study["trials"]:
            pictures = {
                a["filename"]: a for a in trial["artifacts"] if a["mimetype"] == "image/png"
            }
            if trial["state"] != "Complete":  # pruned and failed trials draw nothing
                assert pictures == {}
                continue
            assert set(pictures) == {CURVES_FILE, CONFUSION_FILE}
            for picture in pictures.values():
                url = f"{base}/artifacts/{study_id}/{trial['trial_id']}/{picture['artifact_id']}"
                assert get(url).startswith(PNG)


def test_the_study_note_follows_the_settings(tmp_path: Path, image_folder: Path) -> None:
    store = open_artifact_store(tmp_path / "artifacts", create=True)
    config = load_config(write_study(tmp_path))
    dataset = load_dataset(config.data)
    study = create_or_resume_study(config, dataset, store)
    assert study.metric_names == [records.METRIC_NAME]
    note = get_note(study)
    assert "### Data" in note and "- shapes: " in note and "| epochs | 1 to 3 |" in note
    assert study.user_attrs[records.DATA]["fingerprint"]["digest"] in note

    # A resume with the same settings keeps the note, even one edited in the dashboard...
    save_note(study, "my own words")
    assert get_note(create_or_resume_study(config, dataset, store)) == "my own words"
    # ... and changed settings rewrite it.
    changed = load_config(
        write_study(tmp_path, edits={"epochs = { low = 1, high = 3 }": "epochs = 2"})
    )
    study = create_or_resume_study(changed, dataset, store, allow_changes=True)
    assert "| epochs | 2 (fixed) |" in get_note(study)
