"""The errors a user can cause. The CLI prints each as one ``Error: ...`` line and exits 2."""


class LenetSearchError(Exception):
    """Base class: a problem with the user's input or environment, not a bug."""


class ConfigError(LenetSearchError):
    """A study file, or a flag overriding it, is invalid."""


class DataError(LenetSearchError):
    """A dataset cannot be found, downloaded or read."""


class StorageError(LenetSearchError):
    """A storage URL, database or study is not what was asked for."""


class DiskFull(StorageError):
    """No space was left where a file or the database had to be written: the run stops,
    finished trials kept."""


class ExportError(LenetSearchError):
    """An export target or an exported model is unusable."""
