"""`export` never touches a folder of the user's."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import command


def test_export_never_touches_a_partial_folder_of_the_users(
    finished_study: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "out.partial"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    result = command(
        "export", str(finished_study / "tiny.toml"), "--output", str(tmp_path / "out")
    )
    assert result.returncode == 0, result.stderr
    assert (mine / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out.partial"]
