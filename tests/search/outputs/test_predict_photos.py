"""`predict` on photos made from real Fashion-MNIST test images: inverted, on large white
canvases off-centre, cropped tight, not square. Its accuracy on them against the model's own on
the 28x28 originals (printed; `pytest -s` shows the table)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from search.data.dataset import content_box
from search.data.mnist import DEBIAN_FASHION_MNIST
from tests.helpers import write_study

N_IMAGES = 200
# How far below the model's accuracy on the originals predict may fall on each kind of photo.
TOLERANCE = 0.12


def photos(image: np.ndarray, rng: np.random.Generator) -> dict[str, Image.Image]:
    """A 28x28 light-on-black test image as the kinds of photo a user has of such an item."""
    dark_on_white = 255 - image
    canvas = Image.new("L", (320, 240), 255)  # a product photo: white, the item off-centre
    item = Image.fromarray(dark_on_white).resize((140, 140), Image.Resampling.BILINEAR)
    canvas.paste(item, (int(rng.integers(0, 180)), int(rng.integers(0, 100))))
    top, bottom, left, right = content_box(image[..., None] / 255, np.zeros(1))
    tight = Image.fromarray(image[top:bottom, left:right])  # the item touches every edge
    tight = tight.resize((tight.width * 3, tight.height * 3), Image.Resampling.BILINEAR)
    wide = Image.new("L", (70, 28), 0)  # not square, the item off-centre
    wide.paste(Image.fromarray(image), (int(rng.integers(0, 42)), 0))
    return {
        "the original, 28x28": Image.fromarray(image),
        "inverted, 28x28": Image.fromarray(dark_on_white),
        "dark on a white 320x240 canvas, off-centre": canvas.convert("RGB"),
        "cropped tight, 3x larger": tight,
        "on a 70x28 canvas, off-centre": wide,
    }


@pytest.fixture(scope="module")
def fashion_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """A model of real Fashion-MNIST (10,000 training images, 3 epochs), exported."""
    if not DEBIAN_FASHION_MNIST.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    from search.config.study_file import load_config
    from search.data.loading import load_dataset
    from search.engine.runner import run_study
    from search.outputs.export import export_trial
    from search.storage.artifacts import open_artifact_store

    folder = tmp_path_factory.mktemp("fashion")
    path = write_study(
        folder,
        name="fashion",
        n_trials=1,
        data={"dataset": "fashion_mnist", "train_samples": 10_000, "test_split": None},
        training={"batch_size": 32, "learning_rate": 0.001, "precision": "float32"},
        run={"trial_pictures": False},
        ensemble={"size": 0},
        search_space={"conv1_channels": 16, "conv2_channels": 32, "dense_units": 64, "epochs": 3},
    )
    config = load_config(path)
    data = load_dataset(config.data)
    study = run_study(config, data).study
    store = open_artifact_store(config.study.artifacts, create=False)
    export_trial(study, store, folder / "export", validation=(data.x_val, data.y_val))
    return folder / "export", data


@pytest.mark.slow
def test_predict_on_photos_is_about_as_accurate_as_the_model_on_its_own_images(
    fashion_export: tuple[Path, object], tmp_path: Path
) -> None:
    import keras

    from search.outputs.predict import predict_images

    export, data = fashion_export
    images = np.rint(data.x_test[:N_IMAGES, ..., 0] * 255).astype(np.uint8)
    labels = data.y_test[:N_IMAGES]
    model = keras.saving.load_model(export / "model.keras")
    own = float(np.mean(model.predict(data.x_test[:N_IMAGES], verbose=0).argmax(1) == labels))
    rng = np.random.default_rng(0)
    files: dict[str, list[Path]] = {}
    for n, image in enumerate(images):
        for kind, photo in photos(image, rng).items():
            path = tmp_path / f"{n}-{len(files.get(kind, []))}-{kind[:8].replace(' ', '_')}.png"
            photo.save(path)
            files.setdefault(kind, []).append(path)
    names = list(data.class_names)
    print(f"\nthe model on the {N_IMAGES} 28x28 test images: {own:.1%}")
    for kind, paths in files.items():
        predictions = predict_images(export, paths, top_k=1)
        right = np.mean([names.index(p.top[0][0]) == y for p, y in zip(predictions, labels)])
        inverted = np.mean([p.inverted for p in predictions])
        print(f"predict, {kind}: {right:.1%} ({inverted:.0%} classified inverted)")
        assert right >= own - TOLERANCE, kind
