"""Classify image files with an export, made to look like the images the model trained on.

Training images are uint8 pixels scaled to 0..1 (``data.dataset.scale``), of one size, their
item on the training data's background (Fashion-MNIST: light on black, filling the frame). A
photo is prepared the same way: its transparent parts composited onto that background, cropped
to its content (what differs from the background), fitted into the share of the frame the
training images' content takes with its aspect ratio kept, and padded with the background.

Which way round a photo is (a dark shoe on white paper, a light trouser on black) is decided
per image from its border with ``invert="auto"``: a photo whose border pixels (their median) are
nearer the inverse of the training background than the background itself is inverted (1 - x).
Asking the model which way it is surer of instead fails: measured on 200 Fashion-MNIST test
images, a model was surer of the wrong way for a third of the untouched originals, while the
border was right for every image of every kind ``tests/search/outputs/test_predict_photos.py``
makes, items cropped tight against the edges included. ``"yes"`` and ``"no"`` force the choice.
Every file is tried; one that cannot be read gets a reason instead of classes, and the others
are still classified.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from search.data.dataset import content_box, scale
from search.errors import DataError, ExportError
from search.outputs.export import CARD_FILE
from search.outputs.litert import LITERT_FILE
from search.storage.artifacts import MODEL_FILE, load_model_file

BATCH_SIZE = 256


class UnreadableImage(DataError):
    """An image file that cannot be read; ``reason`` says why in a few words."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"cannot read image {path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Prediction:
    """One file's most likely classes, or why it could not be read."""

    path: Path
    top: list[tuple[str, float]]  # (class name, probability), most likely first; [] if unread
    inverted: bool | None = None  # whether it was classified inverted; None if unread
    error: str | None = None  # why it could not be read: "not an image", "no such file", ...

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "path": str(self.path),
            "top": [{"class": name, "probability": p} for name, p in self.top],
            "inverted": self.inverted,
        }
        if self.error is not None:
            record["error"] = self.error
        return record


def read_model_card(folder: Path) -> dict[str, Any]:
    """The model card of the export in ``folder``.

    Raises:
        ExportError: ``folder`` holds no export, or its card is damaged or too old.
    """
    if not (folder / CARD_FILE).is_file():
        raise ExportError(
            f"no exported model in {folder} (expected {CARD_FILE} beside {MODEL_FILE} or "
            f"{LITERT_FILE}, which `lenet-search export` writes)"
        )
    try:
        card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ExportError(f"{folder / CARD_FILE} is not a valid model card: {e}") from None
    for key in ("input_shape", "class_names"):
        if not isinstance(card, dict) or not card.get(key):
            raise ExportError(
                f"{folder / CARD_FILE} has no {key}; export the study again with this version"
            )
    model_file = card.setdefault("model_file", MODEL_FILE)  # cards before LiteRT: Keras
    if not (folder / model_file).is_file():
        raise ExportError(f"no exported model in {folder}: its card names {model_file}, missing")
    return card


def load_export_model(folder: Path, card: dict[str, Any]) -> Any:
    """The export's model, Keras or LiteRT, with ``predict(x, batch_size, verbose)``.

    Raises:
        ExportError: a LiteRT export, and the LiteRT interpreter is not installed.
        StorageError: its Keras model cannot be loaded.
    """
    if card["model_file"] == LITERT_FILE:
        from search.outputs.litert import LiteRTModel, require_interpreter

        require_interpreter()
        return LiteRTModel(folder / LITERT_FILE)
    return load_model_file(folder / MODEL_FILE, "the exported model")


def predict_images(
    folder: Path, images: list[Path], top_k: int = 3, invert: str = "auto"
) -> list[Prediction]:
    """Classify image files with the export in ``folder``, one ``Prediction`` per file, in order.

    ``invert``: "auto" (each image inverted if its border says it is the other way round than
    the training images: ``looks_inverted``), "yes" or "no". A file that cannot be read gets
    ``error`` and no classes.

    Raises:
        ExportError: ``folder`` holds no export (or a LiteRT one, without the interpreter).
        StorageError: its model cannot be loaded.
    """
    card = read_model_card(folder)
    model = load_export_model(folder, card)
    predictions: list[Prediction | None] = []
    inputs: list[tuple[int, bool, np.ndarray]] = []  # (file, inverted, model input)
    for path in images:
        try:
            image = open_image(path)
        except UnreadableImage as e:
            predictions.append(Prediction(path, [], error=e.reason))
            continue
        inverted = looks_inverted(image, card) if invert == "auto" else invert == "yes"
        inputs.append((len(predictions), inverted, prepare_image(image, card, inverted)))
        predictions.append(None)
    if inputs:
        rows = model.predict(
            np.stack([array for _, _, array in inputs]), batch_size=BATCH_SIZE, verbose=0
        )
        names = card["class_names"]
        for (index, inverted, _), row in zip(inputs, rows, strict=True):
            order = np.argsort(row)[::-1][:top_k]
            top = [(names[i], float(row[i])) for i in order]
            predictions[index] = Prediction(images[index], top, inverted)
    return [p for p in predictions if p is not None]


