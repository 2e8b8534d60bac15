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
from tests.helpers import ROOT, command
from tests.postgres import free_port

PNG = b"\x89PNG\r\n\x1a\n"


@contextmanager
def dashboard(study_file: Path, *flags: str, stderr: list | None = None) -> Iterator[str]:
    """`lenet-search dashboard` in a process of its own; yields its base URL once it answers.
    What it printed on stderr is appended to ``stderr`` once it stops."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "search",
            "dashboard",
            str(study_file),
            "--port",
            str(port),
            *flags,
        ],
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
        _, err = process.communicate(timeout=30)
        if stderr is not None:
            stderr.append(err)


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
        # Its user attributes are short values a person reads; the records are elsewhere.
        shown = {a["key"]: a["value"] for a in study["user_attrs"]}
        assert set(shown) == {"uid", "artifact_dir", "dataset"}
        assert shown["dataset"] == (
            "shapes: 33 train, 12 validation, 15 test images of 28x28x1, 3 classes"
        )
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


@pytest.mark.slow
def test_a_host_other_than_loopback_is_warned_of(finished_study: Path) -> None:
    printed: list[str] = []
    with dashboard(finished_study / "tiny.toml", "--host", "0.0.0.0", stderr=printed) as base:
        assert b"<html" in get(f"{base}/dashboard/").lower()
    port = base.rsplit(":", 1)[1]
    assert printed[0].splitlines()[0] == (
        f"Warning: --host 0.0.0.0: optuna-dashboard has no login; anyone who reaches port "
        f"{port} can read the study, download every trial's model and edit notes and trials (see "
        "the README's Dashboard section to put a login in front)"
    )


def test_a_busy_port_is_one_error_line_and_nothing_else(finished_study: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = command("dashboard", str(finished_study / "tiny.toml"), "--port", str(port))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"Error: cannot serve on 127.0.0.1:{port} (Address already in use); pick another --port\n"
    )
