"""A cached, validated index of the deck, so ``quiz take`` can ask its first question without parsing YAML or
importing pydantic.

The index is the deck as ``load_deck`` validated it, dumped to JSON under the user cache dir, keyed on the
(path, mtime, size) of every card file and every answer module (a card's validity depends on both). Any
change rebuilds it through ``load_deck``, so it can never hold a card the full check would reject.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from quiz.paths import DEFAULT_ANSWERS

C = TypeVar("C")

INDEX_VERSION = 1
CACHE_ENV = "QUIZ_CACHE_DIR"
# What a person answers from: editing any of these flags the card for re-review. Editing a title, tags,
# links or references does not.
CONTENT_FIELDS = ("question", "answer", "choices", "numeric")


def cache_dir() -> Path:
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    from platformdirs import user_cache_dir

    from quiz.store import APP_NAME

    return Path(user_cache_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class QuizCard:
    """A validated card as the quiz needs it: plain data, cheap to load. ``data`` is ``Card.model_dump``."""

    data: dict[str, Any]
    content_hash: str
    topic_title: str

    def __getattr__(self, name: str) -> Any:
        # Fields read like the pydantic Card's (card.question, card.choices…), as plain dicts and strings.
        try:
            return self.__dict__["data"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def id(self) -> str:
        return self.data["id"]

    @property
    def topic(self) -> str:
        return self.data["topic"]

    @property
    def difficulty(self) -> str:
        return self.data["difficulty"]

    def to_card(self):
        """The full pydantic Card, for running proofs or rendering with the shared views."""
        from quiz.models import Card

        return Card.model_validate(self.data)


def select(
    cards: Iterable[C], topic: str | None = None, tag: str | None = None, difficulty: str | None = None
) -> list[C]:
    """The cards matching every filter given: index cards here, pydantic cards for ``Deck.select`` (both have
    ``topic``, ``tags`` and ``difficulty``; the topic and difficulty enums compare equal to their strings)."""
    return [
        card
        for card in cards
        if (topic is None or card.topic == topic)
        and (tag is None or tag in card.tags)
        and (difficulty is None or card.difficulty == difficulty)
    ]


def content_hash(data: dict[str, Any]) -> str:
    content = {name: data.get(name) for name in CONTENT_FIELDS}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def _fingerprint(root: Path, answers_dir: Path) -> list[list]:
    entries = []
    for tag, folder, patterns in (("q", root, ("*/*.yaml", "*/*.yml")), ("a", answers_dir, ("*.py", "formulas/*.py"))):
        for pattern in patterns:
            for path in folder.glob(pattern):
                st = path.stat()
                # Relative names: the index file is already keyed on the folders' resolved paths.
                entries.append([f"{tag}:{path.relative_to(folder)}", st.st_mtime_ns, st.st_size])
    return sorted(entries)


def _index_path(root: Path, answers_dir: Path) -> Path:
    key = hashlib.sha256(f"{root.resolve()}\0{answers_dir.resolve()}".encode()).hexdigest()[:16]
    return cache_dir() / f"index-{key}.json"


def load_index(root: Path, answers_dir: Path | None = None) -> list[QuizCard]:
    """The deck's cards, from the cache when no file changed since it was built; else validated afresh.

    Raises DeckError (from ``load_deck``) when the deck is invalid; an invalid deck is never cached.
    """
    root = Path(root)
    answers_dir = Path(answers_dir) if answers_dir else DEFAULT_ANSWERS
    fingerprint = _fingerprint(root, answers_dir) if root.is_dir() else None
    path = _index_path(root, answers_dir)
    if fingerprint:
        try:
            cached = json.loads(path.read_text(encoding="utf-8"))
            if cached.get("version") == INDEX_VERSION and cached.get("fingerprint") == fingerprint:
                return [QuizCard(c["data"], c["hash"], c["topic_title"]) for c in cached["cards"]]
        except (OSError, ValueError, KeyError, TypeError):
            pass  # missing or damaged cache: rebuild it
    cards = _build(root, answers_dir)
    if fingerprint:
        payload = {
            "version": INDEX_VERSION,
            "fingerprint": fingerprint,
            "cards": [{"data": c.data, "hash": c.content_hash, "topic_title": c.topic_title} for c in cards],
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)  # atomic: a concurrent session reads the old index or the new, never half
        except OSError:
            pass  # the cache only saves time; a read-only cache dir must not stop the quiz
    return cards


def _build(root: Path, answers_dir: Path) -> list[QuizCard]:
    from quiz.deck import load_deck

    deck = load_deck(root, answers_dir)
    cards = []
    for card in deck:
        data = card.model_dump(mode="json")
        cards.append(QuizCard(data, content_hash(data), card.topic.title))
    return cards
