"""TPE reseeded per trial: the same seed samples alike, new trials sample anew."""

from pathlib import Path

from tests.helpers import stored_study, write_study
from tests.stubs import run_with_instant_trials


def test_same_seed_samples_the_same_parameters(tmp_path: Path, image_folder: Path) -> None:
    sampled = []
    for name in ("first", "second"):  # two studies, their trials sampled as `run` samples them
        run_with_instant_trials(str(write_study(tmp_path, name=name, n_trials=3)))
        sampled.append([t.params for t in stored_study(tmp_path, name).trials])
    assert sampled[0] == sampled[1]
    assert len({tuple(p.values()) for p in sampled[0]}) == 3
