"""Shared fixtures: small decks written into tmp_path, never into the working tree."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

VALID_CARD = """\
id: tiny-card
title: A tiny card
topic: scaling
difficulty: easy
tags: [demo]
question: What is one plus one?
answer: Two.
explanation: Because $1 + 1 = 2$.
claims:
  - statement: One plus one is two.
    proof: one_plus_one_is_two
  - statement: Two times two is four.
    proof: two_times_two_is_four
"""

VALID_MODULE = '''\
"""A tiny proof module for tests."""

from answers.evidence import Evidence


def one_plus_one_is_two() -> Evidence:
    return Evidence(measured=1 + 1, expected=2, comparison="equal", derivation="arithmetic",
                    counterfactual="one minus one", counterfactual_measured=1 - 1)


def two_times_two_is_four() -> Evidence:
    return Evidence(measured=2 * 2, expected=4, comparison="equal", derivation="arithmetic",
                    counterfactual="two plus three", counterfactual_measured=2 + 3)
'''


class DeckBuilder:
    """Writes cards and proof modules into a temporary deck: <root>/questions and <root>/answers."""

    def __init__(self, root: Path) -> None:
        self.questions = root / "questions"
        self.answers = root / "answers"
        self.questions.mkdir()
        self.answers.mkdir()

    def card(self, text: str = VALID_CARD, *, topic: str = "scaling", name: str | None = None) -> Path:
        text = textwrap.dedent(text)
        card_id = name or next(line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("id:"))
        path = self.questions / topic / f"{card_id}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def module(self, name: str = "tiny_card", text: str = VALID_MODULE) -> Path:
        path = self.answers / f"{name}.py"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def load(self, **kwargs):
        from quiz.deck import load_deck

        return load_deck(self.questions, self.answers, **kwargs)


@pytest.fixture(autouse=True)
def _cache_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Card index and proof records in a folder of this test's own: a proof cached by one test must not answer
    for another's module, and no test writes into the user's cache."""
    monkeypatch.setenv("QUIZ_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def deck_builder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DeckBuilder:
    monkeypatch.chdir(tmp_path)  # error messages show paths relative to the working directory
    return DeckBuilder(tmp_path)


@pytest.fixture
def valid_deck(deck_builder: DeckBuilder) -> DeckBuilder:
    deck_builder.card()
    deck_builder.module()
    return deck_builder


@pytest.fixture
def problems_of(deck_builder: DeckBuilder) -> Callable[..., list[str]]:
    """The problem lines a deck produces (empty when it loads)."""
    from quiz.deck import DeckError

    def run(**kwargs) -> list[str]:
        try:
            deck_builder.load(**kwargs)
        except DeckError as error:
            return error.lines()
        return []

    return run
