"""The README's rock-paper-scissors recipe, run as a new user runs it, with drawn stand-ins.

    .venv/bin/python benchmarks/readme_game.py [--timeout 120]

Draws the tests' stand-ins for the gestures (a circle, a horizontal and a vertical bar, 40 of
each, as tests/helpers.py draws them) into hands/Rock, hands/Paper, hands/Scissors; writes
``hands.toml`` exactly as the README gives it (only ``timeout`` set to ``--timeout``); then runs
the README's three commands, ``run``, ``export`` and ``play`` with four larger photos at the
default ``--min-confidence``, and prints what they print.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

import common
import numpy as np

from tests.helpers import GESTURES, pattern


def readme_study_file() -> str:
    """The ``hands.toml`` block of the README."""
    readme = (common.ROOT / "README.md").read_text()
    found = re.search(r"`hands.toml`:\n\n\s*```toml\n(.*?)\n\s*```", readme, re.S)
    assert found is not None, "the README's hands.toml block moved"
    return "\n".join(line.strip() for line in found.group(1).splitlines()) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--timeout", type=int, default=120, help="the study's seconds (120)")
    args = parser.parse_args()
    from PIL import Image

    print(f"machine: {common.machine()}; flags: {common.cpu_flags()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rng = np.random.default_rng(0)
        for gesture, shape in GESTURES.items():
            (folder / "hands" / gesture).mkdir(parents=True)
            for n in range(40):
                image = pattern(shape, (36 + n % 3 * 8, 40 + n % 2 * 12), rng)
                Image.fromarray(image).save(folder / "hands" / gesture / f"{n}.png")
        photos = []
        for n, shape in enumerate(["vertical", "horizontal", "circle", "vertical"], start=1):
            photos.append(str(folder / f"me{n}.jpg"))
            Image.fromarray(pattern(shape, (240, 180), rng)).save(photos[-1])
        text = re.sub(r"timeout = \d+", f"timeout = {args.timeout}", readme_study_file())
        (folder / "hands.toml").write_text(text)
        for command in (
            ["run", "hands.toml", "--quiet"],
            ["export", "hands.toml"],
            ["play", "exported/hands", *photos, "--seed", "7"],
        ):
            wall, result = common.timed_command(["-m", "search", *command], cwd=folder)
            print(f"$ lenet-search {' '.join(command)}   # {wall:.0f} s, exit {result.returncode}")
            print((result.stdout + result.stderr).replace(tmp + "/", ""), end="")


if __name__ == "__main__":
    main()
