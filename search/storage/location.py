"""Where a study keeps its trials' models: a folder, or an S3-compatible bucket.

Parsed here, without importing Optuna or boto3, so that a study file is checked at once; the
stores themselves are opened in ``search.storage.artifacts``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

S3_INSTALL = "pip install 'lenet-search[s3]'"


class S3Location:
    """``s3://bucket/prefix``: the models of one study under a key prefix of a bucket.

    The endpoint and credentials come from boto3's usual configuration (``AWS_ENDPOINT_URL``,
    ``AWS_ACCESS_KEY_ID``, ``~/.aws/config``, ...), so any S3-compatible server serves.
    """

    def __init__(self, url: str) -> None:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not url.startswith("s3://") or not bucket:
            raise ValueError(f'"{url}" is not an S3 location; write it s3://bucket/prefix')
        self.bucket, self.prefix = bucket, prefix.strip("/")

    def key(self, artifact_id: str) -> str:
        return f"{self.prefix}/{artifact_id}" if self.prefix else artifact_id

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def __repr__(self) -> str:
        return f"S3Location({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, S3Location) and str(other) == str(self)

    def __hash__(self) -> int:
        return hash(str(self))


ArtifactLocation = Path | S3Location


def parse_artifact_location(text: str, base_dir: Path) -> ArtifactLocation:
    """A folder (relative to ``base_dir``) or an ``s3://`` location.

    Raises:
        ValueError: a malformed s3:// location, or boto3 (which S3 needs) is not installed.
    """
    if not text.startswith("s3://"):
        return base_dir / text
    location = S3Location(text)
    if importlib.util.find_spec("boto3") is None:
        raise ValueError(
            f'"{location}" needs the Python package boto3, which is not installed; install it '
            f"with: {S3_INSTALL}"
        )
    return location
