"""`play`: rock-paper-scissors against the computer, a round per photo of your hand."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from search.cli.camera_page import add_address_flags, serve_page
from search.cli.common import EXIT_NO_MODEL, EXIT_USAGE, Command, add_format_flag
from search.errors import ConfigError

CAMERA_PLAY_PORT = 8091


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "export_dir", type=Path, help="an export of a rock/paper/scissors image-folder study"
    )
    parser.add_argument(
        "photos", type=Path, nargs="*", help="photos of your hand, a round each (or --camera)"
    )
    parser.add_argument(
        "--camera",
        action="store_true",
        help="play at the camera instead: a page on this machine, a frame a round",
    )
    parser.add_argument(
        "--seed", type=int, help="seed of the computer's moves (default: new every game)"
    )
    parser.add_argument(
        "--min-confidence",
        type=float,
        default=0.6,
        metavar="P",
        help="below this probability the hand is unclear and the round is played again (0.6)",
    )
    add_format_flag(parser, ("table", "json"), "table: a line per round; json: one object")
    add_address_flags(parser, CAMERA_PLAY_PORT)


def handle(args: argparse.Namespace) -> int:
    from search.outputs.play import Game, moves_of, round_text, unsure_text
    from search.outputs.predict import predict_images, read_model_card, unreadable_summary
    from search.runtime.tensorflow import start_tensorflow

    if not 0 <= args.min_confidence <= 1:
        raise ConfigError(
            f"--min-confidence must be a probability from 0 to 1, got {args.min_confidence}"
        )
    if args.seed is not None and args.seed < 0:
        raise ConfigError(f"--seed must be a non-negative integer, got {args.seed}")
    if bool(args.photos) == args.camera:
        raise ConfigError(
            "give photos of your hand, or --camera to play at the camera"
            if not args.camera
            else "give photos or --camera, not both"
        )
    card = read_model_card(args.export_dir)
    class_names = card["class_names"]
    move_of = dict(zip(class_names, moves_of(class_names), strict=True))  # "Rock" -> "rock"
    start_tensorflow()
    if args.camera:
        return _play_at_the_camera(args, card)
    predictions = predict_images(args.export_dir, args.photos, top_k=1)
    game = Game(args.seed, args.min_confidence)
    for prediction in predictions:
        if prediction.error is None:
            name, probability = prediction.top[0]
            played = game.play(str(prediction.path), move_of[name], probability)
            if args.format == "table":
                print(round_text(played, args.min_confidence))
    if args.format == "json":
        rounds = [played.to_dict() for played in game.rounds]
        print(json.dumps({"rounds": rounds, "score": game.score.__dict__}, indent=2))
    else:
        print(f"final score: {game.score}")
    unreadable = unreadable_summary(predictions)
    if unreadable is not None:
        print(f"Error: {unreadable}", file=sys.stderr)
        return EXIT_USAGE
    if game.rounds and not any(r.outcome != "replay" for r in game.rounds):
        print(
            f"Error: {unsure_text(game, card.get('validation_median_confidence'))}",
            file=sys.stderr,
        )
        return EXIT_NO_MODEL
    return 0


def _play_at_the_camera(args: argparse.Namespace, card: dict) -> int:
    from search.outputs.camera.game import CameraGame

    camera = CameraGame(args.export_dir, card, args.seed, args.min_confidence)
    serve_page(camera.page(), args, f"rock, paper, scissors with {args.export_dir}")
    print(f"final score: {camera.game.score}")
    return 0


COMMAND = Command(
    "play",
    "play rock-paper-scissors against the computer, a photo of your hand a round",
    add_arguments,
    handle,
)