def open_image(path: Path) -> Any:
    """The image file as a loaded PIL image, the way it is meant to be seen (EXIF rotation).

    Raises:
        UnreadableImage: the file is missing, not an image, truncated or damaged.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened)  # phone photos are often stored rotated
            image.load()
            return image
    except FileNotFoundError:
        raise UnreadableImage(path, "no such file") from None
    except IsADirectoryError:
        raise UnreadableImage(path, "a folder, not an image") from None
    except PermissionError:
        raise UnreadableImage(path, "permission denied") from None
    except UnidentifiedImageError:
        raise UnreadableImage(path, "not an image") from None
    except Image.DecompressionBombError:
        raise UnreadableImage(path, "too many pixels to decode safely") from None
    except (OSError, ValueError, SyntaxError, EOFError) as e:
        truncated = "truncated" in str(e).lower()
        raise UnreadableImage(path, "truncated" if truncated else f"damaged ({e})") from None


def looks_inverted(image: Any, card: dict[str, Any]) -> bool:
    """Whether the PIL image is the other way round than the training images: the median of
    its border pixels nearer ``1 - background`` than ``background`` (a tie is not inverted)."""
    _, _, channels = card["input_shape"]
    background = _background(card)
    flat = _flatten(image, "L" if channels == 1 else "RGB", tuple(_byte(v) for v in background))
    array = scale(np.asarray(flat).reshape(flat.height, flat.width, channels))
    border = np.concatenate([array[0], array[-1], array[1:-1, 0], array[1:-1, -1]])
    median = np.median(border, axis=0)
    return float(np.abs(median - (1 - background)).sum()) < float(
        np.abs(median - background).sum()
    )


def _background(card: dict[str, Any]) -> np.ndarray:
    """The training images' background per channel; black for cards without ``pixel_stats``."""
    channels = card["input_shape"][2]
    stats = card.get("pixel_stats") or {}
    return np.asarray(stats.get("background", [0.0] * channels), dtype=np.float32)


def prepare_image(image: Any, card: dict[str, Any], inverted: bool = False) -> np.ndarray:
    """A PIL image as the model's input (height, width, channels) in 0..1, one way round.

    Cards without ``pixel_stats`` (exports older than it) take a black background; without
    its ``content`` share, the content fills the frame.
    """
    from PIL import Image, ImageOps

    height, width, channels = card["input_shape"]
    background = _background(card)
    share = (card.get("pixel_stats") or {}).get("content", 1.0)
    # Transparent parts get the colour that becomes the training background once inverted.
    fill = 1 - background if inverted else background
    flat = _flatten(image, "L" if channels == 1 else "RGB", tuple(_byte(v) for v in fill))
    array = scale(np.asarray(flat).reshape(flat.height, flat.width, channels))
    if inverted:
        array = 1 - array
    box = content_box(array, background)
    if box is not None:
        top, bottom, left, right = box
        array = array[top:bottom, left:right]
    pixels = np.clip(np.rint(array * 255), 0, 255).astype(np.uint8)
    content = Image.fromarray(pixels[..., 0] if channels == 1 else pixels)
    # Bilinear, as training resized its images (data.images.read_image).
    fitted = ImageOps.contain(
        content,
        (max(1, round(width * share)), max(1, round(height * share))),
        Image.Resampling.BILINEAR,
    )
    colour = tuple(_byte(v) for v in background)
    left, top = (width - fitted.width) // 2, (height - fitted.height) // 2  # centred
    padded = ImageOps.expand(
        fitted,
        border=(left, top, width - fitted.width - left, height - fitted.height - top),
        fill=colour[0] if channels == 1 else colour,
    )
    return scale(np.asarray(padded).reshape(height, width, channels))


def _byte(value: float) -> int:
    return int(round(float(value) * 255))


def _flatten(image: Any, mode: str, fill: tuple[int, ...]) -> Any:
    """``image`` in ``mode`` ("L" or "RGB"), its transparent parts composited onto ``fill``.

    Dropping the alpha channel instead would show whatever colour the hidden pixels have,
    often black or white, unlike the background the model saw.
    """
    from PIL import Image

    transparent = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if not transparent:
        return image.convert(mode)
    colour = fill * 3 if len(fill) == 1 else fill
    backdrop = Image.new("RGBA", image.size, (*colour, 255))
    return Image.alpha_composite(backdrop, image.convert("RGBA")).convert(mode)


def unreadable_summary(predictions: list[Prediction]) -> str | None:
    """One line naming every file that could not be read and why; None if all were read."""
    failed = [p for p in predictions if p.error is not None]
    if not failed:
        return None
    listed = ", ".join(f"{p.path} ({p.error})" for p in failed)
    return f"{len(failed)} of {len(predictions)} images could not be read: {listed}"


def predictions_json(predictions: list[Prediction]) -> str:
    return json.dumps([p.to_dict() for p in predictions], indent=2)
