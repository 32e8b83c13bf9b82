"""``quiz interview``: a timed mock interview, asked and printed here; planned and scored in quiz.interview."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from quiz.cli.asking import (
    GRADES,
    answer,
    ask,
    ask_choice,
    ask_numeric,
    chosen_cards,
    opened,
    stoppable,
    without_session_keys,
)
from quiz.cli.base import DeckSource, db_option, deck_source, err, filters, main, open_store, out

if TYPE_CHECKING:
    from quiz.cache import CardView
    from quiz.interview import Asked, Interview, Result, Timer
    from quiz.session import Grade, Question, Session
    from quiz.store import Store


@main.command()
@click.option(
    "--minutes", type=click.IntRange(min=1, max=240), default=30, show_default=True, help="Length of the interview."
)
@click.option("--seed", type=int, help="Same seed, same interview.")
@click.option("--practice", is_flag=True, help="Practice only: answers are logged, the schedule is left alone.")
@filters
@db_option
@deck_source
def interview(
    minutes: int,
    seed: int | None,
    practice: bool,
    topic: str | None,
    tag: str | None,
    difficulty: str | None,
    db: Path | None,
    source: DeckSource,
) -> None:
    """A timed mock interview: open questions answered aloud, follow-ups, multiple choice and numeric.

    At least half the questions are open: you answer aloud, then see the model answer and its must-say
    points, tick the ones you said, and the grade follows (you may change it). An open question is often
    followed by a related one ("and what about …?"). The clock runs: each question shows the time left,
    an answer that runs over is flagged, and the interview ends when the time is up, after the question
    being answered. At the end: a score per topic, the questions missed, and the cards to study next.
    The answers count as reviews unless --practice is given.

    Example: quiz interview --minutes 20
    """
    from quiz.interview import plan_interview

    cards = chosen_cards(source, topic, tag, difficulty)
    store = open_store(db, source, writing=True)
    opened(store)
    try:
        with without_session_keys():
            _hold(store, cards, plan_interview(cards, minutes, seed), minutes, practice, source)
    finally:
        store.close()


def _hold(
    store: Store, cards: list[CardView], plan: Interview, minutes: int, practice: bool, source: DeckSource
) -> None:
    """Announce the interview, ask until the time is up or the questions run out, then print the report;
    exit 130 if interrupted, 1 if an answer is unsaved."""
    from quiz.interview import Timer, report
    from quiz.session import Session
    from quiz.store import now_utc

    planned = len(plan.planned)
    questions = [a.question for a in plan.planned]
    session = Session(store, questions, clock=now_utc, mode="interview", relearn=False, schedule=not practice)
    out.print(
        f"Mock interview: {minutes} minutes, about {planned} question{'s' * (planned != 1)} "
        f"({sum(a.open for a in plan.planned)} open, answered "
        f"aloud, {sum(a.follow_up_of is not None for a in plan.planned)} of them follow-ups). q or Ctrl-C stops.",
        markup=False,
        highlight=False,
    )
    timer = Timer(minutes)
    results: list[Result] = []
    with stoppable(session) as stop:
        _ask_until_time_is_up(session, plan, timer, source, results)
    _print_report(report(results, planned, timer.elapsed(), cards))
    stop.exit_if_interrupted()
    if session.unsaved:
        sys.exit(1)


def _ask_until_time_is_up(
    session: Session, plan: Interview, timer: Timer, source: DeckSource, results: list[Result]
) -> None:
    """Ask the plan's questions while time is left, adding each Result to ``results`` as it is given (so a
    stop keeps those already answered); the question under way when time runs out is finished."""
    from quiz.interview import clock_text

    number = 0
    while True:
        left = timer.remaining()
        if left <= 0:
            out.print("Time is up.")
            return
        asked = plan.next()
        if asked is None:
            out.print("No more questions in this selection.")
            return
        number += 1
        kind = "open" if asked.open else str(asked.question.kind)
        result = _ask_interview_question(session, asked, f"{number} · {kind} · {clock_text(left)} left", source, timer)
        results.append(result)
        _say_if_over_time(timer, asked, result, kind)


def _say_if_over_time(timer: Timer, asked: Asked, result: Result, kind: str) -> None:
    """Say when the interview's time is up (the loop then ends at its next turn), or an answer ran over its share."""
    from quiz.interview import OVERRUN, clock_text

    over = -timer.remaining()
    if over >= 0:
        out.print(f"Over time by {clock_text(over)}: time is up, the interview ends here.")
    elif result.seconds > asked.minutes * 60 * OVERRUN:
        out.print(
            f"Running over: that took {clock_text(result.seconds)}, against about "
            f"{asked.minutes:g} min for {'an open' if asked.open else 'a ' + kind} question. "
            f"{clock_text(-over)} left.",
            style="yellow",
        )


