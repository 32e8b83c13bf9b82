"""Fuzzing the deck loader: whatever bytes a card holds, loading it ends in a deck or in the project's own
DeckError, never in any other exception. FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py digs deeper
(300 examples per test by default).

The fuzzed deck is a real one: its answers folder holds every proof module of the bank (linked, not copied) and
one for the fuzzed card itself, so an input gets past the folder checks to the YAML parser, the card model and
the rules, mutated real cards reach the proof-module rules, and no input may stop at a folder error
(``DECK001``-``DECK004``). ``test_a_loader_that_crashes_fails_every_fuzz_test`` is the proof that these tests can
fail: with the parser, or the validator, made to raise, every one of them goes red.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import yaml
from conftest import VALID_MODULE
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import quiz.cardfile
import quiz.deck
from quiz.deck import DEFAULT_ANSWERS, DEFAULT_QUESTIONS, DeckError, load_deck

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
REAL_CARDS = sorted(p.read_text(encoding="utf-8") for p in DEFAULT_QUESTIONS.glob("*/*.yaml"))

_workdir = tempfile.TemporaryDirectory()
DECK = Path(_workdir.name) / "questions"
ANSWERS = Path(_workdir.name) / "answers"
CARD = DECK / "scale" / "fuzzed-card.yaml"
CARD.parent.mkdir(parents=True)
ANSWERS.mkdir()
(ANSWERS / "fuzzed_card.py").write_text(VALID_MODULE, encoding="utf-8")
for _module in DEFAULT_ANSWERS.glob("*.py"):
    (ANSWERS / _module.name).symlink_to(_module)
FOLDER_CODES = {"DECK001", "DECK002", "DECK003", "DECK004"}


def loads_or_reports(data: bytes) -> None:
    CARD.write_bytes(data)
    try:
        load_deck(DECK, ANSWERS)
    except DeckError as error:
        assert error.lines(), "a DeckError must say what is wrong"
        assert all("\n" not in line for line in error.lines()), "each problem is one line"
        stopped = sorted(FOLDER_CODES & {problem.code for problem in error.problems})
        assert not stopped, f"the input never reached the card: {stopped}"


@st.composite
def spliced_cards(draw) -> bytes:
    """A real card with a run of arbitrary bytes written over part of it: most of it still parses."""
    data = draw(st.sampled_from(REAL_CARDS)).encode("utf-8")
    junk = draw(st.binary(min_size=1, max_size=40))
    start = draw(st.integers(0, len(data)))
    return data[:start] + junk + data[start + len(junk) :]


RANDOM_BYTES = st.binary(max_size=400) | spliced_cards()
RANDOM_TEXT = st.text(max_size=400)


@FUZZ
@given(RANDOM_BYTES)
def test_random_bytes_load_or_give_deck_errors(data):
    loads_or_reports(data)


@FUZZ
@given(RANDOM_TEXT)
def test_random_text_loads_or_gives_deck_errors(text):
    loads_or_reports(text.encode("utf-8"))


scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12) | scalars, children, max_size=6)
    ),
    max_leaves=10,
)
field_names = st.sampled_from(
    [
        "id",
        "title",
        "topic",
        "difficulty",
        "tags",
        "question",
        "answer",
        "explanation",
        "claims",
        "pitfalls",
        "related",
        "choices",
        "numeric",
        "references",
        "asked_in",
    ]
)


CARD_DOCUMENTS = st.dictionaries(field_names, documents, max_size=15)


@FUZZ
@given(CARD_DOCUMENTS)
def test_random_yaml_documents_with_card_fields_load_or_give_deck_errors(document):
    loads_or_reports(yaml.dump(document, Dumper=yaml.CSafeDumper, allow_unicode=True).encode("utf-8"))


@st.composite
def mutated_cards(draw):
    lines = draw(st.sampled_from(REAL_CARDS)).splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["delete", "duplicate", "insert", "indent", "truncate", "swap"]))
        if action == "delete" and len(lines) > 1:
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "insert":
            lines.insert(i, draw(st.text(max_size=30)) + "\n")
        elif action == "indent":
            lines[i] = draw(st.sampled_from(["  ", "\t", "- ", ": "])) + lines[i]
        elif action == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif action == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


@FUZZ
@given(mutated_cards())
def test_mutations_of_real_cards_load_or_give_deck_errors(text):
    loads_or_reports(text.encode("utf-8"))


yaml_tokens = st.sampled_from(
    [
        "? ",
        ": ",
        "- ",
        "[",
        "]",
        "{",
        "}",
        ", ",
        "&a ",
        "*a",
        "!!str ",
        "!!map ",
        "!!python/name:os.system ",
        "|\n",
        ">\n",
        "\n",
        "\n  ",
        "\n    ",
        "id",
        "claims",
        "proof",
        "'",
        '"',
        "#",
        "~",
        "null",
        "1e9",
        "---\n",
        "...\n",
        "%YAML 1.1\n",
        "<<: ",
        "\t",
        "\\u0000",
    ]
)


YAML_SOUP = st.lists(yaml_tokens, max_size=40).map("".join)


@FUZZ
@given(YAML_SOUP)
def test_yaml_syntax_soup_loads_or_gives_deck_errors(text):
    loads_or_reports(text.encode("utf-8"))


FUZZ_TESTS = {  # each fuzz test with what it draws from
    test_random_bytes_load_or_give_deck_errors: RANDOM_BYTES,
    test_random_text_loads_or_gives_deck_errors: RANDOM_TEXT,
    test_random_yaml_documents_with_card_fields_load_or_give_deck_errors: CARD_DOCUMENTS,
    test_mutations_of_real_cards_load_or_give_deck_errors: mutated_cards(),
    test_yaml_syntax_soup_loads_or_gives_deck_errors: YAML_SOUP,
}
# The same tests, stopped at their first failure and not shrinking it: one crash is all this needs to see.
UNTIL_FIRST_FAILURE = settings(FUZZ, max_examples=200, phases=[Phase.generate])


@pytest.mark.parametrize("stage", ["parse_yaml", "validate_card"])
@pytest.mark.parametrize("fuzz_test", FUZZ_TESTS, ids=lambda test: test.__name__.removeprefix("test_"))
def test_a_loader_that_crashes_fails_every_fuzz_test(fuzz_test, stage, monkeypatch):
    """The fuzz tests reach the parser and the validator: made to crash there, each of them fails."""

    def crash(*args, **kwargs):
        raise RuntimeError(f"mutant: {stage} crashes")

    monkeypatch.setattr({"parse_yaml": quiz.cardfile, "validate_card": quiz.deck}[stage], stage, crash)
    run = UNTIL_FIRST_FAILURE(given(FUZZ_TESTS[fuzz_test])(fuzz_test.hypothesis.inner_test))
    with pytest.raises(RuntimeError, match=f"mutant: {stage} crashes"):
        run()
