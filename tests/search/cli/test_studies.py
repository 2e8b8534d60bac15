"""`studies`: list the studies of a storage, and delete one with its artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest

from search.cli.main import main
from search.storage.artifacts import OWNER_FILE
from search.storage.trials import best_trial
from tests.helpers import copy_of, error_of


def test_list_shows_counts_and_best_value(finished_study: Path, capsys, monkeypatch) -> None:
    url = f"sqlite:///{finished_study}/tiny.db"
    optuna.create_study(study_name="empty", storage=url)
    try:
        assert main(["studies", "--storage", url]) == 0
        lines = capsys.readouterr().out.splitlines()
        study = optuna.load_study(study_name="tiny", storage=url)
        assert lines[0].split() == [
            "study", "trials", "complete", "pruned", "over", "budget", "failed", "best", "val_acc",
            "storage",
        ]  # fmt: skip
        assert lines[1].split()[:6] == ["tiny", "2", "2", "0", "0", "0"]
        assert f"{best_trial(study).value:.4f} (trial {best_trial(study).number})" in lines[1]
        assert lines[2].split()[:7] == ["empty", "0", "0", "0", "0", "0", "-"]
        assert main(["studies", "--storage", url, "--format", "json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert [(r["name"], r["complete"], r["best_value"]) for r in rows] == [
            ("tiny", 2, best_trial(study).value),
            ("empty", 0, None),
        ]
        # Without --storage: every database in studies/ under the current folder.
        (finished_study / "studies").mkdir(exist_ok=True)
        monkeypatch.chdir(finished_study)
        assert main(["studies"]) == 2
        assert capsys.readouterr().err == (
            "Error: no databases in studies/ here; name a study file or pass --storage URL\n"
        )
    finally:
        optuna.delete_study(study_name="empty", storage=url)


def test_delete_removes_the_trials_and_every_artifact(
    finished_study: Path, tmp_path: Path, capsys
) -> None:
    folder = copy_of(finished_study, tmp_path)
    url = f"sqlite:///{folder}/tiny.db"
    artifacts = folder / "tiny_artifacts"
    files = [p for p in artifacts.rglob("*") if p.is_file() and p.name != OWNER_FILE]
    assert files  # the models (and whatever else the trials uploaded)
    # The copied database records the original's artifact folder: --artifacts names the copy's.
    # Not on a terminal and without --yes: refused, nothing touched.
    assert (
        main(
            [
                "studies",
                "delete",
                "--storage",
                url,
                "--study-name",
                "tiny",
                "--artifacts",
                str(folder / "tiny_artifacts"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err == (
        f'Error: not deleting study "tiny" (2 trials) from {url} and {len(files)} artifacts in '
        f"{artifacts} without --yes (standard input is not a terminal to ask)\n"
    )
    assert optuna.load_study(study_name="tiny", storage=url).trials
    assert (
        main(
            [
                "studies",
                "delete",
                "--storage",
                url,
                "--study-name",
                "tiny",
                "--artifacts",
                str(folder / "tiny_artifacts"),
                "--yes",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out == (
        f'deleted study "tiny" from {url}, and {len(files)} artifacts in {artifacts}\n'
        f"{folder / 'tiny.db'} held no other study: removed it, and its lock\n"
    )
    assert not artifacts.exists()
    assert not (folder / "tiny.db").exists() and not (folder / "tiny.db.lock").exists()


def test_delete_leaves_a_store_that_another_study_claimed(
    finished_study: Path, tmp_path: Path, capsys
) -> None:
    folder = copy_of(finished_study, tmp_path)
    url = f"sqlite:///{folder}/tiny.db"
    owner = folder / "tiny_artifacts" / OWNER_FILE
    owner.write_text(json.dumps({"study": "other", "uid": "0" * 32}))
    assert (
        main(
            [
                "studies",
                "delete",
                "--storage",
                url,
                "--study-name",
                "tiny",
                "--artifacts",
                str(folder / "tiny_artifacts"),
                "--yes",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out == (
        f'deleted study "tiny" from {url}, and no artifacts (the store does not belong to '
        "this study)\n"
        f"{folder / 'tiny.db'} held no other study: removed it, and its lock\n"
    )
    assert owner.exists() and len(list((folder / "tiny_artifacts").rglob("*"))) > 1


def test_delete_of_a_missing_study(finished_study: Path, capsys) -> None:
    url = f"sqlite:///{finished_study}/tiny.db"
    assert main(["studies", "delete", "--storage", url, "--study-name", "nope", "--yes"]) == 2
    assert capsys.readouterr().err == f'Error: no study "nope" in {url}\n'


@pytest.mark.parametrize("answer, deleted", [("n", False), ("yes", True)])
def test_delete_asks_on_a_terminal(
    finished_study: Path, tmp_path: Path, capsys, monkeypatch, answer: str, deleted: bool
) -> None:
    folder = copy_of(finished_study, tmp_path)
    url = f"sqlite:///{folder}/tiny.db"
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    asked = []
    monkeypatch.setattr("builtins.input", lambda question: asked.append(question) or answer)
    code = main(["studies", "delete", str(folder / "tiny.toml"), "--debug"])
    assert asked[0].startswith('Delete study "tiny" (2 trials) from ') and asked[0].endswith(
        "? [y/N] "
    )
    assert (code, (folder / "tiny.db").exists()) == ((0, False) if deleted else (1, True))
    if not deleted:
        assert capsys.readouterr().err == "Nothing deleted.\n"
        assert optuna.get_all_study_names(url) == ["tiny"]


def test_a_study_file_names_the_storage_to_list(finished_study: Path, tmp_path, capsys) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert main(["studies", str(finished_study / "tiny.toml"), "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    study = optuna.load_study(study_name="tiny", storage=f"sqlite:///{finished_study}/tiny.db")
    assert row == {
        "storage": f"sqlite:///{finished_study}/tiny.db",  # slashes as they are
        "name": "tiny",
        "trials": 2,
        "complete": 2,
        "pruned": 0,
        "over_budget": 0,
        "failed": 0,
        "best_trial": best_trial(study).number,
        "best_value": best_trial(study).value,  # to the last digit
    }


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["studies", "a.toml", "b.toml"], "give one study file, got 2: a.toml b.toml"),
        (["studies", "--yes"], "--yes goes with `studies delete`"),
        (["studies", "--study-name", "x"], "--study-name goes with `studies delete`"),
        (
            ["studies", "delete", "--yes"],
            "studies delete needs a study file, or --study-name NAME (with --storage URL, or in "
            "studies/*.db here)",
        ),
        (
            ["studies", "x.toml", "--storage", "sqlite:///x.db"],
            "give a study file or --storage, not both",
        ),
        (
            ["studies", "delete", "x.toml", "--study-name", "y"],
            "x.toml names its study; --study-name goes with --storage (or studies/*.db)",
        ),
    ],
)
def test_studies_refuses_what_it_cannot_mean(argv: list, message: str, capsys) -> None:
    assert error_of(capsys, *argv) == message
