"""The LeNet builder: architecture parameters in, a Keras model out. Knows nothing of Optuna."""

from models.architecture import LeNetArchitecture, count_params, forward_flops

__all__ = [
    "LeNetArchitecture",
    "build_ensemble",
    "build_lenet",
    "count_params",
    "forward_flops",
    "trained_network",
]

# The builders need Keras (and so TensorFlow); they are imported only when asked for, so that
# commands which never train answer at once.
_LAZY = {
    "build_lenet": "models.lenet",
    "trained_network": "models.lenet",
    "build_ensemble": "models.ensemble",
}


def __getattr__(name: str):  # noqa: ANN202 - module-level lazy attribute
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'models' has no attribute {name!r}")
