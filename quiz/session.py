"""A quiz session: which cards to ask, in which order, and what the person said about each."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import IntEnum

from quiz.models import Card


class Grade(IntEnum):
    """Self-grades, numbered as in FSRS and Anki."""

    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4


@dataclass
class Session:
    cards: list[Card]
    answers: dict[str, Grade] = field(default_factory=dict)

    @classmethod
    def plan(cls, cards: list[Card], count: int | None = None, seed: int | None = None) -> Session:
        """A shuffled selection of at most ``count`` cards; the same seed gives the same session."""
        order = sorted(cards, key=lambda card: card.id)
        random.Random(seed).shuffle(order)
        return cls(order[:count] if count else order)

    def record(self, card: Card, grade: Grade) -> None:
        self.answers[card.id] = grade

    def remaining(self) -> list[Card]:
        return [card for card in self.cards if card.id not in self.answers]

    def summary(self) -> dict[str, int]:
        return {grade.name.lower(): sum(g == grade for g in self.answers.values()) for grade in Grade}
