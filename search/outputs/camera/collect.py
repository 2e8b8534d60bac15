"""`collect`: photos of each class from the camera, into an image folder that a study names.

The page takes a burst of frames per press of a class's button; each frame is the middle
square of the picture, PHOTO_SIZE pixels a side (Teachable Machine's), saved as
``FOLDER/<class>/<n>.png`` next to any photos already there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from search.data.images import IMAGE_SUFFIXES
from search.errors import ConfigError
from search.outputs.camera.pages import page_html
from search.outputs.camera.server import BadRequest, CameraPage

BURST = 10  # frames per press of a button
INTERVAL_MS = 150  # between the frames of a burst: a hand moving a little gives other photos
PHOTO_SIZE = 224
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A class is a folder name: letters, digits, "_" and "-", as a study's classes are.
_CLASS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def parse_classes(text: str) -> list[str]:
    """``--classes rock,paper,scissors`` as names.

    Raises:
        ConfigError: fewer than two, a repeated one, or one that is not a plain folder name.
    """
    names = [name.strip() for name in text.split(",")]
    for name in names:
        if not _CLASS_NAME.fullmatch(name):
            raise ConfigError(
                f"--classes: {name!r} is not a class name; use letters, digits, _ and - "
                "(it is a folder's name), separated by commas: rock,paper,scissors"
            )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"--classes names {', '.join(repeated)} more than once")
    if len(names) < 2:
        raise ConfigError(f"--classes needs at least two classes, got {text!r}")
    return names


class Collector:
    """Saves the page's frames into ``folder/<class>/`` and counts the photos of each class."""

    def __init__(self, folder: Path, classes: list[str]) -> None:
        self.folder, self.classes = folder, classes

    def counts(self) -> dict[str, int]:
        """Photos of each class so far, those already in its folder included."""
        return {name: len(self._photos(name)) for name in self.classes}

    def save(self, name: str, png: bytes) -> Path:
        """``png`` as the next photo of class ``name``.

        Raises:
            BadRequest: an unknown class, or not a PNG.
        """
        if name not in self.classes:
            raise BadRequest(f"no class {name!r}; the classes: {', '.join(self.classes)}")
        if not png.startswith(PNG_SIGNATURE):
            raise BadRequest("a frame must be a PNG image")
        folder = self.folder / name
        folder.mkdir(parents=True, exist_ok=True)
        number = len(self._photos(name)) + 1
        while (path := folder / f"{number:05d}.png").exists():
            number += 1
        path.write_bytes(png)
        return path

    def answer(self, path: str, body: bytes) -> dict[str, Any]:
        """The page's post of a frame, ``/capture/<class>``: saved; the counts."""
        prefix = "/capture/"
        if not path.startswith(prefix):
            raise BadRequest(f"nothing to post at {path}")
        saved = self.save(unquote(path[len(prefix) :]), body)
        return {"saved": str(saved), "counts": self.counts()}

    def page(self, next_steps: str) -> CameraPage:
        def html() -> str:
            settings = {
                "folder": str(self.folder),
                "classes": self.classes,
                "counts": self.counts(),
                "burst": BURST,
                "interval_ms": INTERVAL_MS,
                "size": PHOTO_SIZE,
                "next": next_steps,
            }
            return page_html("collect", settings)

        return CameraPage(html, self.answer)

    def _photos(self, name: str) -> list[Path]:
        folder = self.folder / name
        if not folder.is_dir():
            return []
        return [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]


def study_file_text(folder: Path) -> str:
    """The study file of the photos in ``folder``, to write beside it: the README's hands study
    (a test holds the two the same)."""
    name = json.dumps(folder.name)  # a TOML string, quoted and escaped as JSON's are
    return f"""\
[study]
name = {name}
timeout = 900              # 15 minutes

[data]
dataset = {name}          # the folder above, beside this file
image_size = 28            # the tutorial's 224x224 photos shrunk to 28x28
color_mode = "grayscale"
test_split = 0.2           # a fifth of the photos, to measure the best model once

[search_space]
conv1_channels = {{ low = 8, high = 32, log = true }}
conv2_channels = {{ low = 16, high = 64, log = true }}
dense_units = {{ low = 16, high = 128, log = true }}
epochs = {{ low = 5, high = 20 }}
max_params = 100000        # small enough for a phone
"""
