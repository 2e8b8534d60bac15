"""`lenet-search report`: one HTML page, drawn by a real headless Chromium with no network."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from search.cli.main import main
from search.engine.evaluation import evaluate_best_on_test, load_predictions
from search.storage import records
from search.storage.artifacts import open_artifact_store
from search.storage.records import Repeat, store_repeat, stored_test_evaluation
from search.storage.trials import best_trial
from tests.browser import chromium_path
from tests.helpers import ROOT, copy_of, stored_study, study_with_mistakes

# Optimization history, learning curves, importances, parallel coordinates, accuracy against
# size, confusion matrix, per-class accuracy: what a study with a complete trial shows.
PLOTS = 7
SCREENSHOT_COPY = (
    "LENET_SEARCH_REPORT_SCREENSHOT"  # set to a path to keep a copy (docs/report.png)
)


@pytest.fixture(scope="session")
def browser() -> str:
    """Chromium's path; asked before the other fixtures, so that a skip costs no training."""
    return chromium_path()


def chromium(browser: str, page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    """Open ``page`` headless with every connection refused: a proxy that is not there, for
    loopback too, and no name resolves. Console messages are logged to stderr."""
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )


class _Links(HTMLParser):
    """Every src and href of a page's elements (script bodies are not parsed as elements)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value or "" for name, value in attrs if name in ("src", "href")]


def external_links(text: str) -> list[str]:
    parser = _Links()
    parser.feed(text)
    return [link for link in parser.links if re.match(r"\s*(https?:)?//", link, re.IGNORECASE)]


@pytest.fixture(scope="module")
def mistakes_report(
    finished_study: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, int, int]:
    """The report, through the real command, of a study whose best model got some test images
    wrong (see ``study_with_mistakes``); how many, and of how many."""
    folder = tmp_path_factory.mktemp("mistakes")
    study, dataset = study_with_mistakes(finished_study, folder)
    store = open_artifact_store(folder / "copy" / "tiny_artifacts", create=False)
    evaluation = evaluate_best_on_test(study, dataset, store)
    predictions = load_predictions(store, evaluation.predictions_id)
    result = subprocess.run(
        [sys.executable, "-m", "search", "report", "--storage", f"sqlite:///{folder}/copy/tiny.db"]
        + ["--study-name", "mistakes", "--output", str(folder / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    path = folder / "out" / "report.html"
    assert result.stdout == f'report of study "mistakes" written to {path}\n'
    return path, len(predictions.wrong_index), len(predictions.y_true)


def test_report_draws_every_plot_offline(
    browser: str, mistakes_report: tuple[Path, int, int], tmp_path: Path
) -> None:
    page, wrong, n = mistakes_report
    assert n // 2 <= wrong <= n  # every other label was changed
    text = page.read_text()
    assert external_links(text) == []
    assert text.count("* plotly.js v") == 1  # embedded once, for every figure
    assert text.count("<script>") == 2 + PLOTS  # the self-check, plotly.js, one per figure

    screenshot = tmp_path / "report.png"
    window = "--window-size=1280,5000"  # the whole page, for a person to look at
    result = chromium(
        browser, page, tmp_path / "profile", "--dump-dom", f"--screenshot={screenshot}", window
    )
    assert result.returncode == 0, result.stderr[-3000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    dom = result.stdout
    found = re.search(r'<pre id="report-check"[^>]*>(.*?)</pre>', dom, re.DOTALL)
    assert found and found.group(1), "the page's self-check never ran"
    check = json.loads(html.unescape(found.group(1)))
    assert check == {
        "plots": PLOTS,
        "drawn": PLOTS,
        "images": wrong,
        "loaded": wrong,
        "errors": [],
    }
    assert f'data-plots="{PLOTS}"' in dom and f'data-images="{wrong}"' in dom
    assert external_links(dom) == []  # nor did plotly add any while drawing
    assert f"all {wrong} wrong predictions" in dom
    assert f"test accuracy <b>{(n - wrong) / n:.4f}</b> ({n - wrong} of {n} images)" in dom

    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get(SCREENSHOT_COPY):  # `LENET_SEARCH_REPORT_SCREENSHOT=docs/report.png pytest`
        shutil.copyfile(screenshot, ROOT / os.environ[SCREENSHOT_COPY])


def test_report_of_a_study_file(
    finished_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["report", str(finished_study / "tiny.toml"), "--output", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f'report of study "tiny" written to {tmp_path}/report.html\n'
    text = (tmp_path / "report.html").read_text()
    assert f'data-plots="{PLOTS}"' in text
    study = stored_study(finished_study)
    evaluation = stored_test_evaluation(study, best_trial(study).number)
    store = open_artifact_store(finished_study / "tiny_artifacts", create=False)
    wrong = len(load_predictions(store, evaluation.predictions_id).wrong_index)
    assert f'data-images="{wrong}"' in text
    if wrong == 0:
        assert "The model classified every test image correctly." in text
    train = records.study_record(study, records.DATA)["sizes"]["train"]
    for shown in ("tiny.db", "2 (2 complete)", "circle, horizontal, vertical", f"{train} train"):
        assert shown in text


def test_default_output_is_beside_the_study_file_or_here(
    finished_study: Path, tmp_path: Path
) -> None:
    folder = copy_of(finished_study, tmp_path)
    here = tmp_path / "here"
    here.mkdir()
    url = f"sqlite:///{folder}/tiny.db"
    for args, written in (
        ([str(folder / "tiny.toml")], folder / "tiny_report" / "report.html"),
        (["--storage", url, "--study-name", "tiny"], Path("tiny_report") / "report.html"),
    ):
        script = (
            "import sys; from search.cli.main import main; "
            f"code = main(['report', *{args!r}]); "
            "assert 'tensorflow' not in sys.modules, 'report imported TensorFlow'; sys.exit(code)"
        )
        result = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            cwd=here,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == f'report of study "tiny" written to {written}\n'
        assert (here / written).is_file()  # `here / absolute` is the absolute path itself


def test_the_report_shows_what_best_repeat_measured(finished_study: Path, tmp_path: Path) -> None:
    folder = copy_of(finished_study, tmp_path)
    study = stored_study(folder)
    store_repeat(study, Repeat(best_trial(study).number, [11, 12], [0.875, 0.925]))
    assert main(["report", str(folder / "tiny.toml"), "--output", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "report.html").read_text()
    assert "best trial, other seeds" in text
    assert "0.9000 ± 0.0354 validation accuracy over 2 seeds" in text
