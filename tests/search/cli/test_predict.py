"""`predict` of a damaged export: one Error line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_here


def test_a_damaged_export_is_one_error_line(
    finished_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    output = tmp_path / "export"
    assert (
        run_here(
            capsys, "export", str(finished_study / "tiny.toml"), "--output", str(output)
        ).returncode
        == 0
    )
    model = output / "model.keras"
    model.write_bytes(model.read_bytes()[:2000])  # truncated
    image = next((finished_study / "shapes" / "circle").glob("*.png"))
    result = run_here(capsys, "predict", str(output), str(image))
    assert result.returncode == 2
    assert result.stderr.startswith(
        "Error: the exported model (model.keras) cannot be loaded, it may be damaged or "
        "truncated: "
    )
    assert result.stderr.count("\n") == 1
