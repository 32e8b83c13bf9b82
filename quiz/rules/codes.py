"""The one table of rule codes, and the ``Problem`` a broken rule becomes: ``file:line: field: message [CODE]``.

A code never changes meaning and is never reused; ``docs/bad-input.md`` is keyed by these codes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from answers import SHARED
from quiz.models import Location
from quiz.paths import MAX_MODULE_KIB
from quiz.vocab import CHOICE_LETTERS

MAX_COMBINATIONS = 4096  # of a numeric question's values, computed by NUM007 (the bank's largest has 256)
MAX_CARD_KIB = 256  # the largest real card is ~8 KiB; anything far bigger is a mistake or an attack
# Modules in answers/ that are building blocks, not the proof of one card.
SHARED_MODULES = frozenset(SHARED)  # the one list, in answers/__init__.py
RESERVED_MODULES = SHARED_MODULES | {"formulas"}

CODES: dict[str, str] = {
    "DECK001": "the questions folder exists",
    "DECK002": "the answers folder exists",
    "DECK003": "the questions folder holds cards",
    "DECK004": "the questions folder can be listed",
    "DECK005": "the answers folder holds the proof module of at least one card",
    "FILE001": "a card is a regular file",
    "FILE002": f"a card is under {MAX_CARD_KIB} KiB",
    "FILE003": "a card is UTF-8 text",
    "FILE004": "a card can be read",
    "YAML001": "a card is valid YAML that builds no Python object",
    "YAML002": "a card has no YAML anchors or aliases",
    "YAML003": "every key is a plain word",
    "YAML004": "no key appears twice",
    "YAML005": "a card is a mapping of fields",
    "YAML006": "every value can be read (a date exists, an integer has under 4300 digits)",
    "YAML007": "values nest at most 32 levels deep",
    "FIELD001": "every required field is present",
    "FIELD002": "every field is one the card format knows",
    "FIELD003": "ids, tags and related ids are lowercase words joined by hyphens",
    "FIELD004": "proofs and formulas are Python function names",
    "FIELD005": "a text field is not empty",
    "FIELD006": "every other value has the type and range the card format gives it",
    "CARD001": "the id equals the file name",
    "CARD002": "the topic equals the folder",
    "CARD003": "the id is not the name of a shared module",
    "CARD004": "no two cards share an id",
    "CARD005": "every related card exists",
    "CARD006": "a card is not related to itself",
    "CARD007": "each claim names its own function",
    "CARD008": "every pitfall names one of the card's claims",
    "CARD009": "multiple choice has exactly one correct answer among 3 or more",
    "CARD010": "every wrong choice says why it is wrong",
    "CARD011": f"multiple choice has at most {len(CHOICE_LETTERS)} choices (a letter each)",
    "NUM001": "a numeric question names a formula in answers/formulas",
    "NUM002": "a numeric question's parameters are arguments of its formula",
    "NUM003": "every placeholder in a numeric prompt is a parameter",
    "NUM004": "every parameter of a numeric question has a value",
    "NUM005": "a numeric prompt's placeholders are plain {name}s",
    "NUM006": "every required argument of the formula is a parameter",
    "NUM007": "the formula gives a finite number, quickly, for every combination of the values",
    "PROOF001": "every card has its proof module",
    "PROOF002": "every claim names a function of the proof module",
    "PROOF003": "every claim function is annotated '-> Evidence'",
    "PROOF004": "every function that returns Evidence is a claim of the card",
    "PROOF005": "every proof module has a card (when the deck owns its answers folder)",
    "PROOF006": f"a proof module is under {MAX_MODULE_KIB} KiB",
}


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    field: str
    message: str
    code: str  # last, so that problems sort by place as they always have

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown rule code {self.code!r}")

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        what = f"{self.message} [{self.code}]"  # the code last: the wording a user (or a script) reads comes first
        return _one_line(f"{where}: {self.field}: {what}" if self.field else f"{where}: {what}")


def _one_line(text: str) -> str:
    """Escape control characters (a field named "\\n", say) so that a problem is always one line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def field_name(loc: Location) -> str:
    return ".".join(str(part) for part in loc)


def line_of(lines: Mapping[Location, int], loc: Location) -> int:
    """The line of ``loc``, or of its nearest ancestor that exists (a missing field's parent)."""
    for end in range(len(loc), -1, -1):
        if tuple(loc[:end]) in lines:
            return lines[tuple(loc[:end])]
    return 1
