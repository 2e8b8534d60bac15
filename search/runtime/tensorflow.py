"""Start a process that trains: native output out of sight, quiet libraries, TensorFlow's threads.

The CLI calls ``hide_native_output`` first thing (unless ``--debug``) and ``quiet_libraries``
after it; every process that trains calls ``start_tensorflow`` before its first op.
"""

from __future__ import annotations

import os
import sys
import warnings


def hide_native_output() -> None:
    """Send what native code writes to file descriptor 2 to /dev/null, for the whole process.

    TensorFlow's C++ writes its start-up lines ("All log messages before absl::InitializeLog()
    is called...", "oneDNN custom operations are on", "Could not find cuda drivers") straight
    to descriptor 2, whatever ``TF_CPP_MIN_LOG_LEVEL`` says, and whenever it starts: during the
    import, and again when a library of its loads later. Hiding them around one import missed
    every other place that imports TensorFlow first. So descriptor 2 points at /dev/null from
    the start of the process on, and Python's ``sys.stderr`` moves onto a copy of the original
    descriptor: everything Python prints (progress, warnings, errors, tracebacks) still shows.
    Processes started later (the worker pool's) inherit the quiet descriptor 2; they talk to
    the parent through pipes. Calling it again changes nothing.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # less for TensorFlow to write at all
    try:
        python_writes_to_2 = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):  # replaced already (pytest's capture, say)
        python_writes_to_2 = False
    try:
        if python_writes_to_2:
            sys.stderr.flush()
            sys.stderr = os.fdopen(
                os.dup(2),
                "w",
                buffering=1,  # line-buffered, as Python's own stderr
                encoding=sys.stderr.encoding,
                errors=sys.stderr.errors,
            )
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:  # no descriptor 2 to begin with: nothing to hide
        pass


def quiet_libraries() -> None:
    """Keep Optuna's per-trial log lines out of our progress."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failures show in our own progress
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def start_tensorflow(threads: int | None = None) -> None:
    """Import TensorFlow (and Keras) with ``threads`` threads per op pool; None keeps its default.

    Thread counts and GPU memory growth can only be set before TensorFlow runs its first op, so a
    worker calls this first.
    """
    if threads is not None:
        os.environ["OMP_NUM_THREADS"] = str(threads)  # for any OpenMP inside oneDNN
    import keras  # noqa: F401 - imports TensorFlow, its backend
    import tensorflow as tf

    # Each trial traces its own step functions; TensorFlow would warn of "retracing" every few.
    tf.get_logger().setLevel("ERROR")
    if threads is not None:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    # By default TensorFlow maps all of a GPU's memory at once; workers that share one (or a
    # run and its evaluation) would starve each other. None on a CPU-only machine.
    for gpu in tf.config.list_physical_devices("GPU"):
        tf.config.experimental.set_memory_growth(gpu, True)
