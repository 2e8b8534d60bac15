"""Rock-paper-scissors against the computer, your hand read by an export: the tutorial's game.

The computer draws its move before it looks at your photo (a seeded generator, so a game can
be replayed); the model says what your hand shows; a photo it is unsure of replays the round
instead of guessing. No TensorFlow here: the photos are classified by ``predict``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from search.errors import ExportError
from search.words import plural

MOVES = ("rock", "paper", "scissors")
BEATS = {"rock": "scissors", "scissors": "paper", "paper": "rock"}  # what each move beats


def result(yours: str, computers: str) -> str:
    """ "win", "lose" or "draw", for you."""
    if yours == computers:
        return "draw"
    return "win" if BEATS[yours] == computers else "lose"


def moves_of(class_names: Sequence[str]) -> list[str]:
    """Each class of the model as the move it is; the classes must be the three moves.

    Raises:
        ExportError: the model's classes are not rock, paper and scissors (any case, any order).
    """
    moves = [str(name).strip().lower() for name in class_names]
    if sorted(moves) != sorted(MOVES):
        raise ExportError(
            f"this export's classes are {', '.join(map(str, class_names))}; playing needs a "
            "model of exactly rock, paper and scissors (any case, any order)"
        )
    return moves


@dataclass
class Score:
    you: int = 0
    computer: int = 0
    draws: int = 0

    def add(self, outcome: str) -> None:
        if outcome == "win":
            self.you += 1
        elif outcome == "lose":
            self.computer += 1
        else:
            self.draws += 1

    def __str__(self) -> str:
        return f"you {self.you}, computer {self.computer}, {plural(self.draws, 'draw')}"


@dataclass(frozen=True)
class Round:
    """One photo's round: played, or replayed because the model was unsure of the hand."""

    number: int
    photo: str
    computer: str  # the computer's move, drawn before the photo was looked at
    seen: str  # what the model says the hand shows
    probability: float
    outcome: str  # "win", "lose" or "draw" for you; "replay" when the model was unsure
    score: Score  # after this round

    def to_dict(self) -> dict:
        return {**asdict(self), "score": asdict(self.score)}


class Game:
    """A game of rounds; ``seed`` seeds the computer's moves."""

    def __init__(self, seed: int | None, min_confidence: float) -> None:
        self._rng = np.random.default_rng(seed)
        self.min_confidence = min_confidence
        self.score = Score()
        self.rounds: list[Round] = []
        self._pending: str | None = None  # the computer's move in a round being replayed

    def next_move(self) -> str:
        """The computer's move in the next round: drawn now, before any photo of it is seen
        (or the move of a round being replayed)."""
        if self._pending is None:
            self._pending = str(self._rng.choice(MOVES))
        return self._pending

    def play(self, photo: str, seen: str, probability: float) -> Round:
        """A round for this photo, whose hand the model read as ``seen`` with ``probability``.

        The computer's move is drawn first (or kept, in a round being replayed), whatever the
        photo shows.
        """
        computer = self.next_move()
        number = self.score.you + self.score.computer + self.score.draws + 1
        if probability < self.min_confidence:
            self._pending, outcome = computer, "replay"
        else:
            self._pending, outcome = None, result(seen, computer)
            self.score.add(outcome)
        played = Round(
            number, photo, computer, seen, probability, outcome, Score(**asdict(self.score))
        )
        self.rounds.append(played)
        return played


def unsure_text(game: Game, validation_confidence: float | None) -> str:
    """Why a game in which every round was replayed played none, and what to do."""
    surest = max(r.probability for r in game.rounds)
    text = (
        f"no round was played: the model was at most {surest:.1%} sure of a hand, below "
        f"--min-confidence {game.min_confidence:.0%}"
    )
    if validation_confidence is not None:
        text += (
            f"; it is {validation_confidence:.1%} sure at the median of its own validation "
            "images (the export's card), so it is unsure of everything: export a surer model "
            "(more photos, more epochs) or lower --min-confidence"
        )
    return text


def round_text(played: Round, min_confidence: float) -> str:
    """One line: the computer's move, what the hand shows, the outcome and the score."""
    hand = f"your hand ({played.photo}) shows {played.seen} ({played.probability:.1%})"
    if played.outcome == "replay":
        return (
            f"round {played.number}: the computer plays {played.computer}; {hand}, below "
            f"{min_confidence:.0%}: unsure, play round {played.number} again"
        )
    said = {"win": "you win", "lose": "the computer wins", "draw": "a draw"}[played.outcome]
    return (
        f"round {played.number}: the computer plays {played.computer}; {hand}: {said} "
        f"({played.score})"
    )
