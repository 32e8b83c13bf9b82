"""The one card filter, for any card that has a topic, tags and a difficulty: the pydantic Card (``Deck.select``)
and the cached CardView (``quiz take``). A leaf module, so neither side imports the other."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar


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
