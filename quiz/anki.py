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


def _fields(card: Card, results: list[ClaimResult] | None = None) -> list[str]:
    question = _html(card.question)
    if card.choices:
        items = "".join(f"<li>{_html(choice.text)}</li>" for choice in card.choices)
        question += f'<ol type="a" class="choices">{items}</ol>'
    answer = _html(card.answer)
    if card.choices:
        right = next(choice for choice in card.choices if choice.correct)
        answer = f"<p><b>{_html(right.text)}</b></p>" + answer
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
    path.parent.mkdir(parents=True, exist_ok=True)
    genanki.Package(deck).write_to_file(str(path))
    return len(deck.notes)
