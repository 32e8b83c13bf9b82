"""The screen: cards and evidence as rich renderables. Only the CLI imports this; the library returns data.
No printing here either: the commands decide where output goes.

Cheap to import on purpose: the first question of ``quiz take`` is drawn with plain rich Text, and the
Markdown renderer is imported only when an answer is shown.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from quiz.cli.latex import latex_to_unicode
from quiz.vocab import CHOICE_LETTERS

if TYPE_CHECKING:
    from quiz.cache import CardView, ChoiceView
    from quiz.proofs import ClaimResult


_INLINE = re.compile(r"\*\*(.+?)\*\*|`([^`]+)`|(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")


def inline_markdown(text: str) -> Text:
    """Bold, italics and code spans as rich Text: enough for a question, without the Markdown renderer."""
    out = Text()
    pos = 0
    for match in _INLINE.finditer(text):
        out.append(text[pos : match.start()])
        if match.group(1):
            out.append(match.group(1), style="bold")
        elif match.group(2):
            out.append(match.group(2), style="cyan")
        else:
            out.append(match.group(3), style="italic")
        pos = match.end()
    out.append(text[pos:])
    return out


def reflow(text: str) -> str:
    """Join the lines of each paragraph, as Markdown would: YAML block text is wrapped at 100 columns."""
    return re.sub(r"(?<!\n)\n(?!\n|\s*[-*+] |\s*\d+\. )", " ", text)


def _markdown(text: str) -> RenderableType:
    from rich.markdown import Markdown

    return Markdown(latex_to_unicode(text))


def question_panel(
    card: CardView, position: str = "", body: str | None = None, note: str = "", plain: bool = False
) -> RenderableType:
    """The question (or ``body``, e.g. a drawn numeric prompt) in a panel titled with the card; with
    ``plain`` (output is not a terminal) a heading line instead of a box, so logs and pipes stay readable."""
    subtitle = f"{card.topic_title} · {card.difficulty}" + (f" · {position}" if position else "")
    text = inline_markdown(latex_to_unicode(reflow((body or card.question).strip())))
    if note:
        text = Text.assemble(Text(note + "\n\n", style="yellow"), text)
    if plain:
        return Text.assemble(Text(f"\n## {card.title} ({subtitle})\n\n", style="bold"), text, "\n")
    # Text, not str: a Panel parses a str title as markup, and a card title is the deck's text.
    return Panel(text, title=Text(card.title), subtitle=Text(subtitle), expand=False)


def choices_view(choices: Sequence[ChoiceView]) -> Text:
    text = Text()
    for letter, choice in zip(CHOICE_LETTERS, choices, strict=False):
        text.append(f"  {letter}) ", style="bold")
        text.append_text(inline_markdown(latex_to_unicode(choice.text)))
        text.append("\n")
    return text


def verdict(correct: bool, feedback: str) -> Text:
    head = Text("✓ Right. ", style="bold green") if correct else Text("✗ Not quite. ", style="bold red")
    return Text.assemble(head, inline_markdown(latex_to_unicode(feedback.strip())))


def answer_view(card: CardView, results: list[ClaimResult] | None = None, explanation: bool = True) -> RenderableType:
    parts: list[RenderableType] = [Panel(_markdown(card.answer), title="Answer", border_style="green")]
    if explanation:
        parts.append(_markdown("## Explanation\n\n" + card.explanation))
    pitfalls = card.pitfalls
    if explanation and pitfalls:
        lines = []
        for p in pitfalls:
            lines.append(
                f"- **{p.verdict.upper()}:** “{p.myth}”" + (f" *({p.source})*" if p.source else "") + f"\n  {p.truth}"
            )
        parts.append(_markdown("## Pitfalls\n\n" + "\n".join(lines)))
    if explanation and card.unmeasured:
        parts.append(_markdown("**Not measured here:** " + card.unmeasured))
    if results is not None:
        parts.append(evidence_table(results, show_card=False))
    return Group(*parts)


def reveal_view(card: CardView, width: int, height: int) -> RenderableType:
    """The question and its answer, made to fit ``width`` × ``height`` with a line left for the grade prompt
    (an 80×24 terminal included): the question in full when it fits, else its title only; the answer under a
    rule rather than in a box, so it keeps the full width. The rest of the card is ``more_view``, on m."""
    from rich.console import Console
    from rich.rule import Rule

    answer = Group(Rule("Answer", style="green"), _markdown(card.answer))
    full = Group(question_panel(card), answer)
    probe = Console(width=width, file=open(os.devnull, "w"), color_system=None)  # noqa: SIM115
    with probe.capture() as capture:
        probe.print(full)
    probe.file.close()
    if len(capture.get().splitlines()) < height:
        return full
    return Group(Text(card.title, style="bold"), answer)


def more_view(card: CardView) -> RenderableType:
    """What `m` shows after the answer: the explanation, the pitfalls and what is not measured."""
    parts: list[RenderableType] = [_markdown("## Explanation\n\n" + card.explanation)]
    if card.pitfalls:
        lines = [
            f"- **{p.verdict.upper()}:** “{p.myth}”" + (f" *({p.source})*" if p.source else "") + f"\n  {p.truth}"
            for p in card.pitfalls
        ]
        parts.append(_markdown("## Pitfalls\n\n" + "\n".join(lines)))
    if card.unmeasured:
        parts.append(_markdown("**Not measured here:** " + card.unmeasured))
    return Group(*parts)


def cache_note(results: list[ClaimResult]) -> str:
    """How many of the results' cards answered from the proof cache, or "" if none did."""
    cached = len({r.card for r in results if r.cached})
    if not cached:
        return ""
    cards = len({r.card for r in results})
    which = "all cards" if cached == cards else f"{cached} of {cards} cards"
    return f"cached: {which} unchanged since their claims passed; --fresh runs them again"


