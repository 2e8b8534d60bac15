"""Image folders: scaled, resized, split, and refused when unusable."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from search.data.loading import load_dataset
from search.errors import DataError
from tests.helpers import CLASSES, image_settings


def test_image_folder_is_scaled_resized_and_split(image_folder: Path) -> None:
    data = load_dataset(image_settings(image_folder, validation_split=0.25, test_split=0.25))
    assert data.class_names == CLASSES  # sorted folder names; README.txt ignored
    assert data.input_shape == (28, 28, 1)
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (33, 12, 15)
    for split in (data.y_train, data.y_val, data.y_test):
        assert set(split.tolist()) == {0, 1, 2}
    assert data.x_train.dtype == np.float32
    assert 0.0 <= data.x_train.min() and data.x_train.max() == pytest.approx(1.0)


def test_rgb_size_and_separate_test_folder(tmp_path: Path, image_folder: Path) -> None:
    test_dir = tmp_path / "test"
    shutil.copytree(image_folder, test_dir)
    data = load_dataset(
        image_settings(image_folder, image_size=16, color_mode="rgb", test_dir=test_dir)
    )
    assert data.input_shape == (16, 16, 3)
    assert len(data.y_test) == 60 and len(data.y_train) + len(data.y_val) == 60


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda root: shutil.rmtree(root), "image folder not found: {root}"),
        (
            lambda root: [shutil.rmtree(root / c) for c in CLASSES[1:]],
            "image folder {root} has 1 class folder(s); it needs at least 2 "
            "(one sub-folder of images per class)",
        ),
        (
            lambda root: [p.unlink() for p in (root / "vertical").glob("*.png")],
            "class folder {root}/vertical has no images",
        ),
        (
            lambda root: (root / "circle" / "7.png").write_bytes(b"not a png"),
            "cannot read image {root}/circle/7.png: cannot identify image file "
            "'{root}/circle/7.png'",
        ),
    ],
)
def test_bad_image_folders(image_folder: Path, damage, message: str) -> None:
    damage(image_folder)
    with pytest.raises(DataError) as error:
        load_dataset(image_settings(image_folder))
    assert str(error.value) == message.format(root=image_folder)


def test_a_non_square_image_is_padded_with_its_background_not_squashed(tmp_path: Path) -> None:
    from PIL import Image

    from search.data.images import read_image

    wide = np.full((20, 60), 30, np.uint8)  # a dark background, 60 wide and 20 high
    wide[8:12, :] = 250  # a light bar across it
    Image.fromarray(wide).save(tmp_path / "wide.png")
    pixels = read_image(tmp_path / "wide.png", "grayscale", 30)[..., 0]
    assert pixels.shape == (30, 30)
    # 60x20 fits as 30x10, rows 10 to 19, the rest the image's own background.
    assert (pixels[:10] == 30).all() and (pixels[20:] == 30).all()
    assert pixels[14:16].min() > 200  # the bar keeps its thickness: a tenth of the height
    square = np.zeros((40, 40), np.uint8)
    Image.fromarray(square).save(tmp_path / "square.png")
    assert read_image(tmp_path / "square.png", "grayscale", 28).shape == (28, 28, 1)
