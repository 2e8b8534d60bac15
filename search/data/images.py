"""Folders of images, one sub-folder a class: read into uint8 arrays of one size."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from search.config.settings import DataSettings
from search.data.dataset import border_background
from search.data.record import file_digest
from search.errors import DataError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def read_image_folder(
    folder: Path, settings: DataSettings, files: dict[str, str] | None = None
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Read ``folder/<class>/<image>`` into uint8 arrays; classes are the sorted folder names.

    Files that are not images (by suffix) are ignored; an image that cannot be read is an error.
    Each image read goes into ``files`` as "<class>/<file>" with its digest.
    """
    if not folder.is_dir():
        raise DataError(f"image folder not found: {folder}")
    class_dirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(class_dirs) < 2:
        raise DataError(
            f"image folder {folder} has {len(class_dirs)} class folder(s); it needs at least 2 "
            "(one sub-folder of images per class)"
        )
    images, labels = [], []
    for label, class_dir in enumerate(class_dirs):
        images_of_class = sorted(
            p for p in class_dir.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not images_of_class:
            raise DataError(f"class folder {class_dir} has no images")
        for path in images_of_class:
            images.append(read_image(path, settings.color_mode, settings.image_size))
            labels.append(label)
            if files is not None:
                files[f"{class_dir.name}/{path.name}"] = file_digest(path)
    names = tuple(p.name for p in class_dirs)
    return names, np.stack(images), np.asarray(labels, dtype=np.int64)


def read_image(path: Path, color_mode: str, image_size: int) -> np.ndarray:
    """One image file as uint8 (image_size, image_size, channels), whatever its size and colour.

    Fitted with its aspect ratio kept and padded to a square with its own background (the
    median of its border), as `predict` fits a photo: a non-square image is not squashed.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    mode = "L" if color_mode == "grayscale" else "RGB"
    try:
        with Image.open(path) as image:
            converted = image.convert(mode)
            fitted = ImageOps.contain(
                converted, (image_size, image_size), Image.Resampling.BILINEAR
            )
            if fitted.size != (image_size, image_size):
                pixels = np.asarray(converted).reshape(converted.height, converted.width, -1)
                colour = tuple(int(v) for v in np.rint(border_background(pixels)))
                fitted = ImageOps.pad(
                    fitted, (image_size, image_size), color=colour[0] if mode == "L" else colour
                )
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise DataError(f"cannot read image {path}: {e}") from None
    return np.asarray(fitted).reshape(image_size, image_size, len(mode))
