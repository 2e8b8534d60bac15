"""`play` end to end: an image folder of rock, paper and scissors the test draws, a study run
on it, its export, and rounds played against the computer."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.browser import Browser, fake_camera_args, screenshot_folder, served_at, write_y4m
from tests.helpers import GESTURES, error_of, pattern, run_here, start, write_study
from tests.postgres import free_port


@pytest.fixture(scope="module")
def rps_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("rps")
    rng = np.random.default_rng(0)
    for gesture, shape in GESTURES.items():
        (folder / "hands" / gesture).mkdir(parents=True)
        for n in range(20):
            Image.fromarray(pattern(shape, (36, 36), rng)).save(
                folder / "hands" / gesture / f"{n}.png"
            )
    study_file = write_study(
        folder,
        name="rps",
        data={"dataset": "hands"},
        search_space={"conv1_channels": 8, "conv2_channels": 8, "dense_units": 16, "epochs": 3},
    )
    from search.cli.main import main

    assert main(["run", str(study_file), "--quiet"]) == 0
    assert main(["export", str(study_file), "--output", str(folder / "export")]) == 0
    return folder / "export"


@pytest.mark.slow
def test_a_game_is_a_round_a_photo_with_the_score(
    rps_export: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    rng = np.random.default_rng(5)
    photos = []
    for gesture, shape in GESTURES.items():
        photo = tmp_path / f"{gesture.lower()}.jpg"
        Image.fromarray(pattern(shape, (120, 90), rng)).save(photo)  # a larger photo, say
        photos.append(str(photo))
    table = run_here(capsys, "play", str(rps_export), *photos, "--seed", "3")
    assert table.returncode == 0 and table.stderr == "", table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].startswith("round 1: the computer plays ")
    assert lines[-1].startswith("final score: you ")
    shown = run_here(capsys, "play", str(rps_export), *photos, "--seed", "3", "--format", "json")
    game = json.loads(shown.stdout)
    assert [r["photo"] for r in game["rounds"]] == photos
    for played, line in zip(game["rounds"], lines, strict=False):
        assert f"the computer plays {played['computer']};" in line
        if played["outcome"] != "replay":
            assert played["seen"] in ("rock", "paper", "scissors")
    counted = [r["outcome"] for r in game["rounds"] if r["outcome"] != "replay"]
    assert game["score"] == {
        "you": counted.count("win"),
        "computer": counted.count("lose"),
        "draws": counted.count("draw"),
    }
    # The same seed, the same moves; a hand the model is unsure of replays the round.
    again = json.loads(
        run_here(
            capsys, "play", str(rps_export), *photos, "--seed", "3", "--format", "json"
        ).stdout
    )
    assert [r["computer"] for r in again["rounds"]] == [r["computer"] for r in game["rounds"]]
    strict_run = run_here(
        capsys, "play", str(rps_export), *photos, "--seed", "3", "--format", "json",
        "--min-confidence", "1",
    )  # fmt: skip
    strict = json.loads(strict_run.stdout)
    for played in strict["rounds"]:
        assert (played["outcome"] == "replay") == (played["probability"] < 1)
    if all(played["outcome"] == "replay" for played in strict["rounds"]):  # none 100% sure
        assert strict_run.returncode == 1
        assert strict_run.stderr.startswith("Error: no round was played: the model was at most ")
        assert "sure at the median of its own validation images" in strict_run.stderr
    for before, after in zip(strict["rounds"], strict["rounds"][1:], strict=False):
        if before["outcome"] == "replay":  # the same round, against the same move
            assert (after["number"], after["computer"]) == (before["number"], before["computer"])


@pytest.mark.slow
def test_an_export_of_other_classes_cannot_play(
    finished_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    export = tmp_path / "shapes"
    exported = run_here(
        capsys, "export", str(finished_study / "tiny.toml"), "--output", str(export)
    )
    assert exported.returncode == 0
    photo = next((finished_study / "shapes" / "circle").glob("*.png"))
    result = run_here(capsys, "play", str(export), str(photo))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "Error: this export's classes are circle, horizontal, vertical; playing needs a model of "
        "exactly rock, paper and scissors (any case, any order)\n"
    )


@pytest.mark.slow
def test_play_at_the_camera_reads_the_hand_in_each_frame(rps_export: Path, tmp_path: Path) -> None:
    # The fake camera shows scissors (a vertical bar) in the middle square of its picture.
    frame = np.zeros((480, 640), np.uint8)
    frame[:, 80:560] = pattern("vertical", (480, 480), np.random.default_rng(1))[..., 0]
    video = write_y4m(tmp_path / "scissors.y4m", frame)
    process = start("play", str(rps_export), "--camera", "--seed", "3", "--port", str(free_port()))
    try:
        url = served_at(process)
        with Browser(tmp_path / "profile", *fake_camera_args(video)) as browser:
            page = browser.open(url)
            page.wait_for("document.getElementById('call').dataset.camera === 'on'")
            rounds = []
            for frames in (1, 2):
                page.wait_for("!document.getElementById('shoot').disabled")
                page.click("#shoot")
                page.wait_for(f"document.getElementById('score').dataset.frames === '{frames}'")
                rounds.append(page.evaluate("document.getElementById('round').textContent"))
            assert page.errors() == []
            shot = page.screenshot(screenshot_folder(tmp_path) / "play.png")
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    for text in rounds:
        assert re.fullmatch(
            r"round [12]: the computer plays (rock|paper|scissors); your hand shows scissors "
            r"\(\d+\.\d%\)",
            text,
        ), text
    assert out.splitlines()[-1].startswith("final score: you ")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((), "give photos of your hand, or --camera to play at the camera"),
        (("me.jpg", "--camera"), "give photos or --camera, not both"),
    ],
)
def test_play_takes_photos_or_the_camera(tmp_path: Path, capsys, args, error) -> None:
    assert error_of(capsys, "play", str(tmp_path), *args) == error
