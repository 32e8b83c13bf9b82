"""``quiz stats``: your progress, as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from quiz.cli.base import DeckSource, db_option, deck_source, main, open_store, out

if TYPE_CHECKING:
    from rich.table import Table

    from quiz.stats import ExerciseStats, Stats


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@db_option
@deck_source
def stats(as_json: bool, db: Path | None, source: DeckSource) -> None:
    """Your progress: reviews, retention, accuracy and mastery per topic, and what falls due this week.

    \b
    accuracy   right answers to multiple-choice and numeric questions
    retention  reviews of cards seen before that you still recalled (graded Hard or better)
    mastery    how close each card's memory is to lasting 21 days (FSRS stability), unseen cards 0
    Due        cards due on each study day, which starts at $QUIZ_DAY_STARTS (default 4 am) local time
    Exercises  coding exercises (quiz code) started, passed, due now, and due on each study day

    Example: quiz stats --json
    """
    from quiz.cache import load_index
    from quiz.exercises import exercise_ids
    from quiz.stats import compute
    from quiz.store import OWN_DECK, exercise_progress, now_utc, suspended

    cards = load_index(source.questions, source.answers)
    with open_store(db, source) as store:
        # The exercises belong to the project's own deck (quiz code keeps their progress there).
        own = store.deck == OWN_DECK
        exercises = (exercise_ids(), exercise_progress(store)) if own else None
        result = compute(cards, store.progress(), store.reviews(), now_utc(), suspended(store), exercises)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    out.print(_table(result))
    later = result.forecast[0][1] - result.due_now
    out.print(
        f"Due now: {result.due_now} (quiz take --due-only asks these)"
        + (f" · later today: {later}" if later else "")
        + (f" · in learning steps: {result.learning}" if result.learning else "")
        + (f" · suspended: {result.suspended}" if result.suspended else "")
    )
    out.print("Due: " + " · ".join(f"{day[5:]} {n}" for day, n in result.forecast))
    if result.exercises:
        _show_exercises(result.exercises)


def _table(result: Stats) -> Table:
    """Per topic and overall: cards seen, reviews, accuracy, retention, mastery."""
    from rich.table import Table

    def pct(x: float | None) -> str:
        return "—" if x is None else f"{x:.0%}"

    table = Table(title=f"{result.reviews} reviews · {result.seen}/{result.cards} cards seen", title_justify="left")
    for column in ("topic", "seen", "reviews", "accuracy", "retention", "mastery"):
        table.add_column(column, justify="left" if column == "topic" else "right")
    for t in result.topics:
        table.add_row(t.title, f"{t.seen}/{t.cards}", str(t.reviews), pct(t.accuracy), pct(t.retention), pct(t.mastery))
    table.add_row(
        "All",
        f"{result.seen}/{result.cards}",
        str(result.reviews),
        pct(result.accuracy),
        pct(result.retention),
        "",
        style="bold",
    )
    return table


def _show_exercises(x: ExerciseStats) -> None:
    out.print(
        f"Exercises: {x.started}/{x.exercises} started · {x.passed} passed · due now: {x.due_now} "
        "(quiz code list --due)"
    )
    out.print("Exercises due: " + " · ".join(f"{day[5:]} {n}" for day, n in x.forecast))
