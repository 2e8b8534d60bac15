"""`collect` in a real browser: a fake camera, buttons pressed, photos written per class."""

from __future__ import annotations

import re
import signal
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from search.outputs.camera.collect import BURST, PHOTO_SIZE, study_file_text
from tests.browser import Browser, fake_camera_args, screenshot_folder, served_at, write_y4m
from tests.helpers import pattern, start
from tests.postgres import free_port


def test_the_page_uses_nothing_from_the_network_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    folder = tmp_path / "hands"
    process = start(
        *("collect", str(folder), "--classes", "rock,paper", "--port", str(free_port())),
        # Started as a shell's background job is: with Ctrl-C ignored, which Python keeps.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        html = urllib.request.urlopen(served_at(process)).read().decode()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert "camera.start()" in html and '"classes": ["rock", "paper"]' in html
    assert re.findall(r"(?:https?:)?//[a-z]", html) == []  # no script, style or font to fetch
    assert (process.returncode, err) == (0, "")
    assert out.splitlines()[-1] == f"{folder}: rock 0 photos, paper 0 photos"


@pytest.mark.slow
def test_each_button_takes_a_burst_of_photos_into_its_class_folder(tmp_path: Path) -> None:
    folder = tmp_path / "hands"
    # The camera shows a hand (a drawn circle) in the middle of its picture.
    frame = np.zeros((480, 640), np.uint8)
    frame[:, 80:560] = pattern("circle", (480, 480), np.random.default_rng(0))[..., 0]
    video = write_y4m(tmp_path / "rock.y4m", frame)
    process = start(
        "collect", str(folder), "--classes", "rock,paper,scissors", "--port", str(free_port())
    )
    try:
        url = served_at(process)
        with Browser(tmp_path / "profile", *fake_camera_args(video)) as browser:
            page = browser.open(url)
            page.wait_for("document.getElementById('status').dataset.camera === 'on'")
            page.click("button[data-class=rock]")
            page.wait_for(
                f"document.querySelector('button[data-class=rock]').dataset.count === '{BURST}'"
            )
            page.wait_for("!document.querySelector('button[data-class=paper]').disabled")
            page.click("button[data-class=paper]")
            page.wait_for(
                f"document.querySelector('button[data-class=paper]').dataset.count === '{BURST}'"
            )
            buttons = page.evaluate(
                "[...document.querySelectorAll('#classes button')].map(b => b.textContent)"
            )
            assert buttons == [f"rock ({BURST})", f"paper ({BURST})", "scissors (0)"]
            assert "lenet-search run " in page.evaluate(
                "document.getElementById('next').textContent"
            )
            assert page.errors() == []
            page.wait_for("!document.querySelector('button[data-class=paper]').disabled")
            shot = page.screenshot(screenshot_folder(tmp_path) / "collect.png")
            assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert (
        out.splitlines()[-1]
        == f"{folder}: rock {BURST} photos, paper {BURST} photos, scissors 0 photos"
    )
    photos = sorted((folder / "rock").iterdir())
    assert [p.name for p in photos] == [f"{n:05d}.png" for n in range(1, BURST + 1)]
    with Image.open(photos[0]) as photo:
        assert (photo.format, photo.size) == ("PNG", (PHOTO_SIZE, PHOTO_SIZE))
        # The middle square of the camera's picture: the circle, a ring of white on dark.
        pixels = np.asarray(photo.convert("L"), np.float32)
        assert pixels[112, 112] < 60 and pixels.max() > 200
    assert not (folder / "scissors").exists()
    # The study of the photos, written beside them: the next command runs it.
    assert (tmp_path / "hands.toml").read_text() == study_file_text(folder)
