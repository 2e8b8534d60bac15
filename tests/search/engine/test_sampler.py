"""TPE reseeded per trial: the same seed samples alike, new trials sample anew."""

from pathlib import Path

from search.config.study_file import load_config
from search.data.loading import load_dataset
from search.engine.runner import run_study
from tests.helpers import write_study


def test_same_seed_samples_the_same_parameters(tmp_path: Path, image_folder: Path) -> None:
    sampled = []
    for name in ("first", "second"):
        config = load_config(write_study(tmp_path, name=name, n_trials=3))
        study = run_study(config, load_dataset(config.data)).study
        sampled.append([t.params for t in study.trials])
    assert sampled[0] == sampled[1]
    assert len({tuple(p.values()) for p in sampled[0]}) == 3
