"""The site's newer generated parts without a browser: keywords in the search index, the graded questions'
data, the one font scheme of the figures, and the way-in pages."""

from __future__ import annotations

import html
import itertools
import json
from pathlib import Path

import pytest

from answers.formulas import FORMULAS
from quiz.deck import load_deck
from quiz.numeric import format_param
from quiz.site.graded import graded_data
from quiz.site.guide import PATH
from quiz.site.proving import FONT_SCHEME, REFERENCE_WIDTH, apply_font_scheme
from quiz.site.search import KEYWORD_BOOST, add_keywords
from quiz.vocab import Topic


@pytest.fixture(scope="module")
def deck():
    return load_deck()


def test_keywords_get_a_boosted_field_on_their_page_and_code_leaves_the_index(tmp_path: Path):
    index = tmp_path / "search_index.json"
    docs = [
        {"location": "scaling/sqrt-dk-scaling.html", "title": "Why attention divides by √d_k", "text": "…"},
        {"location": "scaling/sqrt-dk-scaling.html#question", "title": "Question", "text": "…"},
        {
            "location": "sublayers/layer-normalization.html#claim",
            "title": "c",
            "text": "a <pre><code>torch.sqrt(x)</code></pre> b",
        },
    ]
    index.write_text(json.dumps({"config": {"fields": {"title": {"boost": 1000}}}, "docs": docs}))
    changed = add_keywords(index, {"scaling/sqrt-dk-scaling.html": ["sqrt", "square root"]})
    data = json.loads(index.read_text())
    assert changed == 1
    assert data["config"]["fields"]["keywords"] == {"boost": KEYWORD_BOOST}
    assert data["docs"][0]["keywords"] == "sqrt square root"
    assert "keywords" not in data["docs"][1]
    assert "torch.sqrt" not in data["docs"][2]["text"] and data["docs"][2]["text"].startswith("a ")


@pytest.mark.parametrize(
    "card_id", ["sqrt-dk-scaling", "kv-cache-decoding", "rope-relative-rotation", "gqa-mqa-kv-cache", "flash-attention"]
)
def test_the_cards_people_search_for_carry_the_word_they_type(deck, card_id):
    assert deck.cards[card_id].keywords, card_id


def test_every_card_with_choices_or_numeric_questions_gets_graded_data(deck):
    for card in deck:
        data = graded_data(card)
        assert ("choices" in data) == bool(card.choices)
        if card.choices:
            assert sum(c["correct"] for c in data["choices"]) == sum(c.correct for c in card.choices) >= 1
            assert all(c["why"] for c in data["choices"] if not c["correct"]) == all(
                c.why for c in card.choices if not c.correct
            )
        assert len(data.get("numeric", [])) == len(card.numeric)


def test_numeric_draws_shown_in_the_browser_are_the_python_formulas_values(deck):
    """Each configuration the page offers carries the value the formula gives for the numbers in its prompt."""
    checked = built = 0
    for card in deck:
        if not card.numeric:
            continue
        data = graded_data(card)
        for question, shown in zip(card.numeric, data["numeric"], strict=True):
            assert shown["unit"] == str(question.unit) and shown["tolerance"] == question.tolerance
            expected = {}
            names = list(question.params)
            for values in itertools.product(*question.params.values()):  # every configuration it can draw
                params = dict(zip(names, values, strict=True))
                prompt = question.prompt.format(**{k: format_param(v) for k, v in params.items()})
                expected[_text(prompt)] = float(FORMULAS[question.formula](**params))
            if "formula" in shown:  # drawn in the browser: tests/test_site_formulas.py runs the JS formula
                assert question.generated and "instances" not in shown
                continue
            built += 1
            for offered in shown["instances"]:
                assert offered["expected"] == expected[_text(offered["prompt"])], offered["prompt"]
                checked += 1
    assert built and checked >= built


def _text(html_or_markdown: str) -> str:
    import re

    return " ".join(html.unescape(re.sub(r"<[^>]+>|[$\\()]", "", html_or_markdown)).split())


