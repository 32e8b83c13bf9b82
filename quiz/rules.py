"""The rules a deck keeps, each with a stable code: one table, one small function per rule.

A problem reads ``file:line: field: CODE what is wrong; what to do`` (``file:line: CODE ...`` when no one field is
at fault). Codes are stable: ``docs/bad-input.md`` is keyed by them and ``tests/test_rules.py`` holds one failing
deck per code that produces that code and no other. A code never changes meaning and is never reused.

The families, in the order a card meets them:

- ``DECK``: the folders you point the quiz at;
- ``FILE``: a card file as bytes; ``YAML``: the same file as YAML;
- ``FIELD``: one field against the card format (``quiz.models``; pydantic's errors put in words you can act on);
- ``CARD``: a card's fields against each other, against its file and against the other cards;
- ``NUM``: a numeric question against the formulas; ``PROOF``: a card against its proof module.

Reading a file (DECK, FILE, YAML) happens in ``quiz.deck``, which names the code where the problem arises. The
card rules below run in three stages: ``ALONE`` (the card by itself), ``PLACED`` (the card in its file, among the
cards read before it) and ``LINKED`` (the card against the whole deck and its answers folder). This module reads
no files: the deck hands each rule what it may look at.
"""

from __future__ import annotations

import itertools
import string
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from answers import SHARED
from quiz.models import Card, Location
from quiz.paths import shown_path
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
        what = f"{self.code} {self.message}"
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


# --------------------------------------------------------------------------------------------------
# FIELD: pydantic's validation errors, each given a code and words a person can act on


def field_problem(error: Mapping[str, Any]) -> tuple[str, str]:
    """The code and message for one of pydantic's ``ValidationError.errors()``."""
    kind, loc = error["type"], error["loc"]
    if kind == "missing":
        return "FIELD001", "required field is missing; add it"
    if kind == "extra_forbidden":
        return "FIELD002", f"unknown field '{loc[-1]}'; remove it or fix its spelling"
    if kind == "string_pattern_mismatch":
        name = loc[-1] if loc else ""
        if name in ("id", "related", "tags") or (len(loc) >= 2 and loc[-2] in ("related", "tags")):
            return "FIELD003", "must be lowercase words joined by hyphens, like 'causal-masking'"
        if name in ("proof", "formula"):
            return "FIELD004", "must be a Python function name, like 'mask_hides_only_the_future'"
    if kind == "string_too_short":
        return "FIELD005", "must not be empty"
    return "FIELD006", error["msg"][0].lower() + error["msg"][1:]


# --------------------------------------------------------------------------------------------------
# The card rules


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


def _id_is_file_name(card: Card, scope: Scope) -> Iterator[Finding]:
    if card.id != scope.path.stem:
        yield Finding(("id",), f"'{card.id}' differs from the file name; rename one to match")


def _topic_is_folder(card: Card, scope: Scope) -> Iterator[Finding]:
    folder = scope.path.parent.name
    if card.topic != folder:
        yield Finding(("topic",), f"'{card.topic}' but the card is in folder '{folder}'; move it or fix the topic")


def _id_is_not_reserved(card: Card, scope: Scope) -> Iterator[Finding]:
    if card.module in RESERVED_MODULES:
        yield Finding(("id",), f"'{card.id}' is reserved for a shared module; choose another id")


def _id_is_unique(card: Card, scope: Scope) -> Iterator[Finding]:
    if card.id in scope.cards:
        yield Finding(("id",), f"'{card.id}' is already used by {shown_path(scope.paths[card.id])}")


def _related_cards_exist(card: Card, scope: Scope) -> Iterator[Finding]:
    for i, related in enumerate(card.related):
        if related not in scope.cards and related not in scope.invalid:
            yield Finding(("related", i), f"no card '{related}' in this deck")


def _not_related_to_itself(card: Card, scope: Scope) -> Iterator[Finding]:
    if card.id in card.related:
        yield Finding(("related", card.related.index(card.id)), "a card cannot be related to itself")


def _claims_name_distinct_functions(card: Card, scope: Scope) -> Iterator[Finding]:
    proofs = [claim.proof for claim in card.claims]
    for i, proof in enumerate(proofs):
        if proof in proofs[:i]:
            yield Finding(("claims", i, "proof"), f"'{proof}' is named twice; each claim needs its own function")


def _pitfalls_name_claims(card: Card, scope: Scope) -> Iterator[Finding]:
    proofs = {claim.proof for claim in card.claims}
    for i, pitfall in enumerate(card.pitfalls):
        if pitfall.proof not in proofs:
            yield Finding(
                ("pitfalls", i, "proof"), f"'{pitfall.proof}' is not one of this card's claims; name one of them"
            )


def _one_correct_choice(card: Card, scope: Scope) -> Iterator[Finding]:
    correct = sum(choice.correct for choice in card.choices)
    if card.choices and (correct != 1 or len(card.choices) < 3):
        yield Finding(
            ("choices",),
            f"need exactly one correct answer among 3 or more choices (found {correct} of {len(card.choices)})",
        )


