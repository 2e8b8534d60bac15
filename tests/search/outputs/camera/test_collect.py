"""`collect`'s photos: saved per class beside those already there, counted, bad posts refused."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from search.errors import ConfigError
from search.outputs.camera.collect import Collector, parse_classes, study_file_text
from search.outputs.camera.server import BadRequest
from tests.helpers import ROOT


def png(value: int = 200) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_frames_are_numbered_after_the_photos_already_in_a_class_folder(tmp_path: Path) -> None:
    (tmp_path / "rock").mkdir()
    (tmp_path / "rock" / "IMG_0001.jpg").write_bytes(b"taken before")
    collector = Collector(tmp_path, ["rock", "paper"])
    assert collector.counts() == {"rock": 1, "paper": 0}
    answer = collector.answer("/capture/rock", png())
    assert answer == {
        "saved": str(tmp_path / "rock" / "00002.png"),
        "counts": {"rock": 2, "paper": 0},
    }
    collector.answer("/capture/paper", png(10))
    assert sorted(p.name for p in (tmp_path / "paper").iterdir()) == ["00001.png"]
    assert Image.open(tmp_path / "paper" / "00001.png").getpixel((0, 0)) == (10, 10, 10)


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        ("/capture/lizard", png(), "no class 'lizard'; the classes: rock, paper"),
        ("/capture/rock", b"GIF89a...", "a frame must be a PNG image"),
        ("/capture/../etc", png(), "no class '../etc'; the classes: rock, paper"),
        ("/round", png(), "nothing to post at /round"),
    ],
)
def test_a_bad_post_is_refused_and_nothing_is_written(tmp_path, path, body, error) -> None:
    collector = Collector(tmp_path / "hands", ["rock", "paper"])
    with pytest.raises(BadRequest) as raised:
        collector.answer(path, body)
    assert str(raised.value) == error
    assert not (tmp_path / "hands").exists()


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("rock", "--classes needs at least two classes, got 'rock'"),
        ("rock,rock,paper", "--classes names rock more than once"),
        (
            "rock,../paper",
            "--classes: '../paper' is not a class name; use letters, digits, _ and - (it is a "
            "folder's name), separated by commas: rock,paper,scissors",
        ),
        (
            "rock,,paper",
            "--classes: '' is not a class name; use letters, digits, _ and - (it is a "
            "folder's name), separated by commas: rock,paper,scissors",
        ),
    ],
)
def test_bad_classes_are_one_error(text: str, error: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_classes(text)
    assert str(raised.value) == error


def test_classes_keep_their_order_and_spaces_are_trimmed() -> None:
    assert parse_classes("rock, paper ,scissors") == ["rock", "paper", "scissors"]


def test_the_study_file_collect_writes_is_the_readmes_hands_study() -> None:
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"`hands.toml`:\n\n\s*```toml\n(.*?)\n\s*```", readme, re.S)
    assert found is not None, "the README's hands.toml block moved"
    block = "\n".join(line[3:] for line in found.group(1).splitlines()) + "\n"
    assert block == study_file_text(Path("somewhere/hands"))
