"""The Markdown of every page: card, topic, home, errata and self-test. Each function returns text, so pages
are tested without MkDocs."""

from __future__ import annotations

import html
import json
import os
import re

from answers.evidence import EvidenceText
from quiz.deck import Deck
from quiz.models import Card, Pitfall, Topic
from quiz.proofs import ClaimResult
from quiz.site.graded import graded_block
from quiz.site.proving import CardProof
from quiz.site.safe import deck_markdown as _md
from quiz.site.safe import inline_html, safe_url
from quiz.site.sources import SHOWN_REFERENCE, Source


def card_path(card: Card) -> str:
    """Where a card's page lives in the docs folder."""
    return f"{card.topic.value}/{card.id}.md"


def _indent(text: str, by: str = "    ") -> str:
    return "\n".join(by + line if line.strip() else "" for line in text.strip().splitlines())


def table_cell(text: str) -> str:
    """Text safe inside one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(text: str) -> str:
    text = table_cell(text)
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def _outcome(text: EvidenceText) -> str:
    # The site's dash, where the terminal report has a colon: the words are the formatter's.
    return text.counterfactual_outcome.replace(": the check", " — the check")


def _relative(from_page: str, to_page: str) -> str:
    return os.path.relpath(to_page, os.path.dirname(from_page) or ".").replace(os.sep, "/")


def verdict_mark(record: ClaimResult) -> str:
    if record.error:
        return ":material-alert: error"
    if record.passed:
        return ":material-check-circle:{ .proved } proved"
    if not record.holds:
        return ":material-close-circle:{ .refuted } does not hold"
    return ":material-help-circle:{ .refuted } counterfactual also holds"


def evidence_table(card: Card, proof: CardProof) -> str:
    rows = [
        "| Claim | Measured | Expected | Counterfactual | Result |",
        "| --- | --- | --- | --- | --- |",
    ]
    for claim, record in zip(card.claims, proof.claims, strict=True):
        text = record.text
        statement = f"[{table_cell(_md(claim.statement))}](#claim-{claim.proof})"
        if text is None:
            rows.append(f"| {statement} | — | — | — | {verdict_mark(record)}: {_code(record.error or '')} |")
            continue
        counterfactual = f"{table_cell(text.counterfactual)}: {_code(text.counterfactual_measured)} → {_outcome(text)}"
        rows.append(
            f"| {statement} | {_code(text.measured)} | {_code(text.criterion)} | {counterfactual} "
            f"| {verdict_mark(record)} |"
        )
    return "\n".join(rows)


def _claim_section(card: Card, record: ClaimResult, source: Source | None, sources: dict[str, Source]) -> str:
    claim = next(c for c in card.claims if c.proof == record.claim)
    parts = [f"### {_md(claim.statement)} {{ #claim-{claim.proof} }}", ""]
    text = record.text
    if text is None:
        parts += ['!!! danger "The proof could not run"', "", f"    `{record.error}`", ""]
    else:
        parts += [
            f"- **Measured:** {_code(text.measured)}",
            f"- **Expected:** {_code(text.criterion)} — {text.derivation}",
            f"- **Counterfactual** ({text.counterfactual}): {_code(text.counterfactual_measured)} → {_outcome(text)}",
            f"- **Result:** {verdict_mark(record)}",
        ]
        if text.details:
            parts.append("- **Details:**")
        parts += [f"    - {table_cell(key)}: {_code(value)}" for key, value in text.details.items()]
        parts.append("")
    if source is not None:
        module = f"answers/{card.module}.py"
        parts += [f'```python title="{module}, line {source.line}"', source.text.rstrip("\n"), "```", ""]
        if source.helpers:
            parts += _folded("Helpers it calls", [sources[h] for h in source.helpers])
        if source.references:
            parts += _folded(f"From {SHOWN_REFERENCE}", list(source.references))
    return "\n".join(parts)


def _folded(title: str, shown: list[Source]) -> list[str]:
    text = "\n\n".join(s.text.rstrip("\n") for s in shown)
    names = ", ".join(f"`{s.name}`" for s in shown)
    return [f'??? abstract "{title}: {names}"', "", "    ```python", _indent(text), "    ```", ""]


def _figure_block(card: Card, figure: dict[str, str]) -> str:
    if "error" in figure:
        return f'!!! warning "Figure `{figure["name"]}` failed"\n\n    `{figure["error"]}`\n'
    src = f"../assets/figures/{card.id}/{figure['file']}"
    alt = table_cell(figure["caption"].splitlines()[0]).replace("[", "(").replace("]", ")").replace("$", "")
    return (
        '<figure class="proof-figure" markdown="1">\n\n'
        f"![{alt}]({src})\n\n"
        f'<figcaption markdown="1">{" ".join(figure["caption"].split())}</figcaption>\n\n'
        "</figure>\n"
    )


def pitfall_block(card: Card, pitfall: Pitfall, anchor: str = "") -> str:
    kind = "failure" if pitfall.verdict == "false" else "warning"
    label = "False" if pitfall.verdict == "false" else "Imprecise"
    statement = _md(next(c.statement for c in card.claims if c.proof == pitfall.proof))
    meta = [f"**Verdict:** {pitfall.verdict}"]
    if pitfall.source:
        meta.append(f"**Source:** {_md(str(pitfall.source))}")
    body = "\n\n".join(
        [
            f"> {' '.join(_md(pitfall.myth).split())}",
            _md(pitfall.truth.strip()),
            " · ".join(meta),
            f"**Proof:** [{statement}]({anchor}#claim-{pitfall.proof})",
        ]
    )
    return f'!!! {kind} "{label}"\n\n{_indent(body)}\n'


def _links(card: Card, deck: Deck, here: str) -> list[str]:
    """The card page's last sections: related cards, references, and the seed questions it answers."""
    parts: list[str] = []
    if card.related:
        parts += ["## Related", ""]
        for other in card.related:
            if other in deck.cards:
                target = deck.cards[other]
                parts.append(f"- [{_md(target.title)}]({_relative(here, card_path(target))})")
        parts.append("")
    if card.references:
        parts += ["## References", ""]
        parts += [
            f"- [{_md(r.title)}]({safe_url(str(r.url))})" if r.url else f"- {_md(r.title)}" for r in card.references
        ]
        parts.append("")
    if card.asked_in:
        parts += ["## Asked as", ""]
        parts += [f"- {' '.join(_md(q.question).split())} *(in “{_md(q.document)}”)*" for q in card.asked_in]
        parts.append("")
    return parts


