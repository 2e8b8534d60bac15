"""`predict`: classify image files with an export."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from search.cli.common import EXIT_USAGE, Command, add_format_flag
from search.errors import ConfigError
from search.outputs.text import INVERT_CHOICES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("export_dir", type=Path, help="a folder written by `export`")
    parser.add_argument("images", type=Path, nargs="+", help="image files (any size or colour)")
    parser.add_argument("--top", type=int, default=3, help="classes shown per image (3)")
    parser.add_argument(
        "--invert",
        choices=INVERT_CHOICES,
        default="auto",
        help="classify each image inverted (1 - x), as it is, or (auto, the default) inverted "
        "where its border is nearer the inverse of the training background: a dark shoe on "
        "white paper, for Fashion-MNIST",
    )
    add_format_flag(
        parser,
        ("table", "json"),
        "table: a line per image (default); json: a list of objects on stdout",
    )


def handle(args: argparse.Namespace) -> int:
    from search.outputs.predict import predict_images, predictions_json, unreadable_summary
    from search.runtime.tensorflow import start_tensorflow

    if args.top < 1:
        raise ConfigError(f"--top must be a positive integer, got {args.top}")
    start_tensorflow()
    predictions = predict_images(args.export_dir, args.images, top_k=args.top, invert=args.invert)
    read = [p for p in predictions if p.error is None]
    classes = max((len(p.top) for p in read), default=args.top)  # no warning if none was read
    if args.top > classes:
        print(
            f"Warning: --top {args.top}: the model knows {classes} classes; all {classes} shown",
            file=sys.stderr,
        )
    # stdout changes with --format; stderr (warnings, the one Error line) is the same for both.
    if args.format == "json":
        print(predictions_json(predictions))
    else:
        for prediction in predictions:
            if prediction.error is None:
                shown = ", ".join(f"{name} {p:.1%}" for name, p in prediction.top)
                print(
                    f"{prediction.path}: {shown}" + (" (inverted)" if prediction.inverted else "")
                )
    unreadable = unreadable_summary(predictions)
    if unreadable is not None:  # every readable file was still classified and printed
        print(f"Error: {unreadable}", file=sys.stderr)
        return EXIT_USAGE
    return 0


COMMAND = Command("predict", "classify images with an exported model", add_arguments, handle)
