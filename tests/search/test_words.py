"""Counts in words."""

from search.words import plural


def test_one_is_singular_and_every_other_count_plural() -> None:
    assert [plural(n, "trial") for n in (0, 1, 2)] == ["0 trials", "1 trial", "2 trials"]
    assert plural(1, "study", "studies") == "1 study"
    assert plural(3, "study", "studies") == "3 studies"
