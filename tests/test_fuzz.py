"""Fuzzing the deck loader: whatever bytes a card holds, loading it ends in a deck or in the project's own
DeckError — never in any other exception. FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py digs deeper."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quiz.deck import DEFAULT_QUESTIONS, DeckError, load_deck

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REAL_CARDS = sorted(p.read_text(encoding="utf-8") for p in DEFAULT_QUESTIONS.glob("*/*.yaml"))

_workdir = tempfile.TemporaryDirectory()
DECK = Path(_workdir.name) / "questions"
CARD = DECK / "scaling" / "fuzzed-card.yaml"
CARD.parent.mkdir(parents=True)


def loads_or_reports(data: bytes) -> None:
    CARD.write_bytes(data)
    try:
        load_deck(DECK, Path(_workdir.name) / "answers")
    except DeckError as error:
        assert error.lines(), "a DeckError must say what is wrong"
        assert all("\n" not in line for line in error.lines()), "each problem is one line"


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes_load_or_give_deck_errors(data):
    loads_or_reports(data)


@FUZZ
@given(st.text(max_size=400))
def test_random_text_loads_or_gives_deck_errors(text):
    loads_or_reports(text.encode("utf-8"))


scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
documents = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12) | scalars, children, max_size=6)
    ),
    max_leaves=20,
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


@FUZZ
@given(st.dictionaries(field_names, documents, max_size=15))
def test_random_yaml_documents_with_card_fields_load_or_give_deck_errors(document):
    loads_or_reports(yaml.safe_dump(document, allow_unicode=True).encode("utf-8"))


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


@FUZZ
@given(st.lists(yaml_tokens, max_size=40).map("".join))
def test_yaml_syntax_soup_loads_or_gives_deck_errors(text):
    loads_or_reports(text.encode("utf-8"))
