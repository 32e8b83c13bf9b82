"""The graded questions of a card page: its multiple-choice question and its numeric questions, as data the
browser grades (site/assets/interactive.js). The numbers are the Python formulas' own, drawn at build time, so
the browser never re-implements a formula; it only reads what the student types, by the rules of
``quiz.numeric.parse_quantity``."""

from __future__ import annotations

import html
import json
import random
import re
from typing import Any

from quiz.models import Card
from quiz.numeric import draw, format_quantity

# Configurations drawn per generated numeric question: enough that a reload usually asks a new one, few
# enough that a card page stays small.
DRAWS = 12


def _html(text: str) -> str:
    """Card Markdown as HTML, made safe first like every card field on the site (``quiz.site.safe``)."""
    from quiz.site.safe import deck_markdown, inline_html

    rendered = inline_html(deck_markdown(text)).strip()
    # One paragraph is shown inline (inside a button, beside a verdict); several stay paragraphs.
    match = re.fullmatch(r"<p>(.*)</p>", rendered, re.S)
    return match[1] if match and "<p>" not in match[1] else rendered


def graded_data(card: Card) -> dict[str, Any]:
    """What the browser needs to grade this card's questions, with no answer it could not show."""
    data: dict[str, Any] = {"card": card.id}
    if card.choices:
        data["choices"] = [
            {"html": _html(c.text), "correct": c.correct, "why": _html(c.why) if c.why else ""} for c in card.choices
        ]
    numeric = []
    rng = random.Random(card.id)  # the same draws on every build, so an unchanged card's page is byte-identical
    for question in card.numeric:
        instances, seen = [], set()
        for _ in range(DRAWS if question.generated else 1):
            instance = draw(question, rng)
            if instance.prompt in seen:
                continue
            seen.add(instance.prompt)
            instances.append(
                {
                    "prompt": _html(instance.prompt),
                    "expected": instance.expected,
                    "shown": format_quantity(instance.expected, instance.unit),
                }
            )
        numeric.append({"unit": str(question.unit), "tolerance": question.tolerance, "instances": instances})
    if numeric:
        data["numeric"] = numeric
    return data


def graded_block(card: Card) -> list[str]:
    """The card page's "Test yourself" section, empty when the card has no graded question."""
    data = graded_data(card)
    if "choices" not in data and "numeric" not in data:
        return []
    attribute = html.escape(json.dumps(data, ensure_ascii=False, separators=(",", ":")), quote=True)
    return [
        "## Test yourself",
        "",
        f'<div class="graded-root" data-graded="{attribute}">',
        "<noscript>The graded questions need JavaScript; the answer is above.</noscript>",
        "</div>",
        "",
    ]
