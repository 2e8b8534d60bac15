"""`predict` on real exports: photos of any size, transparency, either way round, unreadable."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from search.cli.main import main
from search.config.study_file import load_config
from search.data.dataset import Dataset, scale
from search.data.loading import load_dataset
from search.data.record import pixel_stats
from search.errors import ExportError
from search.outputs.export import export_trial
from search.outputs.predict import (
    looks_inverted,
    open_image,
    predict_images,
    prepare_image,
    read_model_card,
)
from search.storage.artifacts import open_artifact_store
from tests.helpers import pattern, stored_study


@pytest.fixture(scope="module")
def exported(finished_study: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    study = stored_study(finished_study)
    store = open_artifact_store(finished_study / "tiny_artifacts", create=False)
    output = tmp_path_factory.mktemp("export") / "tiny"
    data = load_dataset(load_config(finished_study / "tiny.toml").data)
    export_trial(study, store, output, validation=(data.x_val, data.y_val))
    return output


@pytest.fixture(scope="module")
def card(exported: Path) -> dict:
    return read_model_card(exported)


@pytest.fixture
def full_card(card: dict) -> dict:
    """The card, its training content filling the frame (as Fashion-MNIST's): the geometry of
    a prepared image is then the photo's content's alone. (The shapes' is 0.89, the rings'.)"""
    return {**card, "pixel_stats": {**card["pixel_stats"], "content": 1.0}}


def background_of(card: dict) -> np.ndarray:
    """The training background as ``predict`` pads with it: quantised to a uint8 pixel."""
    return scale(np.round(np.asarray(card["pixel_stats"]["background"]) * 255).astype(np.uint8))


def test_pixel_stats_of_the_training_images() -> None:
    x = np.zeros((2, 4, 4, 1), np.float32)
    x[:, 1:3, 1:3] = 1.0  # a light 2x2 centre on a black border, as in MNIST
    x[0, 0, 0] = 0.5  # one border pixel of 24 is not background; the median ignores it
    empty = np.zeros((0, 4, 4, 1), np.float32)
    labels = np.zeros(0, np.int64)
    data = Dataset("tiny", ("a",), x, labels, empty, labels, empty, labels)
    assert pixel_stats(data) == {
        "mean": round(8.5 / 32, 4),
        "std": round(float(x.astype(np.float64).std()), 4),
        "background": [0.0],
        "content": 0.625,  # the median of 2 of 4 (the centre) and 3 of 4 (with that pixel)
    }


def test_the_card_records_the_training_pixel_stats(card: dict, finished_study: Path) -> None:
    data = load_dataset(load_config(finished_study / "tiny.toml").data)
    assert card["pixel_stats"] == pixel_stats(data)
    assert card["pixel_stats"]["background"][0] < 0.5  # the shapes are light on dark noise
    assert "pixel_stats" not in card["dataset"]


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparency_is_composited_onto_the_training_background(
    full_card: dict, tmp_path: Path, mode: str
) -> None:
    card = full_card
    # A cut-out: a light bar, opaque, on pixels that are white but fully transparent.
    rgba = np.full((40, 40, 4), 255, np.uint8)
    rgba[..., 3] = 0
    rgba[15:25, :, 3] = 255
    image = Image.fromarray(rgba, "RGBA")
    if mode == "LA":
        image = image.convert("LA")
    elif mode == "P":  # a palette whose entry 0 is transparent white, 1 opaque white
        image = Image.new("P", (40, 40), 0)
        image.putpalette([255, 255, 255] * 2)
        image.paste(1, (0, 15, 40, 25))
        image.info["transparency"] = 0
    path = tmp_path / "cut-out.png"
    image.save(path, transparency=0) if mode == "P" else image.save(path)
    with Image.open(path) as reopened:
        assert reopened.mode == mode

    array = prepare_image(open_image(path), card)
    assert array.shape == (28, 28, 1) and array.dtype == np.float32
    background = background_of(card)
    np.testing.assert_array_equal(array[:8], np.broadcast_to(background, (8, 28, 1)))
    np.testing.assert_array_equal(array[-8:], np.broadcast_to(background, (8, 28, 1)))
    assert background[0] < 0.5 and (array[12:16] == 1.0).all()  # the bar, not white all over


def test_a_photo_is_cropped_to_its_content_and_keeps_its_aspect_ratio(
    full_card: dict, tmp_path: Path
) -> None:
    card = full_card
    photo = np.zeros((400, 300, 3), np.uint8)  # 300 wide, 400 high, light on dark
    photo[50:250, 20:120] = 255  # a 100 wide, 200 high rectangle, off-centre
    path = tmp_path / "photo.jpg"
    Image.fromarray(photo).save(path, quality=95)

    array = prepare_image(open_image(path), card)
    assert array.shape == (28, 28, 1)
    # The rectangle alone, 1:2, fits as 14x28, centred: 7 columns of padding on each side.
    background = background_of(card)
    np.testing.assert_array_equal(array[:, :7], np.broadcast_to(background, (28, 7, 1)))
    np.testing.assert_array_equal(array[:, 21:], np.broadcast_to(background, (28, 7, 1)))
    rows, cols = np.nonzero(array[..., 0] > 0.5)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (0, 27, 7, 20)


def test_content_takes_the_share_of_the_frame_the_training_images_content_did(
    card: dict, tmp_path: Path
) -> None:
    digit_like = {**card, "pixel_stats": {**card["pixel_stats"], "content": 20 / 28}}
    photo = np.zeros((90, 90), np.uint8)
    photo[10:80, 30:60] = 255  # 30 wide, 70 high
    path = tmp_path / "digit.png"
    Image.fromarray(photo).save(path)
    rows, cols = np.nonzero(prepare_image(open_image(path), digit_like)[..., 0] > 0.5)
    assert rows.max() - rows.min() + 1 == 20  # as MNIST's digits: 20 pixels of 28 high


def test_a_dark_on_light_image_inverted_is_light_on_the_training_background(
    full_card: dict, tmp_path: Path
) -> None:
    card = full_card
    paper = np.full((40, 60), 230, np.uint8)  # dark ink on light paper, 60 wide
    paper[18:22, 10:50] = 20
    path = tmp_path / "paper.png"
    Image.fromarray(paper).save(path)

    inverted = prepare_image(open_image(path), card, inverted=True)
    # Inverted, the paper is the background and the ink light: only the ink is kept, 10:1.
    background = background_of(card)
    np.testing.assert_allclose(inverted[:10], np.broadcast_to(background, (10, 28, 1)), atol=0.02)
    assert inverted[13:15, 1:27].min() > 0.85  # the ink, now light, across the frame
    # As it is, the paper differs from the background everywhere: nothing is cropped.
    as_is = prepare_image(open_image(path), card)
    assert as_is[6:20, :].mean() > 0.8  # light paper where the ink's rows are not


def test_a_card_without_pixel_stats_pads_with_black(card: dict, tmp_path: Path) -> None:
    old_card = {key: value for key, value in card.items() if key != "pixel_stats"}
    path = tmp_path / "paper.png"
    Image.fromarray(np.full((40, 60), 230, np.uint8)).save(path)
    array = prepare_image(open_image(path), old_card)
    assert (array[:4] == 0).all() and array[14, 14, 0] == pytest.approx(230 / 255)


def test_auto_inverts_an_image_whose_border_is_the_other_way_round(
    exported: Path, tmp_path: Path
) -> None:
    rng = np.random.default_rng(4)
    light = tmp_path / "light.png"
    Image.fromarray(pattern("horizontal", (40, 40), rng)).save(light)  # as it trained
    dark = tmp_path / "dark.png"
    Image.fromarray(255 - pattern("horizontal", (40, 40), rng)).save(dark)  # the other way
    auto = predict_images(exported, [light, dark])
    assert [p.inverted for p in auto] == [False, True]
    forced = {way: predict_images(exported, [light, dark], invert=way) for way in ("no", "yes")}
    assert auto[0].top == forced["no"][0].top and auto[1].top == forced["yes"][1].top
    assert [p.inverted for p in forced["yes"]] == [True, True]
    assert [p.inverted for p in forced["no"]] == [False, False]


def test_a_border_nearer_the_inverse_background_means_inverted(full_card: dict) -> None:
    from PIL import Image as PILImage

    light_item = np.zeros((30, 30), np.uint8)
    light_item[5:25, 5:25] = 240
    assert looks_inverted(PILImage.fromarray(light_item), full_card) is False
    assert looks_inverted(PILImage.fromarray(255 - light_item), full_card) is True
    # An item that touches two edges (a trouser from the top to the bottom of the photo).
    trouser = np.zeros((30, 30), np.uint8)
    trouser[:, 8:22] = 220
    assert looks_inverted(PILImage.fromarray(trouser), full_card) is False
    assert looks_inverted(PILImage.fromarray(255 - trouser), full_card) is True


def test_predict_converts_size_and_colour(exported: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    paths = []
    for kind in ("horizontal", "vertical"):
        path = tmp_path / f"{kind}.jpg"
        Image.fromarray(pattern(kind, (90, 70), rng)).save(path)  # RGB, not 28x28
        paths.append(path)
    predictions = predict_images(exported, paths, top_k=2)
    assert [p.path for p in predictions] == paths
    for prediction in predictions:
        assert len(prediction.top) == 2
        assert prediction.top[0][1] >= prediction.top[1][1]
        assert {name for name, _ in prediction.top} <= {"circle", "horizontal", "vertical"}
        assert prediction.error is None and prediction.inverted is not None


def test_predict_without_an_export(tmp_path: Path) -> None:
    with pytest.raises(ExportError) as error:
        predict_images(tmp_path, [tmp_path / "a.png"])
    assert str(error.value) == (
        f"no exported model in {tmp_path} (expected model_card.json beside "
        "model.keras or model.tflite, which `lenet-search export` writes)"
    )


@pytest.fixture
def mixed_files(tmp_path: Path) -> list[Path]:
    """Five files: two images (the second dark on light) and three that cannot be read."""
    good = tmp_path / "good.png"
    Image.fromarray(pattern("horizontal", (30, 40), np.random.default_rng(2))).save(good)
    not_image = tmp_path / "a.txt"
    not_image.write_text("no pixels here")
    missing = tmp_path / "b.png"
    truncated = tmp_path / "c.png"
    noise = np.random.default_rng(3).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    paper = tmp_path / "paper.jpg"
    Image.fromarray(np.full((50, 50), 240, np.uint8)).save(paper)
    return [good, not_image, missing, truncated, paper]


def expected_stderr(files: list[Path]) -> str:
    good, not_image, missing, truncated, paper = files
    return (
        f"Error: 3 of 5 images could not be read: {not_image} (not an image), "
        f"{missing} (no such file), {truncated} (truncated)\n"
    )


def test_the_command_prints_every_readable_image_and_lists_the_rest(
    exported: Path, mixed_files: list[Path], capsys: pytest.CaptureFixture
) -> None:
    assert main(["predict", str(exported), *map(str, mixed_files)]) == 2
    out, err = capsys.readouterr()
    assert err == expected_stderr(mixed_files)
    lines = out.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [str(mixed_files[0]), str(mixed_files[4])]
    for line in lines:
        shown = line.split(": ", 1)[1].removesuffix(" (inverted)").split(", ")
        assert {part.rsplit(" ", 1)[0] for part in shown} == {"circle", "horizontal", "vertical"}
        assert all(part.endswith("%") for part in shown)


def test_the_command_writes_json(
    exported: Path, mixed_files: list[Path], capsys: pytest.CaptureFixture
) -> None:
    argv = ["predict", str(exported), *map(str, mixed_files), "--format", "json", "--top", "2"]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert err == expected_stderr(mixed_files)
    records = json.loads(out)
    assert [record["path"] for record in records] == [str(path) for path in mixed_files]
    good, not_image, missing, truncated, paper = records
    for record in (good, paper):
        assert set(record) == {"path", "top", "inverted"}
        assert [set(entry) for entry in record["top"]] == [{"class", "probability"}] * 2
        assert record["top"][0]["probability"] >= record["top"][1]["probability"]
        assert isinstance(record["inverted"], bool)  # the decision, image by image
    assert [(r["top"], r["inverted"], r["error"]) for r in (not_image, missing, truncated)] == [
        ([], None, "not an image"),
        ([], None, "no such file"),
        ([], None, "truncated"),
    ]


def test_the_command_succeeds_when_every_image_is_read(
    exported: Path, mixed_files: list[Path], capsys: pytest.CaptureFixture
) -> None:
    paper = str(mixed_files[4])
    assert main(["predict", str(exported), paper, "--invert", "yes", "--top", "1"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith(f"{paper}: ") and out.endswith(" (inverted)\n")
