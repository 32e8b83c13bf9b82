"""Loading a deck of cards: YAML → validated ``Card`` models, with every problem in every file collected
and reported at once as ``file:line: field: CODE message``. The rules and their codes are in ``quiz.rules``;
reading one card file (its bytes, then YAML with the line of every key) is ``quiz.cardfile``.

The answer modules are inspected with ``ast`` and never imported here: checking a deck must not import
torch, and must not run code that a deck points at.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import ValidationError

from answers.protocol import ModuleOutline, outline_of_source
from quiz import rules
from quiz.cardfile import read_card
from quiz.errors import QuizError
from quiz.filters import UnknownCard, find, select  # noqa: F401  (UnknownCard re-exported)
from quiz.models import Card, Location
from quiz.paths import (  # noqa: F401
    DEFAULT_ANSWERS,
    DEFAULT_QUESTIONS,
    PROJECT_ROOT,
    cache_dir,
    is_own_answers,
    module_too_big,
    shown_path,
)
from quiz.rules import (  # noqa: F401  (re-exported)
    MAX_CARD_KIB,
    RESERVED_MODULES,
    SHARED_MODULES,
    Problem,
    Scope,
    Stage,
    field_name,
    field_problem,
    line_of,
)


class DeckError(QuizError):
    """A deck that cannot be used; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(map(str, self.problems)))

    def lines(self) -> list[str]:
        return [str(problem) for problem in self.problems]


@dataclass
class Deck:
    root: Path
    answers_dir: Path
    cards: dict[str, Card] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    invalid: set[str] = field(default_factory=set)
    trusted: bool = True  # may its proof modules be run? Always for the project's own answers package

    def __len__(self) -> int:
        return len(self.cards)

    def __iter__(self) -> Iterator[Card]:
        return iter(self.cards.values())

    def get(self, card_id: str) -> Card:
        return find(self.cards, card_id, self.root)

    def select(self, topic: str | None = None, tag: str | None = None, difficulty: str | None = None) -> list[Card]:
        return select(self, topic, tag, difficulty)


# --------------------------------------------------------------------------------------------------
# Validation


def validate_card(data: Any, lines: dict[Location, int], path: Path) -> tuple[Card | None, list[Problem]]:
    """Check one card's fields against the card format, then the rules a card can check by itself."""
    shown = shown_path(path)
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        return None, [Problem(shown, 1, "", f"a card must be a YAML mapping of fields, found {got}", "YAML005")]
    try:
        card = Card.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            code, message = field_problem(error)
            problems.append(Problem(shown, line_of(lines, error["loc"]), field_name(error["loc"]), message, code))
        return None, problems
    problems, _ = rules.check(card, Stage.ALONE, Scope(path), lines)
    return card, problems


# --------------------------------------------------------------------------------------------------
# The answer modules, read as source (what a claim is: answers.protocol)


