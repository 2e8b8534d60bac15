"""`collect`: a camera page that takes photos of each class into an image folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from search.cli.camera_page import add_address_flags, serve_page
from search.cli.common import Command, default_export_folder

COLLECT_PORT = 8090


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "folder", type=Path, help="the image folder: a sub-folder a class, made as needed"
    )
    parser.add_argument(
        "--classes",
        required=True,
        metavar="A,B,...",
        help="the classes, comma-separated: rock,paper,scissors",
    )
    add_address_flags(parser, COLLECT_PORT)


def handle(args: argparse.Namespace) -> int:
    from search.outputs.camera.collect import Collector, parse_classes, study_file_text
    from search.words import plural

    folder = args.folder.resolve()  # "." has a name too: the folder's own
    collector = Collector(folder, parse_classes(args.classes))
    study = folder.parent / f"{folder.name}.toml"
    if not study.exists():  # the study of these photos, ready to run; one there is kept
        study.write_text(study_file_text(folder))
        print(f"wrote {study}: the study of these photos (see the README's hands study)")
    next_steps = (
        f"lenet-search run {study}\nlenet-search export {study}\n"
        f"lenet-search play {default_export_folder(folder.name)} --camera"
    )
    serve_page(collector.page(next_steps), args, f"taking photos into {folder}")
    counts = ", ".join(f"{name} {plural(n, 'photo')}" for name, n in collector.counts().items())
    print(f"{folder}: {counts}")
    return 0


COMMAND = Command(
    "collect",
    "a camera page on this machine that takes photos of each class into an image folder",
    add_arguments,
    handle,
)
