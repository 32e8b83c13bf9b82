"""What a card rule is: a function of a card and its ``Scope`` yielding ``Finding``s, run at one ``Stage``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from quiz.models import Card, Location


class Outline(Protocol):
    """A proof module read as source: top-level function name → (line, argument names, returns Evidence)."""

    functions: Mapping[str, tuple[int, tuple[str, ...], bool]]


@dataclass
class Scope:
    """What a rule may look at besides the card. ``cards`` holds the cards admitted so far: at the PLACED stage
    the ones read before this card, at the LINKED stage all of them."""

    path: Path  # the card's file
    cards: Mapping[str, Card] = field(default_factory=dict)
    paths: Mapping[str, Path] = field(default_factory=dict)
    invalid: set[str] = field(default_factory=set)  # ids of cards that exist but did not validate
    answers_dir: Path = Path("answers")
    formulas: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # formula name → argument names
    outline: Callable[[Path], Outline | None] = lambda path: None
    required: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # formula → arguments without a default
    # Computes a formula on one combination of values: None, or what is wrong (quiz.evaluate in a real deck).
    evaluate: Callable[[str, Mapping[str, Any]], str | None] = lambda formula, params: None


@dataclass(frozen=True)
class Finding:
    """What a rule found: a place in the card (a key path) and what is wrong there. A finding in another file
    (a proof module) gives that file and line; ``loc`` then names the function."""

    loc: Location
    message: str
    file: Path | None = None
    line: int = 0


class Stage(Enum):
    ALONE = "the card by itself"
    PLACED = "the card in its file, among the cards before it"
    LINKED = "the card in the whole deck, against its answers folder"


Check = Callable[[Card, Scope], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    code: str
    stage: Stage
    check: Check
    keeps_out: bool = False  # a card breaking it stays out of the deck, and the PLACED rules after it are skipped