def _ask_interview_question(session: Session, asked, position: str, source: DeckSource, timer):
    """Ask one interview question, save the answer, and return its Result."""
    from quiz.cli.views import question_panel, verdict
    from quiz.interview import Result
    from quiz.session import Kind

    question = asked.question
    card = question.card
    if asked.follow_up_of is not None:
        out.print(f"And what about this? (a follow-up to “{asked.follow_up_of.title}”)", style="bold", markup=False)
    body = question.numeric.prompt if question.kind is Kind.NUMERIC and question.numeric else None
    out.print(question_panel(card, position, body, plain=not out.is_terminal))
    start = timer.elapsed()
    if question.kind is Kind.RECALL:
        grade, said = _ask_open(question)
        detail = (
            (f"said {len(said)}/{len(card.must_say)}: " + " ".join(str(i + 1) for i in said))
            if said is not None
            else None
        )
        if asked.follow_up_of is not None:
            detail = (detail + "; " if detail else "") + f"follow-up to {asked.follow_up_of.id}"
        seconds = timer.elapsed() - start
        answer(session, question, grade, None, detail, seconds)
        return Result(asked, grade, None, said, seconds)
    outcome = ask_choice(question) if question.kind is Kind.CHOICE else ask_numeric(question)
    out.print(verdict(outcome.correct, outcome.feedback))
    seconds = timer.elapsed() - start
    answer(session, question, outcome.grade, outcome.correct, outcome.detail, seconds)
    return Result(asked, outcome.grade, outcome.correct, None, seconds)


def _ask_open(question: Question) -> tuple[Grade, tuple[int, ...] | None]:
    """An open question: answered aloud, then checked against the model answer and the must-say points. The
    share of points ticked suggests the grade; the person may keep it or give their own."""
    from quiz.cli.latex import latex_to_unicode
    from quiz.cli.views import answer_view, reveal_view
    from quiz.interview import TicksError, parse_ticks, rubric_grade
    from quiz.session import Grade

    card = question.card
    ask("[Answer aloud, as you would to the interviewer; Enter when done · q quit]")
    if out.is_terminal:
        out.clear()
        out.print(reveal_view(card, out.width, out.height - len(card.must_say) - 2))
    else:
        out.print(answer_view(card, explanation=False))
    if not card.must_say:
        while True:
            key = ask("How well did you answer? 1 again · 2 hard · 3 good · 4 easy").lower()
            if key in GRADES:
                return Grade(GRADES[key]), None
            err.print("Type 1, 2, 3 or 4.")
    out.print("A strong answer says:", style="bold")
    for number, point in enumerate(card.must_say, 1):
        out.print(f"  {number}. {latex_to_unicode(point)}", markup=False, highlight=False)
    points = len(card.must_say)
    while True:
        try:
            said = parse_ticks(ask("Which did you say? (numbers like 1 3 · a all · Enter none)"), points)
            break
        except TicksError as problem:
            err.print(f"{problem}.", markup=False, highlight=False)
    suggested = rubric_grade(len(said), points)
    name = suggested.name.lower()
    out.print(f"You said {len(said)} of {points} points: {name}.", markup=False, highlight=False)
    while True:
        key = ask(f"[Enter keeps {name} · or grade it yourself: 1 again · 2 hard · 3 good · 4 easy]").lower()
        if key == "":
            return suggested, said
        if key in GRADES:
            return Grade(GRADES[key]), said
        err.print("Type 1, 2, 3 or 4, or Enter.")


def _print_report(result) -> None:
    from rich.table import Table

    if not result.asked:
        out.print("No question answered: nothing to score.")
        return
    table = Table(title=f"Score: {result.right}/{result.asked} ({result.score:.0%})", title_justify="left")
    table.add_column("topic")
    table.add_column("right", justify="right")
    table.add_column("must-say points", justify="right")
    for t in result.topics:
        table.add_row(t.title, f"{t.right}/{t.asked}", f"{t.said}/{t.points}" if t.points else "–")
    out.print(table)
    out.print(
        f"Answered {result.asked} question{'s' * (result.asked != 1)} ({result.opened} open) in "
        f"{result.seconds / 60:.1f} minutes; "
        f"about {result.planned} were planned."
    )
    if result.missed:
        out.print("Missed:")
        for r in result.missed:
            card = r.card
            missing = (
                " — not said: " + "; ".join(p for i, p in enumerate(card.must_say) if i not in r.said)
                if r.said is not None
                else ""
            )
            out.print(f"  {card.id} · {card.title}{missing}", markup=False, highlight=False)
    if result.weakest:
        out.print(
            "Weakest topics: "
            + ", ".join(f"{t.title} ({t.right}/{t.asked}, --topic {t.topic})" for t in result.weakest),
            markup=False,
            highlight=False,
        )
        out.print("Study next: quiz take " + " ".join(result.study), markup=False, highlight=False)
    else:
        out.print("No weak topic in this interview.")
