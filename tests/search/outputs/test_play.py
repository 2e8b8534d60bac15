"""The game's rules: who beats whom, a round replayed when the hand is unclear, the score."""

import pytest

from search.errors import ExportError
from search.outputs.play import MOVES, Game, Score, moves_of, result, round_text, unsure_text


@pytest.mark.parametrize(
    ("yours", "computers", "outcome"),
    [
        ("rock", "scissors", "win"),
        ("scissors", "paper", "win"),
        ("paper", "rock", "win"),
        ("scissors", "rock", "lose"),
        ("paper", "scissors", "lose"),
        ("rock", "paper", "lose"),
        ("rock", "rock", "draw"),
        ("paper", "paper", "draw"),
        ("scissors", "scissors", "draw"),
    ],
)
def test_who_beats_whom(yours: str, computers: str, outcome: str) -> None:
    assert result(yours, computers) == outcome


def test_the_classes_must_be_the_three_moves_in_any_case_and_order() -> None:
    assert moves_of(["Scissors", "ROCK", "paper"]) == ["scissors", "rock", "paper"]
    with pytest.raises(ExportError) as error:
        moves_of(["circle", "horizontal", "vertical"])
    assert str(error.value) == (
        "this export's classes are circle, horizontal, vertical; playing needs a model of "
        "exactly rock, paper and scissors (any case, any order)"
    )


def test_the_computers_moves_come_from_the_seed_alone() -> None:
    first, second = Game(7, 0.6), Game(7, 0.6)
    moves = [first.play(f"{n}.png", "rock", 0.9).computer for n in range(20)]
    assert moves == [second.play(f"{n}.png", "paper", 0.99).computer for n in range(20)]
    assert set(moves) == set(MOVES)
    other = Game(8, 0.6)
    assert [other.play(f"{n}.png", "rock", 0.9).computer for n in range(20)] != moves


def test_an_unclear_hand_replays_the_round_against_the_same_move() -> None:
    game = Game(0, 0.6)
    unsure = game.play("a.png", "rock", 0.45)
    again = game.play("b.png", "rock", 0.95)
    assert (unsure.outcome, unsure.number, again.number) == ("replay", 1, 1)
    assert again.computer == unsure.computer  # the round is the same round
    assert (
        unsure.score == Score() and again.score.you + again.score.computer + again.score.draws == 1
    )
    assert round_text(unsure, 0.6) == (
        f"round 1: the computer plays {unsure.computer}; your hand (a.png) shows rock (45.0%), "
        "below 60%: unsure, play round 1 again"
    )


def test_the_score_counts_each_outcome() -> None:
    score = Score()
    for outcome in ("win", "win", "lose", "draw"):
        score.add(outcome)
    assert str(score) == "you 2, computer 1, 1 draw"
    played = Game(0, 0.6).play("a.png", "paper", 0.9)
    said = {"win": "you win", "lose": "the computer wins", "draw": "a draw"}[played.outcome]
    assert round_text(played, 0.6) == (
        f"round 1: the computer plays {played.computer}; your hand (a.png) shows paper (90.0%): "
        f"{said} ({played.score})"
    )


def test_a_game_of_replays_only_says_how_sure_the_model_is() -> None:
    game = Game(0, 0.6)
    for photo, probability in (("a.png", 0.415), ("b.png", 0.571)):
        game.play(photo, "rock", probability)
    assert unsure_text(game, 0.43) == (
        "no round was played: the model was at most 57.1% sure of a hand, below "
        "--min-confidence 60%; it is 43.0% sure at the median of its own validation images "
        "(the export's card), so it is unsure of everything: export a surer model (more "
        "photos, more epochs) or lower --min-confidence"
    )
    assert unsure_text(game, None) == (  # an export from before the card said
        "no round was played: the model was at most 57.1% sure of a hand, below "
        "--min-confidence 60%"
    )
