"""``quiz take``: spaced repetition, asked and printed here; planned and saved in quiz.session and quiz.store.

``take`` is on the start-up budget: it reads the cached card index, never the YAML, and imports the
Markdown renderer, fsrs and the formulas in a background thread while the first question is on screen.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from quiz.cli.asking import (
    GRADES,
    Skip,
    Undo,
    answer,
    ask,
    ask_choice,
    ask_numeric,
    chosen_cards,
    opened,
    prove,
    stoppable,
)
from quiz.cli.base import DeckSource, db_option, deck_source, err, filters, main, open_store, out

if TYPE_CHECKING:
    from datetime import datetime

    from quiz.cache import CardView
    from quiz.session import Grade, Question, Session
    from quiz.store import Progress, Store


def _after_menu(card: CardView, source: DeckSource, allow_answer: bool) -> None:
    """After an auto-graded answer: move on, or look at the full answer or its proofs first."""
    from quiz.cli.views import answer_view

    keys = "Enter next" + (" · a answer" if allow_answer else "") + " · p prove it · u undo · q quit"
    while True:
        key = ask(f"[{keys}]").lower()
        if key == "":
            return
        if key == "p":
            prove(card, source)
        elif key == "a" and allow_answer:
            out.print(answer_view(card))
        else:
            err.print(f"Type one of: {keys}")


def _ask_recall(question: Question, source: DeckSource) -> Grade:
    """Reveal the answer and take the person's own grade (p proves the card first).

    Only the question and the answer are on screen when grading, so they fit an 80×24 terminal: on a
    terminal the screen is cleared and the question shown again above the answer; the explanation, pitfalls
    and what is not measured come on m."""
    from quiz.cli.views import answer_view, more_view, reveal_view
    from quiz.session import Grade

    ask("[Enter to reveal the answer · s skip · u undo · q quit]")
    if out.is_terminal:
        out.clear()
        out.print(reveal_view(question.card, out.width, out.height))
    else:
        out.print(answer_view(question.card, explanation=False))
    while True:
        key = ask("How well did you know it? 1 again · 2 hard · 3 good · 4 easy · m more · p prove · u undo").lower()
        if key in GRADES:
            return Grade(GRADES[key])
        if key == "m":
            if out.is_terminal:  # paged, from its first line; q in the pager comes back to this prompt
                with out.pager():
                    out.print(more_view(question.card))
            else:
                out.print(more_view(question.card))
        elif key == "p":
            prove(question.card, source)
        else:
            err.print("Type 1, 2, 3 or 4.")


def _ask_question(session: Session, question: Question, position: str, source: DeckSource) -> None:
    """Ask one question and save the answer (or keep it, when the database will not take it)."""
    from quiz.cli.views import question_panel, verdict
    from quiz.session import Kind, Reason

    card = question.card
    note = {
        Reason.CHANGED: "This card changed since you last reviewed it.",
        Reason.NEW: "New card.",
        Reason.DUE: "",
        Reason.AGAIN: "Again, as its learning step says.",
        Reason.AHEAD: "Not due yet: reviewing ahead.",
    }[question.reason]
    body = None
    if question.kind is Kind.NUMERIC and question.numeric:
        body = question.numeric.prompt
    elif question.kind is Kind.CHOICE:
        body = card.choice_question  # the stem the options answer; None falls back to the open question
    out.print(question_panel(card, position, body, note, plain=not out.is_terminal))
    start = time.monotonic()
    if question.kind is Kind.RECALL:
        grade = _ask_recall(question, source)
        saved = answer(session, question, grade, None, None, time.monotonic() - start)
        if saved is not None:
            out.print(_when_next(saved, session.clock()), style="dim")
        return
    outcome = ask_choice(question) if question.kind is Kind.CHOICE else ask_numeric(question)
    out.print(verdict(outcome.correct, outcome.feedback))
    saved = answer(session, question, outcome.grade, outcome.correct, outcome.detail, time.monotonic() - start)
    if saved is not None:
        out.print(_when_next(saved, session.clock()), style="dim")
    _after_menu(card, source, allow_answer=True)


def _when_next(saved, now) -> str:
    """When the card comes back, as Anki prints on its buttons."""
    if saved.requeued is not None:
        return "It comes back later in this session (a learning step)."
    if saved.progress is None:
        return "Practice only: the schedule is unchanged."
    from quiz.days import day_of, due_from

    when = due_from(saved.progress.due, False)
    days = (day_of(saved.progress.due) - day_of(now)).days
    if days <= 0:
        return f"Next review: today from {saved.progress.due.astimezone():%H:%M}."
    return f"Next review: {when:%a %d %b} (in {days} day{'s' * (days != 1)})."


def _last_chance_to_undo() -> bool:
    """After the last question: Enter (or the end of input) finishes, u takes the last answer back."""
    try:
        key = click.prompt("[Enter to finish · u undo the last answer]", default="", show_default=False)
    except click.Abort:
        return False
    return key.strip().lower() in ("u", "undo")


def _next_due_note(progress, now) -> str:
    from quiz.days import due_from
    from quiz.scheduler import is_learning

    if not progress:
        return "Nothing to ask."
    soonest = min(due_from(p.due, is_learning(p.state)) for p in progress.values())
    wait = max(0, int((soonest - now).total_seconds() // 60))
    if wait < 60:
        span = f"{wait} min"
    else:
        span = f"{wait // 60} h {wait % 60:02d} min" if wait < 48 * 60 else f"{wait // 1440} days"
    return f"Nothing due. Next review: {soonest.astimezone().strftime('%a %d %b %H:%M')} (in {span})."


@main.command()
@click.argument("card_ids", nargs=-1, metavar="[ID]...")
@filters
@click.option("--new", "new", type=click.IntRange(min=0), default=10, show_default=True, help="New cards at most.")
@click.option(
    "--new-per-day",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="New cards a study day at most, over all sessions (as Anki's daily limit).",
)
@click.option("--due-only", is_flag=True, help="Only cards due for review; no new ones.")
@click.option("--ahead", is_flag=True, help="Review ahead: after the due cards, those due soonest (they count).")
@click.option("--cram", is_flag=True, help="Practise the chosen cards, due or not; the schedule is left alone.")
@click.option("--count", type=click.IntRange(min=1), help="Ask at most this many cards.")
@click.option("--type", "kind", type=click.Choice(["recall", "choice", "numeric"]), help="Only this kind of question.")
@click.option("--seed", type=int, help="Same seed and same database: same questions and generated numbers.")
@db_option
@deck_source
def take(
    card_ids: tuple[str, ...],
    topic: str | None,
    tag: str | None,
    difficulty: str | None,
    new: int,
    new_per_day: int,
    due_only: bool,
    ahead: bool,
    cram: bool,
    count: int | None,
    kind: str | None,
    seed: int | None,
    db: Path | None,
    source: DeckSource,
) -> None:
    """Practise with spaced repetition: due cards first, then new ones.

    Recall questions you grade yourself; multiple-choice and numeric answers grade themselves. A card you
    fail (or a new one, until it has passed its learning steps) comes back later in the same session. Every
    answer is saved as you give it.

    \b
    Keys at the prompts:  q quit · u undo the last answer · s skip (stays due)
                          ? I don't know (shows the answer) · m more of the answer · p prove it
    Given card ids, asks exactly those now (they count as reviews).

    \b
    A study day starts at 4 am local time ($QUIZ_DAY_STARTS sets the hour; $TZ the zone): cards due
    any time that day are due from its start. To move the clock, set QUIZ_NOW to an ISO 8601 time:
      QUIZ_NOW=2026-12-03T08:00+01:00 quiz take

    Example: quiz take --topic masking --new 5
    """
    options = _Options(card_ids, new, new_per_day, due_only, ahead, cram, count, kind, seed)
    cards = _cards_asked_for(card_ids, source, topic, tag, difficulty)
    store = open_store(db, source, writing=True)
    opened(store)
    try:
        _practise(store, cards, options, source)
    finally:
        store.close()


@dataclass(frozen=True)
class _Options:
    """What ``quiz take`` was asked for, as its options spell it."""

    card_ids: tuple[str, ...]
    new: int
    new_per_day: int
    due_only: bool
    ahead: bool
    cram: bool
    count: int | None
    kind: str | None
    seed: int | None


def _cards_asked_for(
    card_ids: tuple[str, ...], source: DeckSource, topic: str | None, tag: str | None, difficulty: str | None
) -> list[CardView]:
    """The cards named on the command line (each once), else those the filters choose."""
    if not card_ids:
        return chosen_cards(source, topic, tag, difficulty)
    from quiz.cache import load_cards

    index = load_cards(source.questions, source.answers)
    return [index.get(i) for i in dict.fromkeys(card_ids)]


def _practise(store: Store, cards: list[CardView], options: _Options, source: DeckSource) -> None:
    """Plan the questions, ask them until done or stopped, then sum up; exit 130 if interrupted, 1 if unsaved."""
    from quiz.session import Session, new_today
    from quiz.store import now_utc, suspended

    now = now_utc()
    progress = store.progress()
    held = suspended(store) if not options.card_ids else set()
    left_today = max(0, options.new_per_day - new_today(store.reviews(), now))
    questions = _plan(cards, progress, now, held, min(options.new, left_today), options)
    if not questions:
        mine = {c.id: progress[c.id] for c in cards if c.id in progress and c.id not in held}
        out.print(_next_due_note(mine, now))
        if not left_today and not options.due_only and any(c.id not in progress for c in cards):
            out.print(f"The daily limit of {options.new_per_day} new cards is reached (--new-per-day raises it).")
        return
    mode = "cram" if options.cram else "take"
    session = Session(store, questions, clock=now_utc, mode=mode, schedule=not options.cram, seed=options.seed)
    with stoppable(session) as stop:
        _ask_until_done(session, source)
    _print_summary(session, len(questions))
    stop.exit_if_interrupted()
    if session.unsaved:
        sys.exit(1)


def _plan(
    cards: list[CardView], progress: dict[str, Progress], now: datetime, held: set[str], new: int, options: _Options
) -> list[Question]:
    """The session's questions, in order: given ids or --cram ask every chosen card, cram in a shuffled order."""
    from quiz.session import Kind, plan

    questions = plan(
        cards,
        progress,
        now,
        new=new,
        due_only=options.due_only,
        count=options.count,
        seed=options.seed,
        kind=Kind(options.kind) if options.kind else None,
        ahead=options.ahead,
        everything=bool(options.card_ids) or options.cram,
        suspended=held,
    )
    if options.cram and not options.card_ids:
        import random

        random.Random(options.seed).shuffle(questions)
    return questions


