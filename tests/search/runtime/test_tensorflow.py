"""TensorFlow's native start-up lines never reach the terminal, on any CPU; --debug shows them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, write_study

# absl's and TensorFlow's C++ log lines: "I0000 00:00:1796160231.747721  11616 port.cc:153] ..."
NATIVE_LINE = re.compile(r"^(WARNING: All log messages before absl|[IWEF]\d{4} \d\d:\d\d:)", re.M)


def loud_command(*args: str) -> subprocess.CompletedProcess:
    """The real CLI with TensorFlow as talkative as it gets on any CPU: every C++ log level,
    and oneDNN's custom operations on (they are on by default only on some CPUs)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0", "TF_ENABLE_ONEDNN_OPTS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "search", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


@pytest.mark.slow
def test_commands_that_run_tensorflow_here_print_none_of_its_native_lines(
    tmp_path: Path, image_folder: Path
) -> None:
    # One worker and float32: the trials, the test evaluation, the export and the prediction
    # all run TensorFlow in the command's own process, whatever the CPU.
    study_file = write_study(
        tmp_path,
        training={"precision": "float32"},
    )
    run = loud_command("run", str(study_file), "--quiet")
    assert run.returncode == 0 and run.stderr == "", run.stderr
    output = tmp_path / "exported"
    export = loud_command("export", str(study_file), "--output", str(output))
    assert export.returncode == 0 and export.stderr == "", export.stderr
    image = next((image_folder / "circle").glob("*.png"))
    predict = loud_command("predict", str(output), str(image))
    assert predict.returncode == 0 and predict.stderr == "", predict.stderr
    assert predict.stdout.startswith(f"{image}: ")

    # The same command with --debug shows them: what was hidden was there to hide.
    debug = loud_command("--debug", "predict", str(output), str(image))
    assert debug.returncode == 0
    assert NATIVE_LINE.search(debug.stderr), debug.stderr
    assert debug.stdout == predict.stdout


def test_python_output_still_shows_once_native_output_is_hidden() -> None:
    script = (
        "import sys; from search.runtime.tensorflow import hide_native_output; "
        "hide_native_output(); "
        "import os; os.write(2, b'native\\n'); print('python', file=sys.stderr); "
        "import warnings; warnings.warn('careful')"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0
    assert result.stderr.splitlines()[0] == "python"
    assert "UserWarning: careful" in result.stderr and "native" not in result.stderr
