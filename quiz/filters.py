"""The one card filter, for any card that has a topic, tags and a difficulty: the pydantic Card (``Deck.select``)
and the cached CardView (``quiz take``). A leaf module, so neither side imports the other."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, TypeVar

from quiz.errors import QuizError
from quiz.paths import shown_path


class UnknownCard(QuizError):
    pass


class Filterable(Protocol):
    @property
    def topic(self) -> str: ...
    @property
    def tags(self) -> Sequence[str]: ...
    @property
    def difficulty(self) -> str: ...


C = TypeVar("C", bound=Filterable)


def select(
    cards: Iterable[C], topic: str | None = None, tag: str | None = None, difficulty: str | None = None
) -> list[C]:
    """The cards matching every filter given (the topic and difficulty enums compare equal to their strings)."""
    return [
        card
        for card in cards
        if (topic is None or card.topic == topic)
        and (tag is None or tag in card.tags)
        and (difficulty is None or card.difficulty == difficulty)
    ]


def find(cards: Mapping[str, C], card_id: str, root: Path) -> C:
    """The card with ``card_id``, or an UnknownCard error naming the closest id."""
    if card_id not in cards:
        near = closest(card_id, cards)
        hint = f"did you mean '{near}'?" if near else "run 'quiz list' to see the ids"
        raise UnknownCard(f"no card '{card_id}' in {shown_path(root)}; {hint}")
    return cards[card_id]


def closest(word: str, candidates: Iterable[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None
