"""Where a study keeps its models: a folder, or s3://bucket/prefix."""

from pathlib import Path

import pytest

from search.storage.location import S3Location, parse_artifact_location


def test_a_folder_is_relative_to_the_study_file() -> None:
    assert parse_artifact_location("tiny_artifacts", Path("/studies")) == Path(
        "/studies/tiny_artifacts"
    )
    assert parse_artifact_location("/shared/models", Path("/studies")) == Path("/shared/models")


def test_an_s3_location_is_a_bucket_and_a_prefix() -> None:
    location = parse_artifact_location("s3://models/studies/fashion/", Path("/studies"))
    assert isinstance(location, S3Location)
    assert (location.bucket, location.prefix) == ("models", "studies/fashion")
    assert str(location) == "s3://models/studies/fashion"
    assert location.key("abc") == "studies/fashion/abc"
    assert S3Location("s3://models").key("abc") == "abc"


def test_a_malformed_s3_location_says_how_to_write_it() -> None:
    with pytest.raises(ValueError) as error:
        parse_artifact_location("s3:///prefix", Path("/"))
    assert str(error.value) == '"s3:///prefix" is not an S3 location; write it s3://bucket/prefix'


def test_s3_without_boto3_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "boto3" else find_spec(name)
    )
    with pytest.raises(ValueError) as error:
        parse_artifact_location("s3://models/tiny", Path("/"))
    assert str(error.value) == (
        '"s3://models/tiny" needs the Python package boto3, which is not installed; install it '
        "with: pip install 'lenet-search[s3]'"
    )