def _keywords(card: Card) -> list[str]:
    """The card's search keywords, shown under its title: what the site's search finds it by, the reader sees."""
    if not card.keywords:
        return []
    words = ", ".join(html.escape(k) for k in card.keywords)
    return [f'<p class="card-keywords">Also searched as: {words}</p>', ""]


def _front_matter(card: Card) -> list[str]:
    tags = "\n".join(f"  - {tag}" for tag in card.tags)
    keywords = [f"keywords: {json.dumps(card.keywords, ensure_ascii=False)}"] if card.keywords else []
    return ["---", f"title: {json.dumps(_md(card.title), ensure_ascii=False)}", f"tags:\n{tags}", *keywords, "---", ""]


def card_page(
    card: Card, deck: Deck, proof: CardProof, sources: dict[str, Source], exercises: tuple[tuple[str, str], ...] = ()
) -> str:
    """A card's page; ``exercises`` are (title, docs path) of the coding exercises that practise it."""
    here = card_path(card)
    proved = sum(r.passed for r in proof.claims)
    parts = [
        *_front_matter(card),
        *_tag_chips(card),
        f"# {_md(card.title)}",
        "",
        f'<p class="card-meta">{html.escape(card.topic.title)} · {card.difficulty.value} · '
        f"{proved} of {len(card.claims)} claims proved</p>",
        "",
        *_keywords(card),
        "## Question",
        "",
        _md(card.question.strip()),
        "",
        '??? success "Answer"',
        "",
        _indent(_md(card.answer)),
        "",
        *graded_block(card),
        "## Explanation",
        "",
        _md(card.explanation.strip()),
        "",
    ]
    if proof.figures:
        parts += ["## Figures", "", *(_figure_block(card, figure) for figure in proof.figures)]
    if card.pitfalls:
        parts += ["## Pitfalls", "", *(pitfall_block(card, pitfall) for pitfall in card.pitfalls)]
    # The wrapper names the table for site.css, which re-flows it to one block per claim on a narrow screen.
    parts += ["## Evidence", "", '<div class="reflow evidence" markdown="1">', "", evidence_table(card, proof), ""]
    parts += ["</div>", ""]
    if card.unmeasured:
        parts += ['!!! note "Not measured here"', "", _indent(_md(card.unmeasured)), ""]
    if exercises:
        parts += ["## Implement it yourself", ""]
        parts += [f"- [{_md(title)}]({_relative(here, path)})" for title, path in exercises]
        parts.append("")
    parts += ["## Proofs", ""]
    for record in proof.claims:
        parts.append(_claim_section(card, record, sources.get(record.claim), sources))
    parts += _links(card, deck, here)
    return "\n".join(parts)


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    end = flat.find("? ")
    return flat if end < 0 else flat[: end + 1]


