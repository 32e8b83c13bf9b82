"""``quiz stats``: your progress, as a table or JSON."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import click

from quiz.cli.base import DeckSource, db_option, deck_source, main, open_store, out

if TYPE_CHECKING:
    from rich.text import Text

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
    from quiz.paths import exercise_ids
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
    out.print(_table(result, out.width))
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


_HEADERS = ("topic", "seen", "reviews", "accuracy", "retention", "mastery")


def _table(result: Stats, width: int) -> Text:
    """Per topic and overall: cards seen, reviews, accuracy, retention, mastery, as aligned plain columns.

    Drawn here rather than by rich's Table, whose import and layout cost ~15 ms of the 150 ms start-up budget;
    a topic title wraps within its column when the terminal is too narrow for it."""
    from rich.text import Text

    def pct(x: float | None) -> str:
        return "—" if x is None else f"{x:.0%}"

    rows = [
        (t.title, f"{t.seen}/{t.cards}", str(t.reviews), pct(t.accuracy), pct(t.retention), pct(t.mastery))
        for t in result.topics
    ]
    rows.append(
        ("All", f"{result.seen}/{result.cards}", str(result.reviews), pct(result.accuracy), pct(result.retention), "")
    )
    widths = [max(len(row[i]) for row in [_HEADERS, *rows]) for i in range(len(_HEADERS))]
    widths[0] = max(12, min(widths[0], width - sum(widths[1:]) - 2 * (len(_HEADERS) - 1)))
    text = Text(f"{result.reviews} reviews · {result.seen}/{result.cards} cards seen\n")
    for row, style in [(_HEADERS, "bold"), *((row, "") for row in rows[:-1]), (rows[-1], "bold")]:
        titles = textwrap.wrap(row[0], widths[0], break_on_hyphens=False) or [""]
        numbers = "  ".join(cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True))
        text.append(f"{titles[0].ljust(widths[0])}  {numbers}\n", style=style)
        for more in titles[1:]:
            text.append(f"{more}\n", style=style)
    text.rstrip()
    return text


def _show_exercises(x: ExerciseStats) -> None:
    out.print(
        f"Exercises: {x.started}/{x.exercises} started · {x.passed} passed · due now: {x.due_now} "
        "(quiz code list --due)"
    )
    out.print("Exercises due: " + " · ".join(f"{day[5:]} {n}" for day, n in x.forecast))
