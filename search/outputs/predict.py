"""Classify image files with an export, made to look like the images the model trained on.

Training images are uint8 pixels scaled to 0..1 (``data.dataset.scale``), of one size, on the
training data's background (MNIST: light digits on black). A photo is prepared the same way:
its transparent parts composited onto that background, resized to fit the model's input with
its aspect ratio kept and the rest padded with the background, optionally inverted (``invert``,
for dark-on-light photos). Every file is tried; one that cannot be read gets a reason instead
of classes, and the others are still classified.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from search.data.dataset import border_background, scale
from search.errors import DataError, ExportError
from search.outputs.export import CARD_FILE
from search.storage.artifacts import MODEL_FILE, load_model_file


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
    warning: str | None = None  # the image looks unlike the training data, and what to try
    error: str | None = None  # why it could not be read: "not an image", "no such file", ...

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "path": str(self.path),
            "top": [{"class": name, "probability": p} for name, p in self.top],
            "warning": self.warning,
        }
        if self.error is not None:
            record["error"] = self.error
        return record


def read_model_card(folder: Path) -> dict[str, Any]:
    """The model card of the export in ``folder``.

    Raises:
        ExportError: ``folder`` holds no export, or its card is damaged or too old.
    """
    if not (folder / MODEL_FILE).is_file() or not (folder / CARD_FILE).is_file():
        raise ExportError(
            f"no exported model in {folder} (expected {MODEL_FILE} and {CARD_FILE}, "
            "which `lenet-search export` writes)"
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
    return card


def predict_images(
    folder: Path, images: list[Path], top_k: int = 3, invert: bool = False
) -> list[Prediction]:
    """Classify image files with the export in ``folder``, one ``Prediction`` per file, in order.

    A file that cannot be read gets ``error`` and no classes; the others are still classified.

    Raises:
        ExportError: ``folder`` holds no export.
        StorageError: its model cannot be loaded.
    """
    card = read_model_card(folder)
    model = load_model_file(folder / MODEL_FILE, "the exported model")
    predictions, arrays = [], []
    for path in images:
        try:
            array, warning = prepare_image(path, card, invert=invert)
        except UnreadableImage as e:
            predictions.append(Prediction(path, [], error=e.reason))
            continue
        predictions.append(Prediction(path, [], warning=warning))
        arrays.append(array)
    if not arrays:
        return predictions
    rows = iter(model.predict(np.stack(arrays), verbose=0))
    names = card["class_names"]
    for n, prediction in enumerate(predictions):
        if prediction.error is None:
            row = next(rows)
            order = np.argsort(row)[::-1][:top_k]
            top = [(names[i], float(row[i])) for i in order]
            predictions[n] = replace(prediction, top=top)
    return predictions


def prepare_image(
    path: Path, card: dict[str, Any], invert: bool = False
) -> tuple[np.ndarray, str | None]:
    """One image file as the model's input (height, width, channels) in 0..1, and a warning.

    The warning (None if there is none) says when the image looks unlike the training data;
    cards without ``pixel_stats`` (exports older than it) give a black background and none.

    Raises:
        UnreadableImage: the file is missing, not an image, truncated or damaged.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    height, width, channels = card["input_shape"]
    stats = card.get("pixel_stats")
    background = stats["background"] if stats else [0.0] * channels
    # The colour, in the image's own terms, that becomes the training background after an
    # inversion: transparent parts and padding then end up as the training images' background.
    fill = tuple(round((1 - v if invert else v) * 255) for v in background)
    try:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened)  # phone photos are often stored rotated
            image = _flatten(image, "L" if channels == 1 else "RGB", fill)
            # Bilinear, as training resized its images (search.data.images.read_image): a
            # square image gives exactly what training read; others keep their aspect ratio.
            content = ImageOps.contain(image, (width, height), Image.Resampling.BILINEAR)
            padded = ImageOps.pad(
                content, (width, height), color=fill[0] if channels == 1 else fill
            )
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

    array, inside = (_pixels(picture, channels, invert) for picture in (padded, content))
    if stats is None:
        return array, None
    return array, _unlike_training(inside, float(np.mean(background)), invert)


def _pixels(image: Any, channels: int, invert: bool) -> np.ndarray:
    """A PIL image as the model sees it: (height, width, channels) in 0..1, inverted or not."""
    array = scale(np.asarray(image).reshape(image.height, image.width, channels))
    return 1.0 - array if invert else array


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


def _unlike_training(content: np.ndarray, background: float, invert: bool) -> str | None:
    """A warning when the image's background is on the other side of mid-grey from training's.

    The rule: the image's background is the median of its border pixels (as the training
    background is); if one is above 0.5 and the other not, the image is dark on light where
    the training images are light on dark (or the other way round), and the model, which never
    saw that, will guess. Simple and robust to a photo's noise; finer differences pass silently.
    """
    seen = float(np.mean(border_background(content)))
    if (seen > 0.5) == (background > 0.5):
        return None
    after = " after --invert" if invert else ""
    advice = "try without --invert" if invert else "try --invert"
    return (
        f"looks unlike the training data ({_looks(seen)}{after}, the training images are "
        f"{_looks(background)}); {advice}"
    )


def _looks(background: float) -> str:
    return "dark on light" if background > 0.5 else "light on dark"


def unreadable_summary(predictions: list[Prediction]) -> str | None:
    """One line naming every file that could not be read and why; None if all were read."""
    failed = [p for p in predictions if p.error is not None]
    if not failed:
        return None
    listed = ", ".join(f"{p.path} ({p.error})" for p in failed)
    return f"{len(failed)} of {len(predictions)} images could not be read: {listed}"


def predictions_json(predictions: list[Prediction]) -> str:
    return json.dumps([p.to_dict() for p in predictions], indent=2)
