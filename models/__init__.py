"""The LeNet builder: architecture parameters in, a Keras model out. Knows nothing of Optuna."""

from models.architecture import LeNetArchitecture, count_params, forward_flops

__all__ = ["LeNetArchitecture", "build_lenet", "count_params", "forward_flops"]


def __getattr__(name: str):  # noqa: ANN202 - module-level lazy attribute
    # build_lenet needs Keras (and so TensorFlow); import it only when asked, so that commands
    # which never train answer at once.
    if name == "build_lenet":
        from models.lenet import build_lenet

        return build_lenet
    raise AttributeError(f"module 'models' has no attribute {name!r}")
