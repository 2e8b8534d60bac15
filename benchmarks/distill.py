"""Which temperature and soft-target weight the student learns best with, on finished studies.

    .venv/bin/python benchmarks/distill.py STUDY_FILE [STUDY_FILE ...] [--settings T,W ...]

For each study with an ensemble (``benchmarks/pruners.py --keep DIR`` keeps some) and each
(temperature, soft_weight): a student is distilled from the study's ensemble as `run` distills
it (``engine.distill``, the same seed for every setting, so that only the setting differs), in a
copy of the study's folder, one setting a core at a time. Printed: each student's validation
accuracy with its interval, and its paired difference to the default setting's student and to
the best trial on the same validation images, pooled over the studies. The default is chosen on
validation; the test split is not looked at.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import common
import numpy as np

from search.config.settings import DistillSettings
from search.stats import paired_difference

DEFAULT = (DistillSettings.temperature, DistillSettings.soft_weight)
SETTINGS = [(1.0, 0.7), DEFAULT, (4.0, 0.7), (2.0, 0.5), (2.0, 0.9)]


def one(study_file: Path, temperature: float, soft_weight: float, out: Path) -> None:
    """Distill one student of the study at ``study_file`` (a copy: the student is stored on
    it); save which validation images it and the best trial got right to ``out``."""
    from search.config.study_file import load_config
    from search.data.loading import load_dataset
    from search.engine.distill import distill_student
    from search.runtime.tensorflow import start_tensorflow
    from search.storage import records
    from search.storage.artifacts import load_trial_model, open_artifact_store
    from search.storage.database import load_study, open_storage
    from search.storage.trials import best_trial

    start_tensorflow(threads=1)
    config = load_config(study_file)
    study = load_study(open_storage(config.study.storage, create=False), config.study.name)
    store = open_artifact_store(config.study.artifacts, create=False)
    data = load_dataset(config.data)
    settings = DistillSettings(temperature=temperature, soft_weight=soft_weight)
    ensemble = records.latest_ensemble_evaluation(study)
    student = distill_student(study, data, store, ensemble, settings, config.study.seed)
    if student is None:
        raise SystemExit(f"{study_file}: the study has no ensemble to distill")

    def right(artifact_id: str) -> np.ndarray:
        model = load_trial_model(store, artifact_id)
        return model.predict(data.x_val, batch_size=1024, verbose=0).argmax(1) == data.y_val

    best = best_trial(study).user_attrs[records.ARTIFACT_ID]
    np.savez(out, student=right(student.artifact_id), best=right(best))
    print(json.dumps({"seconds": student.train_seconds, "epoch": student.best_epoch}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study_files", type=Path, nargs="*")
    parser.add_argument(
        "--settings", nargs="+", default=[f"{t},{w}" for t, w in SETTINGS], help="T,W each"
    )
    parser.add_argument("--one", nargs=4, help=argparse.SUPPRESS)  # FILE T W OUT: a worker
    args = parser.parse_args()
    if args.one:
        file, temperature, soft_weight, out = args.one
        one(Path(file), float(temperature), float(soft_weight), Path(out))
        return

    settings = [tuple(float(x) for x in s.split(",")) for s in args.settings]
    if DEFAULT not in settings:
        settings.append(DEFAULT)
    print(f"machine: {common.machine()}; flags: {common.cpu_flags()}")
    with tempfile.TemporaryDirectory() as tmp:
        commands, jobs = [], []
        for s, study_file in enumerate(args.study_files):
            for t, (temperature, soft_weight) in enumerate(settings):
                copy = Path(tmp) / f"{s}-{t}"
                shutil.copytree(study_file.resolve().parent, copy)
                out = Path(tmp) / f"{s}-{t}.npz"
                commands.append(
                    [__file__, "--one", str(copy / study_file.name)]
                    + [str(temperature), str(soft_weight), str(out)]
                )
                jobs.append((study_file, (temperature, soft_weight), out))
        shown: dict[int, str] = {}
        for index, stdout in common.run_pinned(commands):
            shown[index] = stdout.strip()
            study_file, setting, _ = jobs[index]
            print(f"  {study_file} T={setting[0]:g} w={setting[1]:g}: {shown[index]}", flush=True)
        failed = [f"{f} T={st[0]:g} w={st[1]:g}" for f, st, out in jobs if not out.exists()]
        if failed:
            raise SystemExit(f"no student for: {', '.join(failed)} (run it with --one to see why)")
        right = {(f, st): dict(np.load(out)) for f, st, out in jobs}
    print("\nstudents on the validation images (pooled over the studies):")
    files = args.study_files
    for setting in settings:
        student = np.concatenate([right[f, setting]["student"] for f in files])
        default = np.concatenate([right[f, DEFAULT]["student"] for f in files])
        best = np.concatenate([right[f, setting]["best"] for f in files])
        by_study = ", ".join(f"{right[f, setting]['student'].mean():.2%}" for f in files)
        line = f"  T={setting[0]:g} w={setting[1]:g}: "
        line += f"{common.accuracy_text(student.mean(), len(student))}; by study {by_study}"
        for name, other in (("best trial", best), ("default", default)):
            if name == "default" and setting == DEFAULT:
                continue
            mean, low, high = paired_difference(student, other)
            line += (
                f"\n      minus the {name}: {mean:+.2%} (paired 95% CI {low:+.2%} to {high:+.2%})"
            )
        print(line)


if __name__ == "__main__":
    main()
