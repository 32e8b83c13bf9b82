"""Shared fixtures: small decks written into tmp_path, and a run that never writes into the working tree or the
home folder: the progress database, the card cache and every cache a library keeps go to temporary folders."""

from __future__ import annotations

import tempfile
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis keeps an example database and caches in .hypothesis/ of the working directory, and fills the
# caches while pytest collects, before any fixture runs: no database, and the caches in a folder of this run.
settings.register_profile("isolated", database=None)
settings.load_profile("isolated")
_hypothesis_home = tempfile.TemporaryDirectory(prefix="quiz-tests-hypothesis-")
set_hypothesis_home_dir(_hypothesis_home.name)

# Settings of the quiz a developer may have exported; a test sees only what it sets itself.
QUIZ_VARIABLES = (
    "QUIZ_QUESTIONS",
    "QUIZ_ANSWERS",
    "QUIZ_SITE_CACHE",
    "QUIZ_SITE_WORKERS",
    "QUIZ_TRUST_ANSWERS",
    "QUIZ_NOW",
)


@pytest.fixture(scope="session", autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A home folder of the run's own, for the whole session (session fixtures, such as the KaTeX download, run
    before any per-test fixture): platformdirs (the card cache and progress database defaults), matplotlib's
    font cache, npm's cache and anything else that writes under ~ write here instead."""
    home = tmp_path_factory.mktemp("home")
    npmrc = Path.home() / ".npmrc"
    with pytest.MonkeyPatch.context() as patch:
        if npmrc.is_file():  # the machine's registry settings are read from there; reading is fine
            patch.setenv("npm_config_userconfig", str(npmrc))
        patch.setenv("HOME", str(home))
        for variable, folder in {
            "XDG_CACHE_HOME": ".cache",
            "XDG_DATA_HOME": ".local/share",
            "XDG_CONFIG_HOME": ".config",
            "XDG_STATE_HOME": ".local/state",
            "MPLCONFIGDIR": ".config/matplotlib",
            "npm_config_cache": ".npm",
            "QUIZ_CACHE_DIR": ".cache/transformer-proofs",  # keyed by each deck's files, so tests can share it
        }.items():
            patch.setenv(variable, str(home / folder))
        for variable in QUIZ_VARIABLES:
            patch.delenv(variable, raising=False)
        yield home


@pytest.fixture(autouse=True)
def isolated_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with an empty progress database of its own."""
    monkeypatch.setenv("QUIZ_DB", str(tmp_path / "autouse-progress.sqlite3"))


VALID_CARD = """\
id: tiny-card
title: A tiny card
topic: scale
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

    def card(self, text: str = VALID_CARD, *, topic: str = "scale", name: str | None = None) -> Path:
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
