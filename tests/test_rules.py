"""One failing deck per rule code (tldr-lint style): each deck below breaks exactly one rule of ``quiz.rules``,
and loading it must report that code and no other. A deck that tripped a second rule would hide which rule
fired, so the assertion is on the whole set of codes."""

from __future__ import annotations

import errno
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import VALID_CARD, VALID_MODULE, DeckBuilder

from quiz.deck import DeckError, load_deck
from quiz.rules import CODES, Problem

DOC = Path(__file__).resolve().parent.parent / "docs" / "bad-input.md"


def replace(old: str, new: str, text: str = VALID_CARD) -> str:
    assert old in text
    return text.replace(old, new)


def card(text: str = VALID_CARD, module: str | None = VALID_MODULE, **where: str) -> Callable[..., dict]:
    """A deck of one card (and its proof module, unless ``module`` is None)."""

    def build(deck: DeckBuilder, monkeypatch: pytest.MonkeyPatch) -> dict:
        deck.card(text, **where)
        if module is not None:
            deck.module(text=module)
        return {}

    return build


def valid_and(extra: Callable[[DeckBuilder, pytest.MonkeyPatch], Any]) -> Callable[..., dict]:
    """The valid deck, then ``extra`` done to it; a dict ``extra`` returns is passed on to ``load_deck``."""

    def build(deck: DeckBuilder, monkeypatch: pytest.MonkeyPatch) -> dict:
        deck.card()
        deck.module()
        arguments = extra(deck, monkeypatch)
        return arguments if isinstance(arguments, dict) else {}

    return build


def failing_os_call(monkeypatch: pytest.MonkeyPatch, method: str) -> None:
    """What no test deck can make happen to a root user: the file system refusing a read."""
    real = getattr(Path, method)

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name.endswith((".yaml", "questions")):
            raise OSError(errno.EIO, "Input/output error")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, method, refuse)


def numeric(prompt: str, formula: str, params: str) -> str:
    return (
        VALID_CARD + f"numeric:\n  - prompt: {prompt}\n    formula: {formula}\n    params: {params}\n    unit: count\n"
    )


def choices(*rows: str) -> str:
    return VALID_CARD + "choices:\n" + "".join(f"  - {row}\n" for row in rows)


WITHOUT_SECOND_CLAIM = replace("def two_times_two_is_four() -> Evidence:", "def _helper():", VALID_MODULE)

