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

Where each part lives: ``codes`` (the one table of codes, and ``Problem``), ``scope`` (what a rule is and may
look at), ``fields`` (FIELD), ``card`` (CARD), ``numeric`` (NUM), ``proof`` (PROOF, and the answers folder as a
whole) and ``table`` (``RULES``: each card rule with its code and stage; ``check`` runs one stage).
"""

from quiz.rules.codes import (
    CODES,
    MAX_CARD_KIB,
    MAX_COMBINATIONS,
    RESERVED_MODULES,
    SHARED_MODULES,
    Problem,
    field_name,
    line_of,
)
from quiz.rules.fields import field_problem
from quiz.rules.proof import modules_without_cards, no_module_for_any_card
from quiz.rules.scope import Finding, Outline, Rule, Scope, Stage
from quiz.rules.table import RULES, check

__all__ = [
    "CODES",
    "MAX_CARD_KIB",
    "MAX_COMBINATIONS",
    "RESERVED_MODULES",
    "RULES",
    "SHARED_MODULES",
    "Finding",
    "Outline",
    "Problem",
    "Rule",
    "Scope",
    "Stage",
    "check",
    "field_name",
    "field_problem",
    "line_of",
    "modules_without_cards",
    "no_module_for_any_card",
]