def _wrong_choices_say_why(card: Card, scope: Scope) -> Iterator[Finding]:
    for i, choice in enumerate(card.choices):
        if not choice.correct and not choice.why:
            yield Finding(("choices", i, "why"), "a wrong choice needs a 'why' saying what is wrong with it")


def _at_most_ten_choices(card: Card, scope: Scope) -> Iterator[Finding]:
    # `take` names a choice by its letter; a choice past the last letter could be neither shown nor picked.
    if len(card.choices) > len(CHOICE_LETTERS):
        message = f"{len(card.choices)} choices, but at most {len(CHOICE_LETTERS)} can be shown; drop some wrong ones"
        yield Finding(("choices",), message)


def _formula_exists(card: Card, scope: Scope) -> Iterator[Finding]:
    for i, numeric in enumerate(card.numeric):
        if numeric.formula not in scope.formulas:
            yield Finding(("numeric", i, "formula"), f"no formula '{numeric.formula}' in answers/formulas")


def _params_are_formula_arguments(card: Card, scope: Scope) -> Iterator[Finding]:
    for i, numeric in enumerate(card.numeric):
        if numeric.formula in scope.formulas:
            unknown = sorted(set(numeric.params) - set(scope.formulas[numeric.formula]))
            if unknown:
                message = f"'{numeric.formula}' takes no argument '{unknown[0]}'"
                yield Finding(("numeric", i, "params", unknown[0]), message)


def _fields(prompt: str) -> list[tuple[str | None, str | None, str | None]]:
    """The replacement fields of a prompt as (name, format spec, conversion); [] when it does not parse."""
    try:
        return [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(prompt)]
    except ValueError:
        return []


def _required_arguments_given(card: Card, scope: Scope) -> Iterator[Finding]:
    for i, numeric in enumerate(card.numeric):
        missing = [name for name in scope.required.get(numeric.formula, ()) if name not in numeric.params]
        if missing:
            yield Finding(("numeric", i, "params"), f"'{numeric.formula}' needs '{missing[0]}'; give it values")


def _every_combination_computes(card: Card, scope: Scope) -> Iterator[Finding]:
    for i, numeric in enumerate(card.numeric):
        known = scope.formulas.get(numeric.formula)
        if known is None or set(numeric.params) - set(known) or not all(numeric.params.values()):
            continue  # NUM001, NUM002 or NUM004 already says what is wrong
        if any(name not in numeric.params for name in scope.required.get(numeric.formula, ())):
            continue  # NUM006
        names = list(numeric.params)
        for values in itertools.islice(itertools.product(*numeric.params.values()), MAX_COMBINATIONS):
            wrong = scope.evaluate(numeric.formula, dict(zip(names, values, strict=True)))
            if wrong:
                yield Finding(("numeric", i, "params"), wrong)
                break


def _placeholders_are_plain(card: Card, scope: Scope) -> Iterator[Finding]:
    # The values are formatted by the quiz (format_param): a spec, a conversion, an index or an attribute is
    # never needed, and each is a way to crash `take` (`{}`, `{x:{y}}`) or make it allocate (`{x:>999999999}`).
    for i, numeric in enumerate(card.numeric):
        try:
            fields = list(string.Formatter().parse(numeric.prompt))
        except ValueError as exc:
            yield Finding(("numeric", i, "prompt"), f"prompt does not parse ({exc}); write a literal brace as {{{{")
            continue
        for _, name, spec, conversion in fields:
            if name is None:
                continue
            if not name.isidentifier() or spec or conversion:
                shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
                message = f"prompt uses {shown}; a placeholder is a parameter's name alone, like {{tokens}}"
                yield Finding(("numeric", i, "prompt"), message)
                break


def _placeholders_are_params(card: Card, scope: Scope) -> Iterator[Finding]:
    for i, numeric in enumerate(card.numeric):
        names = {name for name, _, _ in _fields(numeric.prompt) if name and name.isidentifier()}
        unknown = sorted(names - set(numeric.params))
        if unknown:
            yield Finding(("numeric", i), f"prompt uses {{{unknown[0]}}} but params do not define it")


def _params_have_values(card: Card, scope: Scope) -> Iterator[Finding]:
    for i, numeric in enumerate(card.numeric):
        empty = sorted(name for name, values in numeric.params.items() if not values)
        if empty:
            yield Finding(("numeric", i), f"parameter '{empty[0]}' has no values")


def _module(card: Card, scope: Scope) -> tuple[Path, Outline | None]:
    path = scope.answers_dir / f"{card.module}.py"
    return path, scope.outline(path)


def _module_exists(card: Card, scope: Scope) -> Iterator[Finding]:
    path, outline = _module(card, scope)
    if outline is None:
        message = f"proof module {shown_path(path)} is missing or unreadable; create it with the claim functions"
        yield Finding(("claims",), message)


