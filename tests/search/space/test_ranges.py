"""A study file's ranges as people read them, as the file writes them, and their largest value."""

from search.space.ranges import (
    Choices,
    Fixed,
    FloatRange,
    IntRange,
    configurations,
    describe,
    from_toml,
    largest,
    repetition_warning,
)


def test_each_kind_is_described_once_for_the_note_and_the_report() -> None:
    assert describe(IntRange(2, 8, log=True)) == "2 to 8, log scale"
    assert describe(FloatRange(0.0, 0.5)) == "0.0 to 0.5"
    assert describe(Choices((8, 16))) == "one of 8, 16"
    assert describe(Fixed(32)) == "32 (fixed)"
    assert describe(Choices(("constant", "cosine"))) == 'one of "constant", "cosine"'
    assert describe(Fixed("cosine")) == "cosine (fixed)"


def test_a_range_as_the_study_file_writes_it() -> None:
    assert from_toml({"low": 2, "high": 8, "log": True}) == IntRange(2, 8, log=True)
    assert from_toml({"low": 1e-4, "high": 1e-2}) == FloatRange(1e-4, 1e-2)
    assert from_toml({"choices": [8, 16]}) == Choices((8, 16))
    assert from_toml({"choices": ["cosine"]}) == Choices(("cosine",))
    for other in (32, "a", {"low": 1}, {"kind": "median"}, {"low": 1, "high": 2, "step": 1}):
        assert from_toml(other) is None


def test_largest_is_the_pruners_maximum_resource() -> None:
    assert largest(IntRange(1, 12)) == 12
    assert largest(Choices((3, 10, 5))) == 10
    assert largest(Fixed(4)) == 4


def test_a_space_that_must_repeat_configurations_says_so() -> None:
    fixed = {"conv1_channels": Fixed(8), "epochs": Fixed(2)}
    assert configurations(fixed) == 1
    assert repetition_warning(fixed, 10) == (
        "[search_space] searches nothing (every hyperparameter is fixed): each trial trains "
        "the same network, with a seed of its own"
    )
    small = {"conv1_channels": IntRange(8, 9), "dense_units": Choices((16, 32, 16))}
    assert configurations(small) == 4
    assert repetition_warning(small, 10) == (
        "[search_space] holds 4 configurations, fewer than the 10 trials: some will be trained "
        "again, each time with a seed of its own"
    )
    assert repetition_warning(small, 4) is None and repetition_warning(small, None) is None
    assert configurations({"learning_rate": FloatRange(1e-4, 1e-2)}) is None
    names = {"lr_schedule": Choices(("constant", "cosine")), "flip": Choices((0, 1))}
    assert configurations(names) == 4