def module_outline(path: Path) -> ModuleOutline | None:
    """``answers.protocol.outline`` through a cache on disk keyed by the module's text: validating the bank parses
    its ~140 proof and formula modules, which was a sixth of a one-card site rebuild. An edited module is a new
    key, so it is always read afresh; an unreadable or damaged entry is parsed again."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    entry = cache_dir() / "outlines" / f"{hashlib.sha256(source.encode()).hexdigest()[:32]}.json"
    try:
        stored = json.loads(entry.read_bytes()).items()
        functions = {name: (int(line), tuple(map(str, args)), bool(ev)) for name, (line, args, ev) in stored}
        return ModuleOutline(MappingProxyType(functions))
    except (OSError, ValueError, TypeError, AttributeError):
        pass
    found = outline_of_source(source)
    if found is not None:
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            tmp = entry.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(dict(found.functions)), encoding="utf-8")
            os.replace(tmp, entry)
        except OSError:
            pass  # the cache only saves time
    return found


def formula_outline(answers_dir: Path) -> dict[str, tuple[str, ...]]:
    """Public functions of answers/formulas/*.py with their argument names."""
    found: dict[str, tuple[str, ...]] = {}
    for path in sorted((answers_dir / "formulas").glob("*.py")):
        mod = module_outline(path)
        for name, (_, args, _) in (mod.functions if mod else {}).items():
            if not name.startswith("_"):
                found[name] = args
    return found


# --------------------------------------------------------------------------------------------------
# The deck


def card_files(root: Path) -> list[Path]:
    try:
        # Hidden names are never cards (no id starts with a dot): an editor's lock or backup file such as
        # Emacs' ``.#card.yaml``, or macOS's ``._card.yaml``, sits beside a card while it is being edited.
        found = (p for pattern in ("*/*.yaml", "*/*.yml") for p in root.glob(pattern))
        return sorted(p for p in found if not p.name.startswith("."))
    except OSError as exc:  # a symlink loop or an unreadable folder
        message = f"cannot list the cards ({exc.strerror or exc})"
        raise DeckError([Problem(shown_path(root), 0, "", message, "DECK004")]) from None


def load_deck(
    root: Path = DEFAULT_QUESTIONS,
    answers_dir: Path = DEFAULT_ANSWERS,
    *,
    owns_answers: bool | None = None,
    trust_answers: bool = False,
) -> Deck:
    """Load and check every card under ``root`` (``<topic>/<id>.yaml``); raise DeckError listing every
    problem found, in every file, at once.

    ``owns_answers``: every proof module in ``answers_dir`` must belong to a card of this deck. True by
    default for the project's own deck; another deck may use a subset of the project's proofs.
    ``trust_answers``: a deck's own answers folder is code; its proofs may only be run when the user says so.
    Loading never runs them: the modules are read with ``ast``.
    """
    root, answers_dir = Path(root), Path(answers_dir)
    own_answers = is_own_answers(answers_dir)
    if owns_answers is None:
        owns_answers = own_answers and root.resolve() == DEFAULT_QUESTIONS.resolve()
    deck = Deck(root=root, answers_dir=answers_dir, trusted=own_answers or trust_answers)
    files = _deck_files(root, answers_dir)
    problems: list[Problem] = []
    lines_by_id: dict[str, dict[Location, int]] = {}
    for path in files:
        card, lines = _read_and_place(path, deck, problems)
        if card is not None:
            deck.cards[card.id], deck.paths[card.id], lines_by_id[card.id] = card, path, lines
    problems.extend(_link_problems(deck, lines_by_id, owns_answers))
    if problems:
        raise DeckError(problems)
    return deck


def _deck_files(root: Path, answers_dir: Path) -> list[Path]:
    """The card files of a deck, after checking that both folders are there (DECK001-DECK004)."""
    if not root.is_dir():
        message = "no such folder; point --questions at a folder of cards"
        raise DeckError([Problem(shown_path(root), 0, "", message, "DECK001")])
    if not answers_dir.is_dir():
        message = "no such folder; point --answers at the proof modules"
        raise DeckError([Problem(shown_path(answers_dir), 0, "", message, "DECK002")])
    files = card_files(root)
    if not files:
        message = "no cards found; a deck holds <topic>/<card-id>.yaml files"
        raise DeckError([Problem(shown_path(root), 0, "", message, "DECK003")])
    return files


def _read_and_place(path: Path, deck: Deck, problems: list[Problem]) -> tuple[Card | None, dict[Location, int]]:
    """Read, validate and place one card among those before it, adding what is wrong to ``problems``;
    the card, when it joins the deck."""
    read = read_card(path)
    if isinstance(read, Problem):
        problems.append(read)
        return None, {}
    data, lines, duplicates = read
    problems.extend(
        Problem(shown_path(path), line, key, "appears twice; keep one", "YAML004") for line, key in duplicates
    )
    card, card_errors = validate_card(data, lines, path)
    problems.extend(card_errors)
    if card is None:
        deck.invalid.add(path.stem)  # exists, so links to it are not reported as missing
        return None, lines
    placed, admitted = rules.check(card, Stage.PLACED, Scope(path, deck.cards, deck.paths), lines)
    problems.extend(placed)
    return (card if admitted else None), lines


def _formula_checks(deck: Deck) -> tuple[dict[str, tuple[str, ...]], Any]:
    """For the NUM rules: each formula's arguments without a default, and a function that computes one
    combination of values (None, or what is wrong). Only a deck with numeric questions imports the formulas."""
    if not any(card.numeric for card in deck):
        return {}, lambda formula, params: None
    import inspect

    from answers.formulas import FORMULAS
    from quiz.evaluate import FormulaError, evaluate

    required = {
        name: tuple(p.name for p in inspect.signature(fn).parameters.values() if p.default is inspect.Parameter.empty)
        for name, fn in FORMULAS.items()
    }

    def computes(formula: str, params: Any) -> str | None:
        try:
            evaluate(formula, params)
        except FormulaError as error:
            return str(error)
        return None

    return required, computes


def _link_problems(deck: Deck, lines_by_id: dict[str, dict[Location, int]], owns_answers: bool) -> list[Problem]:
    """The rules that need the whole deck and its answers folder."""
    none = rules.no_module_for_any_card(deck.cards, deck.answers_dir)
    if none:
        return none
    outlines: dict[Path, ModuleOutline | None] = {}

    def outline_of(path: Path) -> ModuleOutline | None:
        if path not in outlines:
            outlines[path] = module_outline(path) if path.is_file() and not module_too_big(path) else None
        return outlines[path]

    scope = Scope(
        deck.root,
        deck.cards,
        deck.paths,
        deck.invalid,
        deck.answers_dir,
        formula_outline(DEFAULT_ANSWERS),  # the quiz always computes with the project's formulas
        outline_of,
        *_formula_checks(deck),
    )
    problems: list[Problem] = []
    for card in deck:
        scope.path = deck.paths[card.id]
        problems.extend(rules.check(card, Stage.LINKED, scope, lines_by_id[card.id])[0])
    if owns_answers:
        problems.extend(rules.modules_without_cards(deck.cards, deck.invalid, deck.answers_dir))
    return problems