def _claim_functions_exist(card: Card, scope: Scope) -> Iterator[Finding]:
    path, outline = _module(card, scope)
    for i, claim in enumerate(card.claims if outline else ()):
        if claim.proof not in outline.functions:
            yield Finding(("claims", i, "proof"), f"function '{claim.proof}' is not defined in {shown_path(path)}")


def _claim_functions_return_evidence(card: Card, scope: Scope) -> Iterator[Finding]:
    path, outline = _module(card, scope)
    for i, claim in enumerate(card.claims if outline else ()):
        if claim.proof in outline.functions and not outline.functions[claim.proof][2]:
            message = f"'{claim.proof}' must be annotated '-> Evidence' in {shown_path(path)}"
            yield Finding(("claims", i, "proof"), message)


def _evidence_functions_are_claims(card: Card, scope: Scope) -> Iterator[Finding]:
    path, outline = _module(card, scope)
    named = {claim.proof for claim in card.claims}
    message = f"returns Evidence but card '{card.id}' names no claim for it; add one or remove it"
    for name, (line, _, is_claim) in sorted(outline.functions.items() if outline else ()):
        if is_claim and name not in named and not name.startswith("_"):
            yield Finding((name,), message, file=path, line=line)


RULES: tuple[Rule, ...] = (
    Rule("CARD006", Stage.ALONE, _not_related_to_itself),
    Rule("CARD007", Stage.ALONE, _claims_name_distinct_functions),
    Rule("CARD008", Stage.ALONE, _pitfalls_name_claims),
    Rule("CARD009", Stage.ALONE, _one_correct_choice),
    Rule("CARD010", Stage.ALONE, _wrong_choices_say_why),
    Rule("CARD011", Stage.ALONE, _at_most_ten_choices),
    Rule("NUM003", Stage.ALONE, _placeholders_are_params),
    Rule("NUM004", Stage.ALONE, _params_have_values),
    Rule("NUM005", Stage.ALONE, _placeholders_are_plain),
    Rule("CARD001", Stage.PLACED, _id_is_file_name),
    Rule("CARD002", Stage.PLACED, _topic_is_folder),
    Rule("CARD003", Stage.PLACED, _id_is_not_reserved, keeps_out=True),
    Rule("CARD004", Stage.PLACED, _id_is_unique, keeps_out=True),
    Rule("CARD005", Stage.LINKED, _related_cards_exist),
    Rule("PROOF001", Stage.LINKED, _module_exists),
    Rule("PROOF002", Stage.LINKED, _claim_functions_exist),
    Rule("PROOF003", Stage.LINKED, _claim_functions_return_evidence),
    Rule("PROOF004", Stage.LINKED, _evidence_functions_are_claims),
    Rule("NUM001", Stage.LINKED, _formula_exists),
    Rule("NUM002", Stage.LINKED, _params_are_formula_arguments),
    Rule("NUM006", Stage.LINKED, _required_arguments_given),
    Rule("NUM007", Stage.LINKED, _every_combination_computes),
)


def check(card: Card, stage: Stage, scope: Scope, lines: Mapping[Location, int]) -> tuple[list[Problem], bool]:
    """Run one stage's rules on a card: the problems found, and whether the card is kept in the deck."""
    problems: list[Problem] = []
    shown = shown_path(scope.path)
    for rule in RULES:
        if rule.stage is not stage:
            continue
        found = [_problem(rule.code, finding, shown, lines) for finding in rule.check(card, scope)]
        problems.extend(found)
        if found and rule.keeps_out:
            return problems, False
    return problems, True


def _problem(code: str, finding: Finding, shown: str, lines: Mapping[Location, int]) -> Problem:
    if finding.file is not None:
        return Problem(shown_path(finding.file), finding.line, field_name(finding.loc), finding.message, code)
    return Problem(shown, line_of(lines, finding.loc), field_name(finding.loc), finding.message, code)


# --------------------------------------------------------------------------------------------------
# Rules on the answers folder as a whole


def no_module_for_any_card(cards: Mapping[str, Card], answers_dir: Path) -> list[Problem]:
    """DECK005: an answers folder with none of the deck's proofs is one line, not one per card."""
    if cards and not any((answers_dir / f"{card.module}.py").is_file() for card in cards.values()):
        message = f"holds no proof module for any of the {len(cards)} cards; point --answers at this deck's proofs"
        return [Problem(shown_path(answers_dir), 0, "", message, "DECK005")]
    return []


def modules_without_cards(cards: Mapping[str, Card], invalid: set[str], answers_dir: Path) -> list[Problem]:
    """PROOF005: when the deck owns its answers folder, every proof module there belongs to one of its cards."""
    modules = {card.module for card in cards.values()}
    message = "proof module has no card; add questions/<topic>/<id>.yaml or remove it"
    return [
        Problem(shown_path(path), 1, "", message, "PROOF005")
        for path in sorted(answers_dir.glob("*.py"))
        if path.stem not in SHARED_MODULES | modules and path.stem.replace("_", "-") not in invalid
    ]
