"""Start a process that trains: quiet libraries, TensorFlow's thread counts, its start-up lines.

The parent of ``run`` and every worker process call these before anything trains.
"""

from __future__ import annotations

import os
import sys
import warnings


def quiet_libraries() -> None:
    """Keep TensorFlow's C++ chatter and Optuna's per-trial log lines out of our progress."""
    # Level 3 also hides "failed call to cuInit" on CPU machines. Spawned workers inherit it.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failures show in our own progress
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def start_tensorflow(threads: int | None = None, *, show_logs: bool = False) -> None:
    """Import TensorFlow (and Keras) with ``threads`` threads per op pool; None keeps its default.

    Thread counts can only be set before TensorFlow runs its first op, so a worker calls this
    first. TensorFlow's start-up lines bypass ``TF_CPP_MIN_LOG_LEVEL``: they are written to file
    descriptor 2 by C++ before logging is set up, so the descriptor itself points at /dev/null
    during the import (Python errors still show: they are raised, and printed after it is back).
    ``show_logs`` shows everything (``--debug``).
    """
    if threads is not None:
        os.environ["OMP_NUM_THREADS"] = str(threads)  # for any OpenMP inside oneDNN
    if "tensorflow" not in sys.modules:
        if show_logs:
            import keras  # noqa: F401 - imports TensorFlow, its backend
        else:
            sys.stderr.flush()
            saved = os.dup(2)
            try:
                with open(os.devnull, "w") as devnull:
                    os.dup2(devnull.fileno(), 2)
                    import keras  # noqa: F401
            finally:
                os.dup2(saved, 2)
                os.close(saved)
    import tensorflow as tf

    # Each trial traces its own step functions; TensorFlow would warn of "retracing" every few.
    tf.get_logger().setLevel("ERROR")
    if threads is not None:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