FIXTURES: dict[str, Callable[[DeckBuilder, pytest.MonkeyPatch], dict]] = {
    "DECK001": lambda deck, _: {"root": Path("nowhere")},
    "DECK002": valid_and(lambda deck, _: {"answers_dir": Path("nowhere")}),
    "DECK003": lambda deck, _: {},
    "DECK004": valid_and(lambda deck, monkeypatch: failing_os_call(monkeypatch, "glob")),
    "DECK005": card(module=None),
    "FILE001": valid_and(lambda deck, _: (deck.questions / "scale" / "folder.yaml").mkdir()),
    "FILE002": card(VALID_CARD + "# " + "x" * 300_000 + "\n"),
    "FILE003": valid_and(lambda deck, _: deck.card().write_bytes(b"id: tiny-card\ntitle: caf\xe9\n")),
    "FILE004": valid_and(lambda deck, monkeypatch: failing_os_call(monkeypatch, "read_text")),
    "YAML001": card(VALID_CARD + "tags: [unclosed\n", name="tiny-card"),
    "YAML002": card(VALID_CARD + "a: &a [x, x]\nb: &b [*a, *a]\n"),
    "YAML003": card("? [a, b]\n: c\n", name="tiny-card"),
    "YAML004": card(VALID_CARD + "title: Another title\n"),
    "YAML005": card("- just\n- a list\n", name="tiny-card"),
    "YAML006": card(replace("claims:", "source: 2024-02-30\nclaims:")),
    "YAML007": card(replace("tags: [demo]", "tags: " + "[" * 990 + "]" * 990)),
    "FIELD001": card(replace("answer: Two.\n", "")),
    "FIELD002": card(VALID_CARD + "colour: blue\n"),
    "FIELD003": card(replace("id: tiny-card", "id: Tiny_Card"), name="tiny-card"),
    "FIELD004": card(replace("proof: one_plus_one_is_two", "proof: os:system")),
    "FIELD005": card(replace("answer: Two.", "answer: '  '")),
    "FIELD006": card(replace("difficulty: easy", "difficulty: trivial")),
    "CARD001": card(name="other-name"),
    "CARD002": card(topic="masking"),
    "CARD003": card(replace("id: tiny-card", "id: reference"), module=None, name="reference"),
    "CARD004": valid_and(lambda deck, _: deck.card(replace("topic: scale", "topic: masking"), topic="masking")),
    "CARD005": card(VALID_CARD + "related: [no-such-card]\n"),
    "CARD006": card(VALID_CARD + "related: [tiny-card]\n"),
    "CARD007": card(replace("proof: two_times_two_is_four", "proof: one_plus_one_is_two"), WITHOUT_SECOND_CLAIM),
    "CARD008": card(
        VALID_CARD + "pitfalls:\n  - myth: One plus one is three.\n    truth: It is two.\n    proof: not_a_claim\n"
    ),
    "CARD009": card(choices("text: Two\n    why: a", "text: Three\n    why: b", "text: Four\n    why: c")),
    "CARD010": card(choices("text: Two\n    correct: true", "text: Three\n    why: b", "text: Four")),
    "CARD011": card(choices("text: Two\n    correct: true", *(f"text: wrong {i}\n    why: w" for i in range(10)))),
    "NUM001": card(numeric("How many?", "no_such_formula", "{tokens: [8]}")),
    "NUM002": card(numeric("How many?", "attention_score_count", "{tokens: [8], colour: [1]}")),
    "NUM003": card(numeric("For {heads}?", "attention_score_count", "{tokens: [8]}")),
    "NUM004": card(numeric("How many?", "attention_score_count", "{tokens: []}")),
    "NUM005": card(numeric("'How many for {}?'", "attention_score_count", "{tokens: [8]}")),
    "NUM006": card(numeric("How many?", "kv_cache_saving", "{query_heads: [8]}")),
    "NUM007": card(
        numeric("'{query_heads} over {kv_heads}?'", "kv_cache_saving", "{query_heads: [8], kv_heads: [2, 0]}")
    ),
    "PROOF001": valid_and(lambda deck, _: deck.card(replace("id: tiny-card", "id: second-card"), name="second-card")),
    "PROOF002": card(module=WITHOUT_SECOND_CLAIM),
    "PROOF003": card(
        module=replace(
            "-> Evidence:\n    return Evidence(measured=2", ":\n    return Evidence(measured=2", VALID_MODULE
        )
    ),
    "PROOF004": card(module=VALID_MODULE + "\n\ndef a_third_claim() -> Evidence:\n    return one_plus_one_is_two()\n"),
    "PROOF005": valid_and(lambda deck, _: (deck.module("stray_proof"), {"owns_answers": True})[1]),
    "PROOF006": card(module=VALID_MODULE + "#" * (600 * 1024) + "\n"),
}


def problems_of(deck: DeckBuilder, arguments: dict) -> list[Problem]:
    root = arguments.pop("root", deck.questions)
    answers = arguments.pop("answers_dir", deck.answers)
    try:
        load_deck(root, answers, **arguments)
    except DeckError as error:
        return error.problems
    return []


def codes_of(deck: DeckBuilder, arguments: dict) -> set[str]:
    return {problem.code for problem in problems_of(deck, arguments)}


@pytest.mark.parametrize("code", sorted(FIXTURES))
def test_each_failing_deck_reports_exactly_its_rule_code(code, deck_builder, monkeypatch):
    arguments = FIXTURES[code](deck_builder, monkeypatch)
    assert codes_of(deck_builder, arguments) == {code}


def test_the_fixtures_pass_the_other_rules(valid_deck):
    """The control: the deck every fixture starts from loads, so each fixture's code is its own doing."""
    assert codes_of(valid_deck, {}) == set()


def test_every_rule_code_has_a_failing_deck():
    assert sorted(FIXTURES) == sorted(CODES)


def doc_rows(code: str) -> list[str]:
    return [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith(f"| `{code}` |")]


@pytest.mark.parametrize("code", sorted(FIXTURES))
def test_the_document_quotes_each_codes_line_in_its_row(code, deck_builder, monkeypatch):
    [first, *_] = problems_of(deck_builder, FIXTURES[code](deck_builder, monkeypatch))
    assert any(f"`Error: {first}`" in row for row in doc_rows(code)), f"docs/bad-input.md: no row {code} quotes it"


def test_the_document_lists_the_codes_in_the_order_of_the_rules_table():
    text = DOC.read_text(encoding="utf-8")
    documented = list(dict.fromkeys(re.findall(r"^\| `([A-Z]+\d{3})` \|", text, flags=re.MULTILINE)))
    assert documented == list(CODES)


def test_a_problem_with_an_unknown_code_cannot_be_made():
    with pytest.raises(ValueError, match="unknown rule code 'CARD999'"):
        Problem("questions/x/y.yaml", 1, "id", "a message", "CARD999")
