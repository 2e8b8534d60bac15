"""What the tests share: small generated data, study files written through keyword arguments,
the real command in a subprocess, trial counts read straight from SQLite, and a pruner whose
decision a test fixes."""

from __future__ import annotations

import copy
import dataclasses
import gzip
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest

ROOT = Path(__file__).parents[1]
CLASSES = ("circle", "horizontal", "vertical")
# The drawn shapes that stand in for the rock-paper-scissors gestures.
GESTURES = {"Rock": "circle", "Paper": "horizontal", "Scissors": "vertical"}


# --- data ----------------------------------------------------------------------------------------


def pattern(kind: str, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """An RGB uint8 image whose class a LeNet learns in an epoch or two."""
    height, width = size
    image = rng.integers(0, 40, size=(height, width, 3), dtype=np.uint8)
    if kind == "horizontal":
        image[height // 3 : 2 * height // 3, :, :] = 255
    elif kind == "vertical":
        image[:, width // 3 : 2 * width // 3, :] = 255
    else:
        yy, xx = np.mgrid[:height, :width]
        ring = np.abs(np.hypot(yy - height / 2, xx - width / 2) - min(height, width) / 3) < 3
        image[ring] = 255
    return image


def make_image_folder(root: Path, per_class: int = 20, seed: int = 0) -> Path:
    """``root/<class>/<n>.png`` of varying sizes, plus a file that is not an image."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for kind in CLASSES:
        folder = root / kind
        folder.mkdir(parents=True)
        for n in range(per_class):
            size = (32 + n % 3 * 8, 36 + n % 2 * 12)
            Image.fromarray(pattern(kind, size, rng)).save(folder / f"{n}.png")
    (root / "circle" / "README.txt").write_text("not an image; ignored")
    return root


def image_settings(folder: Path, **kwargs: Any) -> Any:
    """The ``[data]`` settings of an image folder (a ``DataSettings``), ``kwargs`` set."""
    from search.config.settings import DataSettings

    return DataSettings(dataset="images", image_dir=folder, **kwargs)


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def make_idx_folder(folder: Path, n_train: int = 100, n_test: int = 30, seed: int = 0) -> Path:
    """The four MNIST-format files of a small random dataset with 10 classes."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    return folder


# --- study files ---------------------------------------------------------------------------------

# The tests' study: the `shapes` image folder beside it, tiny networks, one worker, no pruning.
STUDY: dict[str, dict[str, Any]] = {
    "study": {"name": "tiny", "n_trials": 2, "seed": 0},
    # One validation split, not the folds "auto" gives so few images: a trial trains one model
    # (the tests of folds set them).
    "data": {"dataset": "shapes", "validation_split": 0.25, "test_split": 0.25, "folds": 1},
    "training": {"batch_size": 16, "learning_rate": 0.01},
    "run": {"workers": 1},
    "pruner": {"kind": "none"},
    "search_space": {
        "conv1_channels": {"low": 2, "high": 8, "log": True},
        "conv2_channels": {"low": 2, "high": 8, "log": True},
        "dense_units": {"low": 4, "high": 16},
        "epochs": {"low": 1, "high": 3},
    },
}


def write_study(
    folder: Path, name: str = "tiny", n_trials: int = 2, **sections: dict[str, Any] | None
) -> Path:
    """``folder/<name>.toml``: ``STUDY`` with each keyword's keys set in that section.

    ``write_study(tmp_path, search_space={"epochs": 1}, run={"workers": 2})``; a key set to
    None is left out, and so is a section set to None.
    """
    tables = copy.deepcopy(STUDY)
    tables["study"].update(name=name, n_trials=n_trials)
    for section, keys in sections.items():
        if keys is None:
            tables.pop(section, None)
            continue
        table = tables.setdefault(section, {})
        for key, value in keys.items():
            if value is None:
                table.pop(key, None)
            else:
                table[key] = value
    text = "\n".join(
        f"[{section}]\n" + "".join(f"{key} = {toml(value)}\n" for key, value in table.items())
        for section, table in tables.items()
    )
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def toml(value: Any) -> str:
    """A value as TOML writes it: inline tables and arrays for dicts and lists."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML for {value!r}")


def copy_of(folder: Path, tmp_path: Path) -> Path:
    """A copy of a shared folder (``finished_study``) for a test that changes it."""
    return Path(shutil.copytree(folder, tmp_path / "copy"))


# --- the real command ----------------------------------------------------------------------------


def command(*args: str, **kwargs: Any) -> subprocess.CompletedProcess:
    """``python -m search ARGS`` in a process of its own, run to its end."""
    return subprocess.run(
        [sys.executable, "-m", "search", *args],
        capture_output=True,
        text=True,
        cwd=kwargs.pop("cwd", ROOT),
        timeout=kwargs.pop("timeout", 300),
        **kwargs,
    )


def run_here(capsys: pytest.CaptureFixture, *args: str) -> subprocess.CompletedProcess:
    """The CLI in this process, as ``command`` gives it (no new Python and TensorFlow to start:
    seconds less), for a command whose test needs no process of its own."""
    from search.cli.main import main

    capsys.readouterr()  # what came before
    code = main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["lenet-search", *args], code, out, err)


def start(*args: str, **kwargs: Any) -> subprocess.Popen:
    """The CLI in a process of its own, for tests that signal it or run several at once."""
    return subprocess.Popen(
        [sys.executable, "-m", "search", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=kwargs.pop("cwd", ROOT),
        **kwargs,
    )


def error_of(capsys: pytest.CaptureFixture, *argv: str) -> str:
    """Run the CLI in this process; assert exit 2 and return its one stderr line."""
    from search.cli.main import main

    assert main(list(argv)) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("Error: ")
    return err[len("Error: ") : -1]


# --- studies -------------------------------------------------------------------------------------


def study_with_mistakes(finished_study: Path, tmp_path: Path) -> tuple[optuna.Study, Any]:
    """A new study "mistakes" beside a copy of the finished one, with its two trials, and the
    data with every other test label changed: the best model then gets those images wrong.

    A new study, because the finished one has its best trial evaluated already.
    """
    from search.config.study_file import load_config
    from search.data.loading import load_dataset
    from search.storage import records

    folder = copy_of(finished_study, tmp_path)
    dataset = load_dataset(load_config(folder / "tiny.toml").data)
    storage = f"sqlite:///{folder}/tiny.db"
    source = optuna.load_study(study_name="tiny", storage=storage)
    study = optuna.create_study(study_name="mistakes", storage=storage, direction="maximize")
    for key in (records.DATA, records.SETTINGS):
        records.set_study_record(study, key, records.study_record(source, key))
    study.set_user_attr(records.ARTIFACT_DIR, str(folder / "tiny_artifacts"))
    study.add_trials(source.trials)
    y_test = dataset.y_test.copy()
    y_test[::2] = (y_test[::2] + 1) % len(dataset.class_names)
    return study, dataclasses.replace(dataset, y_test=y_test)


def stored_study(folder: Path, name: str = "tiny") -> optuna.Study:
    """The study ``name`` of ``folder/<name>.db``, as `run` of ``write_study``'s file left it."""
    return optuna.load_study(study_name=name, storage=f"sqlite:///{folder}/{name}.db")


def ensembled_study(finished_study: Path, tmp_path: Path) -> tuple[optuna.Study, Path]:
    """A copy of the finished study whose ensemble of both its trials is stored and evaluated.

    Its two tiny trials may not beat the best alone on validation, so the choice is recorded
    as if they had (the mechanics after the choice are what the callers test).
    """
    from search.config.study_file import load_config
    from search.data.loading import load_dataset
    from search.engine.ensemble import evaluate_ensemble_on_test
    from search.storage.artifacts import open_artifact_store
    from search.storage.records import EnsembleChoice, store_ensemble_choice
    from search.storage.trials import ensemble_members

    folder = copy_of(finished_study, tmp_path)
    study = stored_study(folder)
    members = ensemble_members(study, 5)
    store_ensemble_choice(study, EnsembleChoice(5, members, [0.5, 0.6], cross_fitted=[0.5, 0.6]))
    store = open_artifact_store(folder / "tiny_artifacts", create=False)
    data = load_dataset(load_config(folder / "tiny.toml").data)
    assert evaluate_ensemble_on_test(study, data, store, 5) is not None
    return study, folder


def states(database: Path) -> dict[str, int]:
    """An SQLite study database's trials by state; none while it or its tables do not exist."""
    if not database.exists():
        return {}
    try:
        with sqlite3.connect(database) as db:
            rows = db.execute("SELECT state, COUNT(*) FROM trials GROUP BY state").fetchall()
    except sqlite3.OperationalError:
        return {}
    return dict(rows)


def training_trials(database: Path) -> int:
    """RUNNING trials that have reported an epoch."""
    with sqlite3.connect(database) as db:
        return db.execute(
            "SELECT COUNT(DISTINCT t.trial_id) FROM trials t JOIN trial_intermediate_values v "
            "ON v.trial_id = t.trial_id WHERE t.state = 'RUNNING'"
        ).fetchone()[0]


class DecidedPruner(optuna.pruners.BasePruner):
    """The pruner's decision, fixed (the optuna-integration tests' way): the objective and the
    study around it are real."""

    def __init__(self, prune: bool) -> None:
        self.decision = prune

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        return self.decision


def distilled_study(finished_study: Path, tmp_path: Path) -> tuple[optuna.Study, Path]:
    """``ensembled_study`` with the student of its ensemble distilled, evaluated and stored."""
    from search.config.study_file import load_config
    from search.data.loading import load_dataset
    from search.engine.distill import distill_student
    from search.storage.artifacts import open_artifact_store
    from search.storage.records import latest_ensemble_evaluation

    study, folder = ensembled_study(finished_study, tmp_path)
    config = load_config(folder / "tiny.toml")
    store = open_artifact_store(folder / "tiny_artifacts", create=False)
    ensemble = latest_ensemble_evaluation(study)
    data = load_dataset(config.data)
    assert distill_student(study, data, store, ensemble, config.distill, 0) is not None
    return study, folder


def accuracy_of(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    """A model's accuracy measured anew, the exact fraction the tool computes and stores."""
    from search.stats import accuracy

    return accuracy(model.predict(x, verbose=0).argmax(axis=1), y)
