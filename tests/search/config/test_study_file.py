"""Study files read into one validated StudyConfig; every bad key an exact error."""

from pathlib import Path

import pytest

from search.config.study_file import load_config
from search.errors import ConfigError
from search.space.hyperparameters import HYPERPARAMETERS
from search.space.ranges import Choices, Fixed, FloatRange, IntRange
from tests.helpers import ROOT, write_study


def test_study_file_is_read_with_defaults_and_resolved_paths(study_file: Path) -> None:
    config = load_config(study_file)
    folder = study_file.parent.resolve()
    assert config.study.name == "tiny"
    assert config.study.storage == f"sqlite:///{folder}/tiny.db"
    assert config.study.artifacts == folder / "tiny_artifacts"
    assert (config.study.n_trials, config.study.timeout, config.study.seed) == (2, None, 0)
    assert config.data.dataset == "images"
    assert config.data.image_dir == folder / "shapes"
    assert (config.data.image_size, config.data.color_mode) == (28, "grayscale")
    assert config.search_space == {
        "conv1_channels": IntRange(2, 8, log=True),
        "conv2_channels": IntRange(2, 8, log=True),
        "dense_units": IntRange(4, 16),
        "dropout_conv": Fixed(0.0),
        "dropout_dense": Fixed(0.0),
        "batch_norm": Fixed(0),
        "epochs": IntRange(1, 3),
        "batch_size": Fixed(16),
        "learning_rate": Fixed(0.01),
        "lr_schedule": Fixed("constant"),
        "shift": Fixed(0),
        "flip": Fixed(0),
    }
    assert config.training.precision == "auto"
    assert config.run.workers == 1


def test_shipped_study_files_are_valid() -> None:
    studies = ROOT / "studies"
    names = sorted(p.stem for p in studies.glob("*.toml"))
    assert {"quickstart", "mnist", "fashion_mnist"} <= set(names)
    for name in names:
        assert load_config(studies / f"{name}.toml").study.name == name


def test_flags_override_the_file(study_file: Path) -> None:
    config = load_config(study_file, n_trials=7, timeout=30, seed=5, workers="3")
    assert (config.study.n_trials, config.study.timeout, config.study.seed) == (7, 30, 5)
    assert config.run.workers == 3
    assert load_config(study_file, workers="auto").run.workers is None


def test_dropout_and_precision_are_opt_in_keys(tmp_path: Path, image_folder) -> None:
    path = write_study(
        tmp_path,
        training={"precision": "mixed_bfloat16"},
        search_space={"dropout_conv": {"low": 0.0, "high": 0.5}, "dropout_dense": 0.4},
        run={"workers": "auto"},
    )
    config = load_config(path)
    assert config.search_space["dropout_conv"] == FloatRange(0.0, 0.5)
    assert config.search_space["dropout_dense"] == Fixed(0.4)
    assert config.training.precision == "mixed_bfloat16"
    assert config.run.workers is None


def test_recipes_are_opt_in_and_names_are_searched_or_fixed(tmp_path: Path, image_folder) -> None:
    path = write_study(
        tmp_path,
        data={"flips": True},
        search_space={
            "batch_norm": {"choices": [0, 1]},
            "lr_schedule": {"choices": ["cosine", "one_cycle"]},
            "shift": {"low": 0, "high": 3},
            "flip": 1,
        },
    )
    config = load_config(path)
    assert config.data.flips is True
    assert config.search_space["batch_norm"] == Choices((0, 1))
    assert config.search_space["lr_schedule"] == Choices(("cosine", "one_cycle"))
    assert config.search_space["shift"] == IntRange(0, 3)
    assert config.search_space["flip"] == Fixed(1)
    fixed = write_study(tmp_path, search_space={"lr_schedule": "one_cycle", "flip": 0})
    assert load_config(fixed).search_space["lr_schedule"] == Fixed("one_cycle")
    assert load_config(fixed).data.flips is False


def test_optional_search_dimensions_and_relative_storage(tmp_path: Path, image_folder) -> None:
    path = write_study(
        tmp_path,
        study={"storage": "sqlite:///dbs/s.db"},
        training={"batch_size": None, "learning_rate": None},
        search_space={
            "epochs": 2,
            "batch_size": {"choices": [8, 16]},
            "learning_rate": {"low": 1e-4, "high": 1e-2, "log": True},
        },
    )
    config = load_config(path)
    assert config.study.storage == f"sqlite:///{tmp_path.resolve()}/dbs/s.db"
    assert config.search_space["epochs"] == Fixed(2)
    assert config.search_space["batch_size"] == Choices((8, 16))
    assert config.search_space["learning_rate"] == FloatRange(1e-4, 1e-2, log=True)


