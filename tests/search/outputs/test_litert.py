"""LiteRT exports: converted, run by the real LiteRT interpreter, measured, and read by predict."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from search.config.study_file import load_config
from search.data.loading import load_dataset
from search.errors import ExportError
from search.outputs.export import ExportFormat, export_trial
from search.outputs.litert import LiteRTModel, accuracy
from search.outputs.predict import predict_images
from search.storage.artifacts import open_artifact_store
from tests.helpers import pattern, stored_study


@pytest.fixture(scope="module")
def data(finished_study: Path):  # noqa: ANN201 - the study's Dataset
    return load_dataset(load_config(finished_study / "tiny.toml").data)


def export(finished_study: Path, output: Path, data, export_format: ExportFormat) -> dict:  # noqa: ANN001
    study = stored_study(finished_study)
    store = open_artifact_store(finished_study / "tiny_artifacts", create=False)
    return export_trial(
        study, store, output, validation=(data.x_val, data.y_val), export_format=export_format
    )


@pytest.fixture(scope="module")
def exports(finished_study: Path, data, tmp_path_factory: pytest.TempPathFactory) -> dict:  # noqa: ANN001
    """The best trial exported three ways: Keras, float32 LiteRT, int8 LiteRT."""
    folder = tmp_path_factory.mktemp("litert")
    formats = {
        "keras": ExportFormat(),
        "float": ExportFormat("litert"),
        "int8": ExportFormat("litert", "int8", data.x_train),
    }
    return {
        name: (folder / name, export(finished_study, folder / name, data, export_format))
        for name, export_format in formats.items()
    }


def test_litert_export_holds_the_file_and_a_card(exports: dict) -> None:
    for name in ("float", "int8"):
        folder, card = exports[name]
        assert sorted(p.name for p in folder.iterdir()) == ["model.tflite", "model_card.json"]
        assert json.loads((folder / "model_card.json").read_text()) == card
        assert card["format"] == "litert" and card["model_file"] == "model.tflite"
        assert card["model_bytes"] == (folder / "model.tflite").stat().st_size
    assert exports["float"][1]["quantize"] is None
    assert exports["int8"][1]["quantize"] == "int8"
    keras_card = exports["keras"][1]
    assert keras_card["format"] == "keras" and keras_card["quantize"] is None
    assert keras_card["exported_validation_accuracy"] == keras_card["float32_validation_accuracy"]


def test_the_card_has_the_interpreters_accuracy_next_to_the_float_models(
    exports: dict, data
) -> None:  # noqa: ANN001
    float32 = exports["keras"][1]["exported_validation_accuracy"]
    for name in ("float", "int8"):
        folder, card = exports[name]
        measured = accuracy(LiteRTModel(folder / "model.tflite"), data.x_val, data.y_val)
        assert card["exported_validation_accuracy"] == measured
        assert card["float32_validation_accuracy"] == float32
    one_image = 1 / len(data.y_val)
    # A float32 LiteRT file computes what Keras does, to rounding: at most an image differs.
    assert abs(exports["float"][1]["exported_validation_accuracy"] - float32) <= one_image
    # int8 loses a little on these clear shapes, not a class's worth.
    assert exports["int8"][1]["exported_validation_accuracy"] >= float32 - 0.1


def test_float_litert_computes_the_keras_probabilities(exports: dict, data) -> None:  # noqa: ANN001
    import keras

    keras_model = keras.saving.load_model(exports["keras"][0] / "model.keras")
    expected = keras_model.predict(data.x_val, verbose=0)
    litert = LiteRTModel(exports["float"][0] / "model.tflite")
    np.testing.assert_allclose(litert.predict(data.x_val, batch_size=7), expected, atol=1e-5)


def test_int8_file_is_integer_inside_float_outside_and_smaller(exports: dict) -> None:
    interpreter = Interpreter(model_path=str(exports["int8"][0] / "model.tflite"))
    assert interpreter.get_input_details()[0]["dtype"] == np.float32
    assert interpreter.get_output_details()[0]["dtype"] == np.float32
    weights = {detail["dtype"] for detail in interpreter.get_tensor_details()}
    assert np.int8 in weights
    # Each weight in one byte instead of four; this tiny model's file is mostly the format's own
    # overhead, so the saving is measured against its parameters, not as a share of the file.
    int8, float32 = exports["int8"][1], exports["float"][1]
    assert float32["model_bytes"] - int8["model_bytes"] > 1.5 * int8["param_count"]


def test_predict_reads_a_litert_export_as_a_keras_one(exports: dict, tmp_path: Path) -> None:
    from PIL import Image

    rng = np.random.default_rng(5)
    paths = []
    for kind in ("circle", "horizontal", "vertical"):
        path = tmp_path / f"{kind}.png"
        Image.fromarray(pattern(kind, (84, 84), rng)).save(path)
        paths.append(path)
    keras_top = [p.top[0][0] for p in predict_images(exports["keras"][0], paths)]
    for name in ("float", "int8"):
        predictions = predict_images(exports[name][0], paths)
        assert [p.top[0][0] for p in predictions] == keras_top
        assert all(abs(sum(prob for _, prob in p.top) - 1) < 0.02 for p in predictions)


def test_quantizing_needs_litert_and_calibration_images() -> None:
    with pytest.raises(ExportError) as error:
        ExportFormat("keras", "int8")
    assert str(error.value) == "--quantize int8 needs --format litert"
    with pytest.raises(ExportError) as error:
        ExportFormat("onnx")
    assert str(error.value) == "--format onnx: choose one of keras, litert"


def test_a_damaged_litert_file_is_a_clear_error(exports: dict, tmp_path: Path) -> None:
    damaged = tmp_path / "model.tflite"
    damaged.write_bytes((exports["float"][0] / "model.tflite").read_bytes()[:200])
    with pytest.raises(ExportError) as error:
        LiteRTModel(damaged)
    assert str(error.value).startswith(f"cannot load {damaged} with the LiteRT interpreter: ")
