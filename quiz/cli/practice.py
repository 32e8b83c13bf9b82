"""Practising: the quiz session."""

from __future__ import annotations

import click

from quiz.cli import err, fail, filters, main, out, with_deck
from quiz.deck import Deck
from quiz.errors import QuizError
from quiz.session import Grade, Session


@main.command()
@filters
@click.option("--count", type=click.IntRange(min=1), help="Ask at most this many cards.")
@click.option("--seed", type=int, help="Same seed, same order.")
@with_deck
def take(
    deck: Deck,
    topic: str | None,
    tag: str | None,
    difficulty: str | None,
    count: int | None,
    seed: int | None,
) -> None:
    """Take a quiz: read the question, press Enter for the answer, then grade yourself.

    Example: quiz take --topic masking --count 5
    """
    from quiz.render import answer_view, question_panel

    cards = deck.select(topic, tag, difficulty)
    if not cards:
        fail(QuizError("no cards match these filters; loosen --topic, --tag or --difficulty"))
    session = Session.plan(cards, count, seed)
    grades = {"1": Grade.AGAIN, "2": Grade.HARD, "3": Grade.GOOD, "4": Grade.EASY}
    try:
        for number, card in enumerate(session.cards, 1):
            out.print(question_panel(card, f"{number}/{len(session.cards)}"))
            click.prompt("Press Enter to see the answer", default="", show_default=False, prompt_suffix=" ")
            out.print(answer_view(card))
            choice = click.prompt(
                "How well did you know it? 1 again · 2 hard · 3 good · 4 easy",
                type=click.Choice(list(grades)),
                show_choices=False,
            )
            session.record(card, grades[choice])
    except click.Abort:
        err.print("\nStopped.")
    summary = session.summary()
    out.print(
        f"Answered {len(session.answers)} of {len(session.cards)}: "
        + ", ".join(f"{n} {name}" for name, n in summary.items())
    )