def topic_page(topic: Topic, cards: list[Card], proofs: dict[str, CardProof]) -> str:
    parts = [f"# {topic.title}", "", "| Card | Difficulty | Claims proved |", "| --- | --- | --- |"]
    for card in cards:
        proved = sum(r.passed for r in proofs[card.id].claims)
        parts.append(
            f"| [{table_cell(_md(card.title))}]({card.id}.md) | {card.difficulty.value} "
            f"| {proved} / {len(card.claims)} |"
        )
    parts.append("")
    for card in cards:
        parts += [f"## [{_md(card.title)}]({card.id}.md)", "", _first_sentence(_md(card.question)), ""]
    return "\n".join(parts)


def _tag_anchor(tag: str) -> str:
    return "tag:" + "-".join(re.sub(r"[^\w\s-]", "", tag.lower()).split())


def _tag_chips(card: Card) -> list[str]:
    """The card's tags as links to the tags page, drawn as Material's tag chips. Written here rather than by
    Material's tags plugin, whose listing needs every page read in the same build: an incremental build reads
    only the pages that changed."""
    if not card.tags:
        return []
    tags = os.path.relpath("tags.md", os.path.dirname(card_path(card))).replace(".md", ".html")
    links = "".join(
        f'<a href="{tags}#{_tag_anchor(tag)}" class="md-tag">{html.escape(tag)}</a>' for tag in sorted(card.tags)
    )
    return [f'<nav class="md-tags">{links}</nav>', ""]


def tags_page(deck: Deck) -> str:
    """Every tag with the cards that carry it, in the order of the tag's name."""
    by_tag: dict[str, list[Card]] = {}
    for card in deck:
        for tag in card.tags:
            by_tag.setdefault(tag, []).append(card)
    parts = ["---", "search:", "  exclude: true", "---", "", "# Tags", ""]
    for tag in sorted(by_tag, key=str.lower):
        parts += [f'<h2 id="{_tag_anchor(tag)}"><span class="md-tag">{html.escape(tag)}</span></h2>', ""]
        parts += [f"- [{_md(card.title)}]({card_path(card)})" for card in sorted(by_tag[tag], key=lambda c: c.title)]
        parts.append("")
    return "\n".join(parts)


SELFTEST_INTRO = """\
# Self-test

Flip a card, answer it in your head, then say whether you knew it (keys **1** and **2**). A card you did not
know comes back after three others. Your progress stays in this browser (localStorage) and nowhere else.

"""


def selftest_page(cards: list[dict[str, str]]) -> str:
    """The self-test page with its cards inlined: a page opened as file:// may not fetch a JSON file."""
    data = json.dumps(cards, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return (
        SELFTEST_INTRO
        + '<div id="selftest" data-root="">\n<noscript>The self-test needs JavaScript.</noscript>\n</div>\n\n'
        + f'<script type="application/json" id="selftest-data">{data}</script>\n'
    )


def selftest_data(deck: Deck) -> list[dict[str, str]]:
    return [
        {
            "id": card.id,
            "title": card.title,
            "topic": card.topic.title,
            "difficulty": card.difficulty.value,
            "question": inline_html(_md(card.question)),
            "answer": inline_html(_md(card.answer)),
            "url": f"{card.topic.value}/{card.id}.html",
        }
        for card in deck
    ]
