"""`play --camera`: rock-paper-scissors at the camera, each frame the page takes a round."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from search.outputs.camera.pages import page_html
from search.outputs.camera.server import BadRequest, CameraPage
from search.outputs.play import Game, moves_of
from search.outputs.predict import load_export_model, looks_inverted, prepare_image

FRAME_SIZE = 224  # the frame's side in pixels, as `collect` takes photos
BEAT_MS = 600  # between "rock...", "paper...", "scissors..." and "shoot!"


class CameraGame:
    """A game of rounds, the hand in each read from a camera frame by the export in
    ``export_dir`` (Keras or LiteRT, as `play` reads photos)."""

    def __init__(
        self, export_dir: Path, card: dict[str, Any], seed: int | None, min_confidence: float
    ) -> None:
        self.card = card
        self.moves = moves_of(card["class_names"])
        self.model = load_export_model(export_dir, card)
        self.game = Game(seed, min_confidence)

    def answer(self, path: str, body: bytes) -> dict[str, Any]:
        """The page's post of a frame, ``/round``: the round played, with the score."""
        if path != "/round":
            raise BadRequest(f"nothing to post at {path}")
        self.game.next_move()  # drawn before the frame is looked at
        image = _frame(body)
        x = prepare_image(image, self.card, looks_inverted(image, self.card))
        row = self.model.predict(x[np.newaxis], batch_size=1, verbose=0)[0]
        best = int(np.argmax(row))
        frame = f"frame {len(self.game.rounds) + 1}"
        return self.game.play(frame, self.moves[best], float(row[best])).to_dict()

    def page(self) -> CameraPage:
        settings = {
            "min_confidence": self.game.min_confidence,
            "size": FRAME_SIZE,
            "beat_ms": BEAT_MS,
        }
        html = page_html("play", settings)
        return CameraPage(lambda: html, self.answer)


def _frame(body: bytes) -> Any:
    """The posted PNG as a PIL image.

    Raises:
        BadRequest: it is not an image.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(body)) as opened:
            opened.load()
            return opened.copy()
    except (UnidentifiedImageError, OSError, ValueError):
        raise BadRequest("a frame must be a PNG image") from None