def _ask_until_done(session: Session, source: DeckSource) -> None:
    """Ask the session's questions, with s skipping one and u taking the last answer back (then asking it again);
    after the last one, u is offered once more."""
    number = 0
    while True:
        question = session.next()
        if question is None and not (session.answered and _last_chance_to_undo()):
            break
        if question is not None:
            number += 1
            position = f"{number}/{number + len(session.queue)} · {question.kind}"
        try:
            if question is None:
                raise Undo
            _ask_question(session, question, position, source)
        except Skip:
            session.skip(question)
            out.print("Skipped: not graded, and still due.", style="dim")
        except Undo:
            number -= _undo(session, question)


def _undo(session: Session, question: Question | None) -> int:
    """Take back the last answer and put its question first again; returns how far the count steps back."""
    answered = question is None or (session.answered and session.answered[-1].question is question)
    if not answered:
        session.queue.insert(0, question)
    undone = session.undo()
    if undone is None:
        err.print("Nothing to undo yet.")
        return 1
    out.print(f"Undone: your last answer to “{undone.card.title}”. Asking it again.", style="dim")
    return (1 if answered else 2) if question is not None else 1


def _print_summary(session: Session, planned: int) -> None:
    if not session.answered:
        return
    summary = session.summary()
    cards_done = len({a.question.card.id for a in session.answered})
    repeats = len(session.answered) - cards_done
    out.print(
        f"Answered {cards_done} of {planned}"
        + (f" ({len(session.answered)} answers with the learning steps)" if repeats else "")
        + ": "
        + ", ".join(f"{n} {name}" for name, n in summary.items())
        + (f" · skipped {session.skipped}" if session.skipped else "")
    )
