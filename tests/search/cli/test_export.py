"""`export` never touches a folder of the user's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import run_here


def test_export_never_touches_a_partial_folder_of_the_users(
    finished_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    mine = tmp_path / "out.partial"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    result = run_here(
        capsys, "export", str(finished_study / "tiny.toml"), "--output", str(tmp_path / "out")
    )
    assert result.returncode == 0, result.stderr
    assert (mine / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out.partial"]


def test_keras_and_litert_exports_go_to_folders_of_their_own_with_the_users_modes(
    finished_study: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    study_file = str(finished_study / "tiny.toml")
    monkeypatch.chdir(tmp_path)
    # umask 022, as most users have: an export folder is then 0755, as mkdir would make it.
    users_umask = os.umask(0o022)
    try:
        for extra in ([], ["--format", "litert"]):
            result = run_here(capsys, "export", study_file, *extra)
            assert result.returncode == 0, result.stderr
    finally:
        os.umask(users_umask)
    exported = tmp_path / "exported"
    assert sorted(p.name for p in exported.iterdir()) == ["tiny", "tiny-litert"]
    assert (exported / "tiny" / "model.keras").is_file()
    assert (exported / "tiny-litert" / "model.tflite").is_file()
    assert {oct(p.stat().st_mode & 0o777) for p in exported.iterdir()} == {"0o755"}