def test_silent_file_takes_the_tutorials_values(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[data]\ndataset = "mnist"\n')
    config = load_config(path)
    values = {name: param.value for name, param in config.search_space.items()}
    assert values == {hp.name: hp.default for hp in HYPERPARAMETERS}  # the tutorial's
    assert config.study.name == "s"
    assert (config.training.precision, config.run.workers) == ("auto", None)
    assert config.pruner.kind == "median" and config.sampler.n_startup_trials == 5
    # The warm-up is "auto" and a trial is pruned only outside the validation split's noise.
    assert (config.pruner.n_warmup_steps, config.pruner.noise_margin) == (None, 1.645)
    assert config.pruner.used()["n_warmup_steps"] == "auto"
    assert config.data.folds is None  # "auto": folds where the validation split is thin


@pytest.mark.parametrize(("written", "folds"), [('"auto"', None), ("3", 3), ("1", 1)])
def test_folds_are_a_number_or_auto(tmp_path: Path, written: str, folds: int | None) -> None:
    path = tmp_path / "s.toml"
    path.write_text(f'[data]\ndataset = "mnist"\nfolds = {written}\n')
    assert load_config(path).data.folds == folds


def test_auto_warmup_may_be_written_out(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[data]\ndataset = "mnist"\n[pruner]\nn_warmup_steps = "auto"\n')
    assert load_config(path).pruner.n_warmup_steps is None


# Each bad study file: (what write_study changes, the exact message after "<file>: ").
BAD_STUDIES = [
    (
        {"run": {"trials_per_worker": 0}},
        "[run] trials_per_worker must be a positive integer, got 0",
    ),
    (
        {"run": {"trial_pictures": "no"}},
        '[run] trial_pictures must be true or false, got "no"',
    ),
    ({"study": {"n_trials": 0}}, "[study] n_trials must be a positive integer, got 0"),
    (
        {"study": {"artifacts": "s3:///models"}},
        '[study] artifacts: "s3:///models" is not an S3 location; write it s3://bucket/prefix',
    ),
    ({"study": {"n_trials": "2"}}, '[study] n_trials must be an integer, got "2"'),
    (
        {"data": {"validation_split": 1.5}},
        "[data] validation_split must be between 0 and 1 (exclusive), got 1.5",
    ),
    (
        {"study": {"seeed": 1}},
        "[study] seeed is not a known key; known: artifacts, grace_period, heartbeat_interval, "
        "n_trials, name, seed, storage, timeout, warm_start, warm_start_trials",
    ),
    (
        {"study": {"seed": 4294967296}},
        "[study] seed must be at most 4294967295, got 4294967296",
    ),
    (
        {"study": {"heartbeat_interval": 10, "grace_period": 10}},
        "[study] grace_period must be longer than heartbeat_interval (10 s), got 10",
    ),
    (
        {"pruner": None, "prunner": {"kind": "none"}},
        "[prunner] is not a known section; "
        "known: data, distill, ensemble, pruner, run, sampler, search_space, study, training",
    ),
    (
        {"search_space": {"dense_units": {"low": 16, "high": 4}}},
        "[search_space] dense_units is an empty range: low = 16 > high = 4",
    ),
    (
        {"search_space": {"epochs": {"low": 1.5, "high": 3}}},
        "[search_space.epochs] low must be an integer, got 1.5",
    ),
    (
        {"search_space": {"epochs": {"low": 0, "high": 3}}},
        "[search_space] epochs takes positive integers, got 0",
    ),
    (
        {"search_space": {"epochs": {"low": 1, "hi": 3}}},
        "[search_space] epochs must be a number, { low = ..., high = ..., log = ... } "
        "or { choices = [...] }, got { low = 1, hi = 3 }",
    ),
    (
        {"search_space": {"epochs": {"choices": []}}},
        "[search_space] epochs: choices must not be empty",
    ),
    (
        {"search_space": {"epochs": None, "dropout": 0.5}},
        "[search_space] dropout is not a known key; known: conv1_channels, conv2_channels, "
        "dense_units, dropout_conv, dropout_dense, batch_norm, epochs, batch_size, "
        "learning_rate, lr_schedule, shift, flip, max_params, max_mflops",
    ),
    (
        {"search_space": {"lr_schedule": "linear"}},
        '[search_space] lr_schedule takes one of "constant", "cosine", "one_cycle", got "linear"',
    ),
    (
        {"search_space": {"lr_schedule": {"choices": ["cosine", 1]}}},
        '[search_space] lr_schedule takes one of "constant", "cosine", "one_cycle", got 1',
    ),
    (
        {"search_space": {"lr_schedule": {"low": "constant", "high": "cosine"}}},
        "[search_space] lr_schedule takes a name or { choices = [...] } of names, each one of "
        '"constant", "cosine", "one_cycle"; names have no low and high, '
        'got { low = "constant", high = "cosine" }',
    ),
    (
        {"search_space": {"batch_norm": {"choices": [0, 2]}}},
        "[search_space] batch_norm takes 0 (off) or 1 (on), got 2",
    ),
    (
        {"search_space": {"shift": -1}},
        "[search_space] shift takes integers from 0 up, got -1",
    ),
    (
        {"search_space": {"flip": 1}},
        "[search_space] flip = 1 mirrors training images, but [data] flips is not true: set "
        "flips = true in [data] if a mirrored image keeps its class, or flip = 0",
    ),
    (
        {"search_space": {"flip": {"choices": [0, 1]}}, "data": {"flips": False}},
        "[search_space] flip = { choices = [0, 1] } mirrors training images, but [data] flips "
        "is not true: set flips = true in [data] if a mirrored image keeps its class, or "
        "flip = 0",
    ),
    (
        {"data": {"dataset": "mnist", "test_split": None, "flips": True}},
        "[data] flips = true does not suit mnist: digits are not mirror images of themselves "
        "(a mirrored 2 is no digit); leave it false",
    ),
    (
        {"data": {"flips": "yes"}},
        '[data] flips must be true or false, got "yes"',
    ),
    (
        {"search_space": {"max_params": 0}},
        "[search_space] max_params must be a positive integer, got 0",
    ),
    (
        {"search_space": {"max_mflops": -1}},
        "[search_space] max_mflops must be a positive number, got -1.0",
    ),
    (
        {"search_space": {"dropout_dense": {"low": 0.2, "high": 1.0}}},
        "[search_space] dropout_dense takes numbers from 0 up to, not including, 1, got 1.0",
    ),
    (
        {"search_space": {"dropout_conv": -0.1}},
        "[search_space] dropout_conv takes numbers from 0 up to, not including, 1, got -0.1",
    ),
    (
        {"search_space": {"dropout_conv": {"low": 0.0, "high": 0.5, "log": True}}},
        "[search_space] dropout_conv: a log range needs low > 0, got low = 0.0",
    ),
    (
        {"training": {"precision": 16}},
        "[training] precision must be a string, got 16",
    ),
    (
        {"training": {"precision": "bfloat16"}},
        '[training] precision = "bfloat16" is not one of "auto", "float32", "mixed_bfloat16"',
    ),
    (
        {"training": {"learning_rate": 0}},
        "[training] learning_rate takes positive numbers, got 0",
    ),
    (
        {"run": {"workers": 0}},
        '[run] workers must be a positive integer or "auto", got 0',
    ),
    (
        {"data": {"folds": 0}},
        '[data] folds must be a positive integer or "auto", got 0',
    ),
    (
        {"data": {"folds": 2.5}},
        '[data] folds must be a positive integer or "auto", got 2.5',
    ),
    (
        {"run": {"workers": "all"}},
        '[run] workers must be a positive integer or "auto", got "all"',
    ),
    (
        {"run": {"threads": 2}},
        (
            "[run] threads is not a known key; known: trials_per_worker, workers, "
            "trial_pictures, storage_retry_seconds"
        ),
    ),
    (
        {"pruner": {"kind": "random"}},
        '[pruner] kind = "random" is not one of "median", "successive_halving", "hyperband", '
        '"none"',
    ),
    (
        {"pruner": {"kind": "hyperband", "n_warmup_steps": 2}},
        '[pruner] n_warmup_steps does not apply to kind = "hyperband"; '
        "its keys: kind, min_resource, reduction_factor",
    ),
    (
        {"sampler": {"n_startup_trials": -1}},
        "[sampler] n_startup_trials must be a non-negative integer, got -1",
    ),
    (
        {"pruner": {"kind": "median", "n_warmup_steps": -1}},
        '[pruner] n_warmup_steps must be a non-negative integer or "auto", got -1',
    ),
    (
        {"pruner": {"kind": "median", "n_warmup_steps": "soon"}},
        '[pruner] n_warmup_steps must be a non-negative integer or "auto", got "soon"',
    ),
    (
        {"pruner": {"kind": "median", "noise_margin": -1}},
        "[pruner] noise_margin must be 0 or more (0 prunes on any gap), got -1",
    ),
    (
        {"pruner": {"kind": "hyperband", "noise_margin": 1}},
        '[pruner] noise_margin does not apply to kind = "hyperband"; '
        "its keys: kind, min_resource, reduction_factor",
    ),
    (
        {"search_space": {"learning_rate": {"low": 0.001, "high": 0.1}}},
        "[search_space] learning_rate is also set in [training]; keep it in one of the two",
    ),
    (
        {"data": {"dataset": "mnist"}},
        "[data] test_split applies only to image folders, not mnist",
    ),
    (
        {"data": {"test_split": None, "color_mode": "cmyk"}},
        '[data] color_mode = "cmyk" is not one of "grayscale", "rgb"',
    ),
    (
        {"ensemble": {"size": 1}},
        "[ensemble] size must be 0 (no ensemble) or at least 2 trials, got 1 (the best trial "
        "alone is the single best model)",
    ),
    (
        {"ensemble": {"size": -2}},
        "[ensemble] size must be a non-negative integer, got -2",
    ),
    (
        {"distill": {"temperature": 0.5}},
        "[distill] temperature must be a number of at least 1, got 0.5",
    ),
    (
        {"distill": {"soft_weight": 1.5}},
        "[distill] soft_weight must be a number from 0 to 1, got 1.5",
    ),
    (
        {"distill": {"epochs": 0}},
        "[distill] epochs must be a positive integer, got 0",
    ),
    (
        {"distill": {"alpha": 0.5}},
        "[distill] alpha is not a known key; known: enabled, epochs, soft_weight, temperature",
    ),
    (
        {"study": {"storage": "not a url"}},
        '[study] storage: "not a url" is not a database URL; use sqlite:///path/to/file.db, '
        "postgresql://user:password@host/database, or grpc://host:port for a "
        "`lenet-search storage-proxy`",
    ),
]


@pytest.mark.parametrize(("sections", "message"), BAD_STUDIES)
def test_bad_study_file_names_file_key_and_value(
    tmp_path: Path, image_folder, sections: dict, message: str
) -> None:
    path = write_study(tmp_path, **sections)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == f"{path}: {message}"


def test_unknown_dataset(tmp_path: Path) -> None:
    path = write_study(tmp_path, data={"dataset": "cifar"})
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == (
        f'{path}: [data] dataset = "cifar" is not a known dataset nor an existing folder '
        f'({tmp_path.resolve()}/cifar); use "mnist", "fashion_mnist" or the path of an image '
        "folder (one sub-folder a class)"
    )


def test_missing_and_non_toml_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="^study file not found: .*nope.toml$"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[study\nname = 1")
    with pytest.raises(ConfigError) as error:
        load_config(bad)
    assert str(error.value).startswith(f"{bad} is not valid TOML: ")


def test_bad_flag_values(study_file: Path) -> None:
    with pytest.raises(ConfigError, match="^--n-trials must be a positive integer, got 0$"):
        load_config(study_file, n_trials=0)
    with pytest.raises(ConfigError) as error:
        load_config(study_file, seed=-1)
    assert str(error.value) == "--seed must be an integer from 0 to 4294967295, got -1"
    with pytest.raises(ConfigError) as error:
        load_config(study_file, seed=2**32)
    assert str(error.value) == "--seed must be an integer from 0 to 4294967295, got 4294967296"
    with pytest.raises(ConfigError, match="^--timeout must be a positive number of seconds, got"):
        load_config(study_file, timeout=float("nan"))
    with pytest.raises(ConfigError) as error:
        load_config(study_file, workers="-2")
    assert str(error.value) == '--workers must be a positive integer or "auto", got -2'
    with pytest.raises(ConfigError) as error:
        load_config(study_file, workers="many")
    assert str(error.value) == '--workers must be a positive integer or "auto", got "many"'


def test_a_timeout_without_n_trials_is_the_budget(tmp_path: Path, image_folder) -> None:
    def n_trials(study: dict, **flags) -> int | None:
        return load_config(write_study(tmp_path, study=study), **flags).study.n_trials

    assert n_trials({"n_trials": None, "timeout": 60}) is None  # runs until the timeout
    assert n_trials({"n_trials": 7, "timeout": 60}) == 7  # whichever comes first
    assert n_trials({"n_trials": None}) == 10  # neither: the default
    assert n_trials({"n_trials": None}, timeout=60) is None  # --timeout is the budget too
    assert n_trials({"n_trials": None, "timeout": 60}, n_trials=3) == 3


def test_a_size_budget_is_read_beside_the_search_space(tmp_path: Path, image_folder) -> None:
    config = load_config(
        write_study(tmp_path, search_space={"max_params": 50_000, "max_mflops": 1.5})
    )
    assert (config.budget.max_params, config.budget.max_mflops) == (50_000, 1.5)
    assert "max_params" not in config.search_space
    assert config.budget.excess(60_000, 1_000_000) == "60,000 parameters, over max_params = 50,000"
    assert config.budget.excess(40_000, 2_000_000) == "2 MFLOPs, over max_mflops = 1.5"
    assert config.budget.excess(40_000, 1_000_000) is None
