"""The graded questions of a card page: its multiple-choice question and its numeric questions, as data the
browser grades (site/assets/interactive.js), reading what the student types by the rules of
``quiz.numeric.parse_quantity``.

A generated numeric question whose formula ``quiz.site.formulas_js`` translates is drawn in the browser, afresh
each time: the parameter lists, the prompt as a template, and the formula's name, which the browser calls in
assets/formulas.js. Any other question keeps a few configurations drawn here at build time by ``quiz.numeric.draw``.
"""

from __future__ import annotations

import html
import json
import random
import re
import string
from typing import Any

from quiz.models import Card, NumericQuestion
from quiz.numeric import NumericInstance, draw, format_quantity

# Configurations drawn here per generated numeric question: the page's choices when the browser cannot draw it
# (enough that a reload usually asks a new one, few enough that a page stays small), and otherwise the prompts on
# which the browser's template is checked against the Markdown of the filled-in prompt.
DRAWS = 12
# Stands for parameter i in a prompt rendered to HTML once; the browser puts the drawn value in its place. Letters
# only, so Markdown leaves it alone.
SLOT = "zqzslot{}zqz"


def exported_formulas() -> frozenset[str]:
    from quiz.site.formulas_js import export

    return frozenset(export().exported)


def _prompt_parts(prompt: str, params: dict[str, Any]) -> list[str] | None:
    """The prompt as [text, parameter, text, parameter, …] when it uses only plain {name} fields, else None."""
    parts: list[str] = []
    try:
        for literal, name, spec, conversion in string.Formatter().parse(prompt):
            if parts and len(parts) % 2 == 1:
                parts[-1] += literal
            else:
                parts.append(literal)
            if name is None:
                continue
            if spec or conversion or name not in params:
                return None
            parts.append(name)
    except ValueError:
        return None
    return parts


def fill_html(template: str, names: list[str], shown: dict[str, str]) -> str:
    """What the browser does with a drawn configuration: each slot replaced by its value, escaped."""
    for i, name in enumerate(names):
        template = template.replace(SLOT.format(i), html.escape(shown[name]))
    return template


def browser_drawn(question: NumericQuestion, instances: list[NumericInstance]) -> dict[str, Any] | None:
    """The question as the browser draws it, or None when it cannot be drawn there exactly as ``draw`` would:
    a formula not translated, a prompt with a format spec, a value JSON cannot carry, or Markdown that renders
    a filled-in prompt otherwise than the template (checked on every configuration drawn here)."""
    from quiz.numeric import format_param
    from quiz.site.formulas_js import encode_value

    if not question.generated or question.formula not in exported_formulas():
        return None
    parts = _prompt_parts(question.prompt, question.params)
    if parts is None:
        return None
    names = parts[1::2]
    template = "".join(text if i % 2 == 0 else SLOT.format(i // 2) for i, text in enumerate(parts))
    rendered = _html(template)
    for instance in instances:
        shown = {name: format_param(value) for name, value in instance.params.items()}
        if fill_html(rendered, names, shown) != _html(instance.prompt):
            return None
    try:
        params = {name: [encode_value(v) for v in values] for name, values in question.params.items()}
    except ValueError:
        return None
    return {
        "unit": str(question.unit),
        "tolerance": question.tolerance,
        "formula": question.formula,
        "params": params,
        "parts": parts,
        "html": rendered,
    }


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
            instances.append(instance)
        drawn = browser_drawn(question, instances)
        if drawn is not None:
            numeric.append(drawn)
            continue
        shown = [
            {
                "prompt": _html(i.prompt),
                "expected": i.expected,
                "shown": format_quantity(i.expected, i.unit),
            }
            for i in instances
        ]
        numeric.append({"unit": str(question.unit), "tolerance": question.tolerance, "instances": shown})
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
