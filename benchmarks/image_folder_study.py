"""Another dataset for the measurements that should not rest on one: an image folder, run.

    .venv/bin/python benchmarks/image_folder_study.py DIR [--budget 600]

Writes the four Fashion-MNIST classes that are hardest to tell apart (T-shirt/top, Pullover,
Coat, Shirt) as PNG files, one sub-folder a class, into DIR/tops/ (the 6,000 training images of
each) and DIR/tops_test/ (their 1,000 test images each), a study file DIR/tops.toml over them
(``test_dir``, 10% validation, the fashion study's search space, ``--budget`` seconds), and runs
it. A 4-class task of look-alike garments, read the way users read their own photos: a harder,
smaller problem than the whole of Fashion-MNIST. benchmarks/ensemble_size.py reads the study.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import common

CLASSES = {0: "tshirt", 2: "pullover", 4: "coat", 6: "shirt"}  # Fashion-MNIST's labels

STUDY = """\
# Four look-alike Fashion-MNIST classes as an image folder (benchmarks/image_folder_study.py).
[study]
name = "tops"
timeout = {budget}
seed = 0

[data]
dataset = "tops"
test_dir = "tops_test"
validation_split = 0.1

[run]
workers = "auto"

[sampler]
n_startup_trials = 4

[pruner]
kind = "median"
n_startup_trials = 4
n_warmup_steps = 2

[search_space]
conv1_channels = {{ low = 16, high = 48, log = true }}
conv2_channels = {{ low = 32, high = 96, log = true }}
dense_units = {{ low = 64, high = 256, log = true }}
epochs = {{ low = 5, high = 14 }}
"""


def write_folder(folder: Path, images, labels) -> None:  # noqa: ANN001 - uint8 arrays
    from PIL import Image

    for label, name in CLASSES.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
    for n, (image, label) in enumerate(zip(images, labels, strict=True)):
        if int(label) in CLASSES:
            Image.fromarray(image).save(folder / CLASSES[int(label)] / f"{n}.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--budget", type=float, default=600, help="seconds (600)")
    args = parser.parse_args()
    from search.data.mnist import DEBIAN_FASHION_MNIST, IDX_FILES, read_idx

    train_x, train_y, test_x, test_y = (
        read_idx(DEBIAN_FASHION_MNIST / f"{name}.gz") for name in IDX_FILES
    )
    write_folder(args.folder / "tops", train_x, train_y)
    write_folder(args.folder / "tops_test", test_x, test_y)
    study_file = args.folder / "tops.toml"
    study_file.write_text(STUDY.format(budget=args.budget))
    print(f"machine: {common.machine()}; {study_file}, budget {args.budget:.0f} s")
    wall, result = common.timed_command(["-m", "search", "run", str(study_file)])
    print(result.stdout)
    print(f"wall time {wall:.0f} s, exit code {result.returncode}")


if __name__ == "__main__":
    main()