def test_every_figure_text_follows_the_one_font_scheme_scaled_to_its_width():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for width in (6, 9):
        fig, (left, right) = plt.subplots(1, 2, figsize=(width, 3))
        left.plot([0, 1], [0, 1], label="a line")
        left.set_title("Title", fontsize=30)
        left.set_xlabel("x", fontsize=3)
        left.legend(fontsize=20)
        right.text(0.5, 0.5, "0.25", fontsize=40)
        right.tick_params(labelsize=2)
        fig.canvas.draw()
        apply_font_scheme(fig)
        factor = width / REFERENCE_WIDTH
        assert left.title.get_fontsize() == FONT_SCHEME["title"] * factor
        assert left.xaxis.label.get_fontsize() == FONT_SCHEME["label"] * factor
        assert left.get_legend().get_texts()[0].get_fontsize() == FONT_SCHEME["legend"] * factor
        assert right.texts[0].get_fontsize() == FONT_SCHEME["text"] * factor
        fig.canvas.draw()  # ticks are made again when drawn: they must keep the scheme's size
        assert {t.get_fontsize() for t in right.get_xticklabels()} == {FONT_SCHEME["tick"] * factor}
        plt.close(fig)


def test_start_page_walks_every_topic_once_in_the_suggested_order(deck):
    from quiz.site.guide import start_page
    from quiz.site.proving import CardProof

    proofs = {card.id: CardProof(card.id, "k", [], [], Path(".")) for card in deck}
    topics = [t for t in Topic if any(c.topic == t for c in deck)]
    text = start_page(deck, proofs, topics)
    assert sorted(t for t, _ in PATH) == sorted(Topic), "every topic has its place and its sentence on the path"
    positions = [text.index(f"({topic.value}/index.md)") for topic, _ in PATH if topic in topics]
    assert positions == sorted(positions)
    assert all(text.count(f"({topic.value}/index.md)") == 1 for topic in topics)


def test_hostile_choice_text_reaches_the_page_as_text(deck):
    from quiz.models import Choice

    card = deck.cards["sqrt-dk-scaling"].model_copy(
        update={
            "choices": [
                Choice(text="<img src=x onerror=alert(1)> $x^2$", correct=True, why="<script>alert(2)</script>"),
                Choice(text="[link](javascript:alert(3))", why="fine"),
            ]
        }
    )
    data = graded_data(card)
    shown = json.dumps(data)
    assert "<img" not in shown and "<script" not in shown and "javascript:" not in shown
    # Shown as the characters typed (entities the browser turns back into text), with the math still rendered.
    assert html.unescape(data["choices"][0]["html"]).startswith("<img src=x onerror=alert(1)> <span class=")
    assert "arithmatex" in data["choices"][0]["html"]


# ---- Exercise pages


def test_every_exercise_has_a_page_with_its_spec_starter_mistakes_and_commands(deck):
    from quiz.exercises import catalogue, starter
    from quiz.site.exercises import deck_exercises, exercise_page, index_page, mistakes, specification

    exercises = catalogue()
    assert exercises and deck_exercises(deck) == exercises, "every exercise practises a card of the bank"
    index = index_page(exercises, deck)
    for exercise in exercises:
        page = exercise_page(exercise, deck)
        assert f"quiz code start {exercise.id}\nquiz code check {exercise.file_name}" in page
        assert starter(exercise).rstrip() in page, "the starter file, whole, in a code block (copy button)"
        assert specification(exercise).splitlines()[0] in page
        found = mistakes(exercise)
        assert found, f"{exercise.id}: its check names no mistake"
        assert sum(line.startswith("- **") for line in page.splitlines()) == len(found)
        card = deck.cards[exercise.card]
        assert f"(../{card.topic.value}/{card.id}.md)" in page
        assert f"]({exercise.id}.md)" in index


def test_exercise_pages_are_written_without_importing_torch():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from quiz.deck import load_deck\n"
        "from quiz.exercises import catalogue\n"
        "from quiz.site.exercises import exercise_page, index_page\n"
        "deck = load_deck()\n"
        "pages = [exercise_page(e, deck) for e in catalogue()] + [index_page(catalogue(), deck)]\n"
        "assert pages and 'torch' not in sys.modules, sorted(m for m in sys.modules if 'torch' in m)[:3]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
