"""An Anki deck (.apkg) generated from the same cards, for studying on a phone.

The model and deck ids are fixed and each note's guid is derived from the card id, so re-importing an
updated export updates the notes already in Anki (and keeps their review history) instead of duplicating
them.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quiz.models import Card
    from quiz.proofs import ClaimResult, ProofCache

MODEL_ID = 1_607_392_319  # fixed forever: Anki matches notes to their note type by this id
DECK_ID = 2_059_400_110
DECK_NAME = "Transformer interview (proved by code)"

_CSS = """
.card { font-family: -apple-system, Segoe UI, sans-serif; font-size: 18px; text-align: left; color: #222; }
.meta { color: #888; font-size: 13px; }
.choices li { margin: 4px 0; }
.why { color: #666; font-size: 14px; }
.answer { border-left: 4px solid #3a3; padding-left: 10px; }
"""


def _html(markdown_text: str) -> str:
    """Markdown to HTML, with $…$ and $$…$$ turned into the \\(…\\) and \\[…\\] Anki renders with MathJax."""
    import markdown

    from quiz.site.safe import deck_markdown

    math: list[str] = []

    def keep(match: re.Match[str]) -> str:
        # Hide the math from the Markdown parser, which would read its underscores as emphasis.
        display = match.group(1) is not None
        body = html.escape(match.group(1) if display else match.group(2))
        math.append(f"\\[{body}\\]" if display else f"\\({body}\\)")
        return f"@@MATH{len(math) - 1}@@"

    text = re.sub(r"\$\$(.+?)\$\$|(?<![\\\w])\$(?!\s)(.+?)(?<!\s)\$", keep, markdown_text, flags=re.S)
    # Card text is the deck's: raw HTML, script and javascript: links in it become text (quiz.site.safe).
    rendered = markdown.markdown(deck_markdown(text), extensions=["fenced_code", "tables"])
    return re.sub(r"@@MATH(\d+)@@", lambda m: math[int(m.group(1))], rendered)


def _model():
    import genanki

    return genanki.Model(
        MODEL_ID,
        "Transformer proof card",
        fields=[{"name": "Id"}, {"name": "Question"}, {"name": "Answer"}, {"name": "Explanation"}, {"name": "Meta"}],
        templates=[
            {
                "name": "Recall",
                "qfmt": '<div class="meta">{{Meta}}</div>{{Question}}',
                "afmt": '{{FrontSide}}<hr id="answer"><div class="answer">{{Answer}}</div>{{Explanation}}',
            }
        ],
        css=_CSS,
    )


def _claim_item(statement: str, result: ClaimResult | None) -> str:
    """A claim, with its evidence when the proof cache holds it (the export runs no proof)."""
    if result is None or result.text is None:
        return f"<li>{html.escape(statement)}</li>"
    text = result.text
    evidence = (
        f"measured {text.measured}, expected {text.criterion}; {text.counterfactual}: {text.counterfactual_outcome}"
    )
    return f"<li>{html.escape(statement)} <span class='why'>({html.escape(evidence)})</span></li>"


def _inline(markdown_text: str) -> str:
    """_html without the paragraph around it, for text inside a list item or a bold line."""
    rendered = _html(markdown_text).strip()
    return (
        rendered[3:-4]
        if rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1
        else rendered
    )


def shuffled_choices(card: Card) -> list:
    """The choices in an order drawn from the card id: never the YAML's (right answer first), and the same in every
    export, so re-importing does not reshuffle a note someone is learning."""
    import random

    order = list(card.choices)
    random.Random(f"anki:{card.id}").shuffle(order)
    return order


def _fields(card: Card, results: list[ClaimResult] | None = None) -> list[str]:
    question = _html(card.choice_question or card.question) if card.choices else _html(card.question)
    answer = _html(card.answer)
    if card.choices:
        order = shuffled_choices(card)
        items = "".join(f"<li>{_inline(choice.text)}</li>" for choice in order)
        question += f'<ol type="a" class="choices">{items}</ol>'
        letter = "abcdefghij"[next(i for i, c in enumerate(order) if c.correct)]
        right = next(c for c in order if c.correct)
        wrong = "".join(
            f"<li>({'abcdefghij'[i]}) {_inline(c.text)}<br><span class='why'>{_inline(c.why or '')}</span></li>"
            for i, c in enumerate(order)
            if not c.correct
        )
        answer = (
            f"<p><b>({letter})</b> {_inline(right.text)}</p>"
            + answer
            + f"<p class='why'>Why the others are wrong:</p><ul class='why'>{wrong}</ul>"
        )
    explanation = _html("## Explanation\n\n" + card.explanation)
    if card.pitfalls:
        explanation += _html(
            "## Pitfalls\n\n" + "\n".join(f"- **{p.verdict.upper()}:** “{p.myth}” — {p.truth}" for p in card.pitfalls)
        )
    shown = results or [None] * len(card.claims)
    claims = "".join(_claim_item(claim.statement, r) for claim, r in zip(card.claims, shown, strict=True))
    explanation += f"<p class='why'>Proved by running code (quiz verify {card.id}):</p><ul class='why'>{claims}</ul>"
    meta = html.escape(f"{card.topic.title} · {card.difficulty}")
    return [card.id, question, answer, explanation, meta]


def numeric_fields(card: Card, index: int) -> list[str]:
    """One numeric question of ``card`` as a note: the prompt with one fixed draw (from the card id, so every export
    asks the same numbers), the value on the back with its working from the grading formula."""
    import random

    from quiz.cache import NumericView
    from quiz.numeric import draw, format_quantity, percent

    question = card.numeric[index]
    view = NumericView(question.prompt, question.formula, question.params, str(question.unit), question.tolerance)
    instance = draw(view, random.Random(f"anki:{card.id}:{index}"))
    working = "<br>".join(html.escape(step) for step in instance.steps)
    answer = (
        f"<p><b>{html.escape(format_quantity(instance.expected, instance.unit))}</b> "
        f"<span class='why'>({html.escape(percent(instance.tolerance))})</span></p>"
        f"<p class='why'>Working:</p><p class='working'>{working}</p>"
    )
    meta = html.escape(f"{card.topic.title} · {card.difficulty} · numeric")
    return [f"{card.id}#numeric-{index}", html.escape(instance.prompt), answer, _html(card.answer), meta]


def export(cards: list[Card], path: Path, cache: ProofCache | None = None, answers_dir: Path | None = None) -> int:
    """Write ``cards`` as an .apkg at ``path``, with the evidence ``cache`` holds for them; returns how many
    notes were written."""
    import genanki

    from quiz.paths import DEFAULT_ANSWERS
    from quiz.proofs import proof_key

    model = _model()
    deck = genanki.Deck(DECK_ID, DECK_NAME)
    for card in sorted(cards, key=lambda c: c.id):
        deck.add_note(
            genanki.Note(
                model=model,
                fields=_fields(
                    card, cache.claims(card, proof_key(card, answers_dir or DEFAULT_ANSWERS)) if cache else None
                ),
                guid=genanki.guid_for("transformer-proofs", card.id),
                tags=[card.topic.value, card.difficulty.value, *card.tags],
            )
        )
        for index in range(len(card.numeric)):
            deck.add_note(
                genanki.Note(
                    model=model,
                    fields=numeric_fields(card, index),
                    guid=genanki.guid_for("transformer-proofs", card.id, "numeric", index),
                    tags=[card.topic.value, card.difficulty.value, "numeric", *card.tags],
                )
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    genanki.Package(deck).write_to_file(str(path))
    return len(deck.notes)
