"""LiteRT (formerly TensorFlow Lite) exports: a ``model.tflite`` for phones and microcontrollers,
float32 or quantized to int8, and the LiteRT interpreter to run one here.

Keras converts (``model.export(format="litert")``, TensorFlow's converter underneath); the
interpreter comes from ``ai-edge-litert``, the package LiteRT is published in now that
``tf.lite.Interpreter`` is deprecated. Only LiteRT's built-in operators are allowed, so the file
runs on a device without TensorFlow's own ("select") operators linked in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from search import stats
from search.errors import ExportError
from search.outputs.formats import QUANTIZE_CHOICES

LITERT_FILE = "model.tflite"
# Images the int8 calibration looks at: enough for the activations' ranges to settle (the
# converter's own examples use 100 to 500), taken from the training split only.
CALIBRATION_IMAGES = 500
INSTALL_HINT = "pip install 'lenet-search[litert]'"


def require_interpreter() -> None:
    """Raises ExportError unless the LiteRT interpreter is installed (checked before work)."""
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError:
        raise ExportError(
            f"--format litert needs the LiteRT interpreter, to measure the converted model: "
            f"{INSTALL_HINT}"
        ) from None


def convert(
    model: Any,
    path: Path,
    *,
    quantize: str | None = None,
    calibration: np.ndarray | None = None,
) -> None:
    """Write ``model`` (a float32 Keras model) to ``path`` as a LiteRT flatbuffer.

    ``quantize="int8"`` stores weights and activations as int8 (about 4x smaller, integer
    arithmetic), their ranges calibrated on ``calibration`` (training images); the file's input
    and output stay float32, so it is used exactly like the float one.
    """
    import tensorflow as tf

    options: dict[str, Any] = {"target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]}}
    if quantize == "int8":
        if calibration is None or not len(calibration):
            raise ValueError("int8 quantization needs calibration images")
        rng = np.random.default_rng(0)
        chosen = rng.choice(len(calibration), min(CALIBRATION_IMAGES, len(calibration)), False)
        images = calibration[np.sort(chosen)].astype(np.float32)

        def representative_dataset():  # noqa: ANN202 - the converter's generator protocol
            for image in images:
                yield [image[None]]

        options = {
            "optimizations": [tf.lite.Optimize.DEFAULT],
            "representative_dataset": representative_dataset,
            "target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]},
        }
    elif quantize is not None:
        raise ValueError(f"quantize must be one of {QUANTIZE_CHOICES} or None, got {quantize!r}")
    model.export(str(path), format="litert", verbose=False, **options)


class LiteRTModel:
    """A ``model.tflite`` run by the LiteRT interpreter, with the one method of a Keras model
    that exports are used through: ``predict``."""

    def __init__(self, path: Path) -> None:
        from ai_edge_litert.interpreter import Interpreter

        try:
            self._interpreter = Interpreter(model_path=str(path))
        except ValueError as e:  # a damaged or foreign file
            raise ExportError(f"cannot load {path} with the LiteRT interpreter: {e}") from None
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._batch = 0

    def predict(self, x: np.ndarray, batch_size: int = 256, verbose: int = 0) -> np.ndarray:
        """Class probabilities of the images ``x`` (N, height, width, channels), in batches."""
        rows = []
        for start in range(0, len(x), batch_size):
            batch = np.ascontiguousarray(x[start : start + batch_size], dtype=np.float32)
            if len(batch) != self._batch:  # the file is converted for batches of 1
                self._interpreter.resize_tensor_input(self._input, batch.shape)
                self._interpreter.allocate_tensors()
                self._batch = len(batch)
            self._interpreter.set_tensor(self._input, batch)
            self._interpreter.invoke()
            rows.append(self._interpreter.get_tensor(self._output).copy())
        return np.concatenate(rows) if rows else np.zeros((0, 0), np.float32)


def accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    """The share of ``x`` that ``model`` (Keras or LiteRT) classifies as ``y``."""
    return accuracy_and_confidence(model, x, y)[0]


def accuracy_and_confidence(model: Any, x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The share of ``x`` that ``model`` (Keras or LiteRT) classifies as ``y``, and the median
    probability it gives its answer: how sure it is, which `play` needs."""
    probabilities = model.predict(x, batch_size=1024, verbose=0)
    confidence = float(np.median(probabilities.max(axis=1))) if len(x) else 0.0
    return stats.accuracy(probabilities.argmax(axis=1), y), confidence
