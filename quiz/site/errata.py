"""The errata page: every statement of the source material that a card's pitfall refutes or sharpens, once each,
with the claims that show it, filterable by topic and verdict (site/assets/interactive.js)."""

from __future__ import annotations

import html
import re

from quiz.deck import Deck
from quiz.models import Card, Pitfall
from quiz.site.pages import card_path, pitfall_block, table_cell, verdict_mark
from quiz.site.proving import CardProof
from quiz.site.safe import deck_markdown as _md


def _myth_key(pitfall: Pitfall) -> str:
    """One statement of the source material: its audit id, or its words when it has none."""
    return pitfall.audit or " ".join(re.sub(r"[^\w\s]", " ", pitfall.myth.lower()).split())


def errata_page(deck: Deck, proofs: dict[str, CardProof]) -> str:
    """Every statement the cards' pitfalls refute, once each: what the source material gets wrong, with the claims
    that show it (a statement two cards refute is listed once, with both)."""
    statements = _statements(deck)
    false = sum(group[0][1].verdict == "false" for group in statements)
    parts = [
        # Below the cards in search: its 150 myths mention every word a reader might type.
        "---",
        "search:",
        "  boost: 0.3",
        "---",
        "",
        "# Errata",
        "",
        f"What the source material gets wrong: {len(statements)} statements, {false} false and "
        f"{len(statements) - false} imprecise, each refuted or sharpened by a claim that runs.",
        "",
        '<div id="errata-filter" class="errata-filter"></div>',
        "",
        '<div class="reflow errata-table" markdown="1">',
        "",
    ]
    return "\n".join([*parts, *_table(statements, proofs), *_sections(statements)])


def _statements(deck: Deck) -> list[list[tuple[Card, Pitfall]]]:
    """The pitfalls grouped by the statement they refute, in topic and card order."""
    entries = [(card, pitfall) for card in deck for pitfall in card.pitfalls]
    entries.sort(key=lambda e: (e[0].topic.title, e[0].id))
    groups: dict[str, list[tuple[Card, Pitfall]]] = {}
    for card, pitfall in entries:
        groups.setdefault(_myth_key(pitfall), []).append((card, pitfall))
    return list(groups.values())


def _table(statements: list[list[tuple[Card, Pitfall]]], proofs: dict[str, CardProof]) -> list[str]:
    parts = ["| What is said | Topic | Verdict | Source | Refuted by |", "| --- | --- | --- | --- | --- |"]
    for i, group in enumerate(statements, 1):
        card, pitfall = group[0]
        refuted = []
        for other, other_pitfall in group:
            record = next(r for r in proofs[other.id].claims if r.claim == other_pitfall.proof)
            link = f"{card_path(other)}#claim-{other_pitfall.proof}"
            refuted.append(f"[{table_cell(_md(other.title))}]({link}) {verdict_mark(record)}")
        parts.append(
            f"| [{table_cell(_short(_md(pitfall.myth)))}](#erratum-{i}) | {table_cell(card.topic.title)} "
            f"| {pitfall.verdict} | {table_cell(_md(str(pitfall.source or '—')))} | {' · '.join(refuted)} |"
        )
    return [*parts, "", "</div>", ""]


def _sections(statements: list[list[tuple[Card, Pitfall]]]) -> list[str]:
    parts: list[str] = []
    for i, group in enumerate(statements, 1):
        card, pitfall = group[0]
        # The wrapper carries what the errata filter (interactive.js) hides a section by.
        parts += [
            f'<div class="erratum" data-topic="{html.escape(card.topic.title)}" data-verdict="{pitfall.verdict}" '
            'markdown="1">',
            "",
            f"## {_short(_md(pitfall.myth), 70)} {{ #erratum-{i} }}",
            "",
        ]
        for other, other_pitfall in group:
            parts += [
                f"From [{_md(other.title)}]({card_path(other)}).",
                "",
                pitfall_block(other, other_pitfall, anchor=card_path(other)),
                "",
            ]
        parts += ["</div>", ""]
    return parts


def _short(text: str, limit: int = 100) -> str:
    """One line of at most ``limit`` characters, cut at a word, for tables and headings."""
    flat = " ".join(text.split()).replace("$", "")  # half a formula would not render; drop the delimiters
    if len(flat) <= limit:
        return flat
    return flat[: flat.rfind(" ", 0, limit - 1)].rstrip(",;:") + " …"
