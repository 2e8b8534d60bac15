"""The config stored on a study (for `worker`), read back, and compared on resume."""

from pathlib import Path

from search.config.record import config_from_record, config_record
from search.config.study_file import load_config
from tests.helpers import write_study


def test_the_recorded_config_comes_back_and_workers_override_only_workers(
    tmp_path: Path, image_folder: Path
) -> None:
    config = load_config(
        write_study(tmp_path, run={"trials_per_worker": 7, "trial_pictures": False})
    )
    record = config_record(config)
    back = config_from_record(record, name="tiny", storage=config.study.storage)
    assert back.run == config.run and back.search_space == config.search_space
    assert back.study.artifacts == config.study.artifacts
    flagged = config_from_record(record, name="tiny", storage="sqlite:///x.db", workers="3")
    assert (flagged.run.workers, flagged.run.trials_per_worker) == (3, 7)
    assert flagged.run.trial_pictures is False


def test_names_and_the_flips_setting_come_back_as_written(
    tmp_path: Path, image_folder: Path
) -> None:
    # What a `worker` reads: string choices as a tuple of names, [data] flips with the data.
    config = load_config(
        write_study(
            tmp_path,
            data={"flips": True},
            search_space={"lr_schedule": {"choices": ["cosine", "one_cycle"]}, "flip": 1},
        )
    )
    back = config_from_record(config_record(config), name="tiny", storage=config.study.storage)
    assert back.search_space == config.search_space
    assert back.data == config.data and back.data.flips is True