def evidence_table(results: list[ClaimResult], show_card: bool = True) -> Table:
    """One row per claim, readable at 80 columns: a mark, then the claim's name (with its card when several
    cards are shown) on a line of its own, what was measured against what was expected, and what the broken
    version measured. Names are never folded mid-word: they wrap only at their underscores' line, whole."""
    title = "Evidence (cached)" if any(r.cached for r in results) else "Evidence"
    table = Table(title=title, title_justify="left", show_header=False, box=None, pad_edge=False, leading=1)
    table.add_column("holds", width=1, no_wrap=True)
    table.add_column("claim", overflow="fold", ratio=1)
    for r in results:
        ev = r.text
        holds = Text("✓", style="green") if r.holds else Text("✗", style="bold red")
        name = Text(f"{r.card} · {r.claim}" if show_card else r.claim, style="bold")
        if ev is None or r.error:
            body = Text.assemble(name, "\n", Text(r.error or "", style="red"))
        else:
            cf = (
                Text("rejected ✓", style="green")
                if not ev.counterfactual_holds
                else Text("ALSO HOLDS ✗", style="bold red")
            )
            body = Text.assemble(
                name,
                "\n",
                Text("measured ", style="dim"),
                ev.measured,
                Text("  expected ", style="dim"),
                ev.criterion,
                "\n",
                Text("broken version ", style="dim"),
                f"({ev.counterfactual}): {ev.counterfactual_measured} ",
                cf,
            )
        table.add_row(holds, body)
    return table


def verify_summary(results: list[ClaimResult], seconds: float) -> Text:
    failed = [r for r in results if not r.passed]
    cards = len({r.card for r in results})
    style = "bold red" if failed else "bold green"
    note = cache_note(results)
    return Text(
        f"{len(results)} claims on {cards} cards: {len(results) - len(failed)} proved, "
        f"{len(failed)} failed ({seconds:.1f} s" + (f"; {note})" if note else ")"),
        style=style,
    )
