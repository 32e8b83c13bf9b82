"""The card cache: the validated deck as typed, frozen ``CardView`` records, so ``quiz take`` can ask its
first question without parsing YAML or importing pydantic.

The index is the deck as ``load_deck`` validated it, dumped to JSON under the user cache dir, keyed on the
(path, mtime, size) of every card file and every answer module (a card's validity depends on both). Any
change rebuilds it through ``load_deck``, so it can never hold a card the full check would reject.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quiz.filters import find, select
from quiz.paths import DEFAULT_ANSWERS, cache_dir, is_own_answers

if TYPE_CHECKING:
    from quiz.models import Card  # for the type only: this module must not import pydantic

INDEX_VERSION = 1
# What a person answers from: editing any of these flags the card for re-review. Editing a title, tags,
# links or references does not.
CONTENT_FIELDS = ("question", "answer", "choices", "numeric")


@dataclass(frozen=True)
class ChoiceView:
    text: str
    correct: bool = False
    why: str | None = None


@dataclass(frozen=True)
class PitfallView:
    myth: str
    truth: str
    proof: str
    verdict: str = "false"
    source: str | None = None
    audit: str | None = None


@dataclass(frozen=True)
class ClaimView:
    statement: str
    proof: str


@dataclass(frozen=True)
class NumericView:
    """A NumericQuestion as plain data: ``quiz.numeric.draw`` draws a configuration from it."""

    prompt: str
    formula: str
    params: dict[str, list[int | float | bool]]
    unit: str
    tolerance: float = 0.01


@dataclass(frozen=True)
class CardView:
    """A validated card as the quiz shows and asks it: typed plain data, cheap to load (no pydantic)."""

    id: str
    title: str
    topic: str
    topic_title: str
    difficulty: str
    tags: tuple[str, ...]
    question: str
    answer: str
    explanation: str
    claims: tuple[ClaimView, ...]
    pitfalls: tuple[PitfallView, ...] = ()
    choices: tuple[ChoiceView, ...] = ()
    choice_question: str | None = None  # what the choices answer, when `question` asks more
    numeric: tuple[NumericView, ...] = ()
    unmeasured: str | None = None
    related: tuple[str, ...] = ()
    must_say: tuple[str, ...] = ()  # the interview's rubric: points a strong spoken answer makes
    content_hash: str = ""
    data: dict[str, Any] | None = None  # the validated card as JSON, as ``Card.model_dump`` gave it

    @property
    def module(self) -> str:
        """The proof module's name inside the answers package."""
        return self.id.replace("-", "_")

    @classmethod
    def from_data(cls, data: dict[str, Any], topic_title: str, digest: str | None = None) -> CardView:
        return cls(
            id=data["id"],
            title=data["title"],
            topic=data["topic"],
            topic_title=topic_title,
            difficulty=data["difficulty"],
            tags=tuple(data["tags"]),
            question=data["question"],
            answer=data["answer"],
            explanation=data["explanation"],
            claims=tuple(ClaimView(c["statement"], c["proof"]) for c in data["claims"]),
            pitfalls=tuple(PitfallView(**p) for p in data.get("pitfalls", ())),
            choices=tuple(ChoiceView(**c) for c in data.get("choices", ())),
            choice_question=data.get("choice_question"),
            numeric=tuple(NumericView(**n) for n in data.get("numeric", ())),
            unmeasured=data.get("unmeasured"),
            related=tuple(data.get("related", ())),
            must_say=tuple(data.get("must_say", ())),
            content_hash=digest if digest is not None else content_hash(data),
            data=data,
        )


def card_view(card: Card) -> CardView:
    """The view of a pydantic ``Card``."""
    return CardView.from_data(card.model_dump(mode="json"), card.topic.title)


def content_hash(data: dict[str, Any]) -> str:
    content = {name: data.get(name) for name in CONTENT_FIELDS}
    if data.get("choice_question"):  # only when set, so adding the field leaves other cards' hashes as they were
        content["choice_question"] = data["choice_question"]
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def _fingerprint(root: Path, answers_dir: Path) -> list[list]:
    entries = []
    for tag, folder, patterns in (("q", root, ("*/*.yaml", "*/*.yml")), ("a", answers_dir, ("*.py", "formulas/*.py"))):
        for pattern in patterns:
            for path in folder.glob(pattern):
                if path.name.startswith("."):
                    continue  # hidden: never a card or a proof module (see quiz.deck.card_files)
                # An editor's lock file (Emacs keeps ``.#card.yaml`` beside a card being edited, a dangling
                # symlink), a folder or a socket is not part of the deck: ``load_deck`` reads regular files only.
                try:
                    st = path.stat() if path.is_file() else None
                except OSError:  # removed between the listing and the stat
                    st = None
                if st is None:
                    continue
                # Relative names: the index file is already keyed on the folders' resolved paths.
                entries.append([f"{tag}:{path.relative_to(folder)}", st.st_mtime_ns, st.st_size])
    return sorted(entries)


def _index_path(root: Path, answers_dir: Path) -> Path:
    key = hashlib.sha256(f"{root.resolve()}\0{answers_dir.resolve()}".encode()).hexdigest()[:16]
    return cache_dir() / f"index-{key}.json"


def load_index(root: Path, answers_dir: Path | None = None) -> list[CardView]:
    """The deck's cards, from the cache when no file changed since it was built; else validated afresh.

    Raises DeckError (from ``load_deck``) when the deck is invalid; an invalid deck is never cached.
    """
    root = Path(root)
    answers_dir = Path(answers_dir) if answers_dir else DEFAULT_ANSWERS
    fingerprint = _fingerprint(root, answers_dir) if root.is_dir() else None
    path = _index_path(root, answers_dir)
    if fingerprint:
        try:
            cached = json.loads(path.read_bytes())  # bytes: json decodes UTF-8 itself, faster than read_text
            if cached.get("version") == INDEX_VERSION and cached.get("fingerprint") == fingerprint:
                return [CardView.from_data(c["data"], c["topic_title"], c["hash"]) for c in cached["cards"]]
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


def _build(root: Path, answers_dir: Path) -> list[CardView]:
    from quiz.deck import load_deck  # quiz.deck never imports this module: no cycle

    return [card_view(card) for card in load_deck(root, answers_dir)]


@dataclass
class CardIndex:
    """The validated deck as views, for the commands that only read cards (list, show, verify, take)."""

    root: Path
    answers_dir: Path
    cards: dict[str, CardView] = field(default_factory=dict)
    trusted: bool = True  # may its proof modules be run? Always for the project's own answers package

    def __len__(self) -> int:
        return len(self.cards)

    def __iter__(self) -> Iterator[CardView]:
        return iter(self.cards.values())

    def get(self, card_id: str) -> CardView:
        return find(self.cards, card_id, self.root)

    def select(self, topic: str | None = None, tag: str | None = None, difficulty: str | None = None) -> list[CardView]:
        return select(self, topic, tag, difficulty)


def load_cards(root: Path, answers_dir: Path | None = None, trust_answers: bool = False) -> CardIndex:
    """``load_index`` as a CardIndex; raises DeckError when the deck is invalid."""
    answers_dir = Path(answers_dir) if answers_dir else DEFAULT_ANSWERS
    cards = {card.id: card for card in load_index(root, answers_dir)}
    return CardIndex(Path(root), answers_dir, cards, trust_answers or is_own_answers(answers_dir))
