"""load_dataset: the splits of any source, and too few images for one."""

from pathlib import Path

import pytest

from search.config.settings import DataSettings
from search.data.loading import load_dataset
from search.errors import DataError
from tests.helpers import make_idx_folder


def test_too_few_images_for_a_validation_split(tmp_path: Path) -> None:
    folder = make_idx_folder(tmp_path / "idx", n_train=100)
    with pytest.raises(DataError) as error:
        load_dataset(DataSettings("mnist", data_dir=folder, train_samples=10))
    assert str(error.value) == (
        "the validation split of mnist is empty: [data] train_samples = 10 keeps 10 training "
        "images, too few for one of each of its 10 classes in every split; use more images, or "
        "a larger validation_split or test_split"
    )
