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

from search.dashboard.pictures import CONFUSION_FILE, CURVES_FILE
from tests.helpers import ROOT
from tests.postgres import free_port

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
        assert "| conv1_channels | 2 to 8, log scale |" in note
        assert "**Pruner**: kind = none" in note

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
