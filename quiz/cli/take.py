"""Practising: ``quiz take`` (spaced repetition), ``quiz interview`` (a timed mock), ``quiz stats`` and
``quiz export anki``. Asking and printing only; choosing, checking and saving live in the library
(quiz.session, quiz.interview, quiz.stats, quiz.store).

``take`` is on the start-up budget: it reads the cached card index, never the YAML, and imports the
Markdown renderer, fsrs and the formulas in a background thread while the first question is on screen.
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from quiz.cli.base import DeckSource, db_option, deck_source, err, filters, main, open_store, out
from quiz.errors import QuizError
from quiz.vocab import CHOICE_LETTERS

if TYPE_CHECKING:
    from quiz.cache import CardView
    from quiz.session import Grade, Outcome, Question, Session

_GRADES = {"1": 1, "2": 2, "3": 3, "4": 4}


class _Quit(Exception):
    """The person typed q: leave like Ctrl-C, keeping every answer already given."""


class _Undo(Exception):
    """The person typed u: take back the last answer and ask that card again."""


class _Skip(Exception):
    """The person typed s: move on without grading; the card stays as it was."""


# The keys every prompt of `quiz take` understands besides its own (not the interview's: no undo there).
_SESSION_KEYS = {"u": _Undo, "undo": _Undo, "s": _Skip, "skip": _Skip}
DONT_KNOW = ("?", "idk")


class _Stop:
    """How a session ended early: q is a choice (exit 0); Ctrl-C or the end of input is an interruption
    (exit 130, as for any interrupted command). Either way every answer already given is in the database."""

    interrupted = False

    def exit_if_interrupted(self) -> None:
        if self.interrupted:
            sys.exit(130)


@contextmanager
def _stoppable(session: Session):
    stop = _Stop()
    try:
        yield stop
    except _Quit:
        err.print("\nStopped. " + _saved_note(session), markup=False, highlight=False)
    except (click.Abort, KeyboardInterrupt):
        err.print("\nInterrupted. " + _saved_note(session), markup=False, highlight=False)
        stop.interrupted = True
    else:
        if session.store.in_memory or session.unsaved:
            err.print(_saved_note(session), markup=False, highlight=False)


def _saved_note(session: Session) -> str:
    """What became of the answers: saved, or kept in a recovery file (named, with each answer), or nothing."""
    if session.store.in_memory:
        return "Nothing was saved: --db :memory: keeps answers in memory only."
    try:
        kept = session.finish()
    except QuizError as problem:
        answers = "; ".join(a.describe() for a in session.unsaved)
        return f"{len(session.unsaved)} answers could not be saved, nor kept in a file ({problem}): {answers}."
    if kept is None:
        return "Every answer you gave is saved."
    answers = "; ".join(a.describe() for a in session.unsaved)
    return (
        f"{len(session.unsaved)} answers could not be saved ({answers}). They are kept in {kept}; the next "
        "quiz take or interview with this database saves them first."
    )


def _answer(session: Session, question: Question, *args):
    """Save an answer; when the database will not take it, say exactly what was kept, and go on."""
    from quiz.store import NotSavedError

    try:
        return session.answer(question, *args)
    except NotSavedError as problem:
        err.print(
            f"Not saved yet: {problem.answer.describe()}. {problem}. It is kept, and saved with your next answer "
            "or at the end.",
            markup=False,
            highlight=False,
        )


def _opened(store) -> None:
    if store.in_memory:
        err.print("--db :memory: keeps answers in memory only; they are gone when the session ends.")
    if store.recovered:
        err.print(f"Saved {store.recovered} answers kept from an earlier session.")


def _cards(source: DeckSource, topic: str | None, tag: str | None, difficulty: str | None) -> list[CardView]:
    from quiz.cache import load_index
    from quiz.filters import select

    chosen = select(load_index(source.questions, source.answers), topic, tag, difficulty)
    if not chosen:
        raise QuizError("no cards match these filters; loosen --topic, --tag or --difficulty")
    return chosen


_prefetched = False


def _prefetch() -> None:
    """Import what the answer needs while the person reads the question: the import costs then no wait.
    Started at the first prompt, not before, so it does not compete with drawing the first question."""
    global _prefetched
    if _prefetched:
        return
    _prefetched = True

    def work() -> None:
        import contextlib

        with contextlib.suppress(Exception):
            import fsrs  # noqa: F401
            import rich.markdown  # noqa: F401

            import answers.formulas  # noqa: F401

    threading.Thread(target=work, daemon=True).start()


_session_keys = True  # off during an interview


def _ask(text: str) -> str:
    _prefetch()
    answer = click.prompt(text, default="", show_default=False, prompt_suffix=" ").strip()
    if answer.lower() in ("q", "quit"):
        raise _Quit
    if _session_keys and answer.lower() in _SESSION_KEYS:
        raise _SESSION_KEYS[answer.lower()]
    return answer


def _prove(card: CardView, source: DeckSource) -> None:
    """The card's evidence, from the proof cache or run (then torch is imported: here and nowhere else)."""
    from quiz.cli.views import evidence_table
    from quiz.proofs import ProofCache, prove

    try:
        with err.status(f"Proving {len(card.claims)} claims (the first run imports torch)…", spinner="dots"):
            results = prove([card], source.answers, trusted=source.trusted, cache=ProofCache())
    except QuizError as error:  # e.g. an untrusted answers folder: say so, and go on with the session
        err.print(f"Error: {error}", markup=False, highlight=False)
        return
    out.print(evidence_table(results, show_card=False))
    proved = sum(r.passed for r in results)
    out.print(f"{proved} of {len(results)} claims proved by running code.")


def _after_menu(card: CardView, source: DeckSource, allow_answer: bool) -> None:
    """After an auto-graded answer: move on, or look at the full answer or its proofs first."""
    from quiz.cli.views import answer_view

    keys = "Enter next" + (" · a answer" if allow_answer else "") + " · p prove it · u undo · q quit"
    while True:
        key = _ask(f"[{keys}]").lower()
        if key == "":
            return
        if key == "p":
            _prove(card, source)
        elif key == "a" and allow_answer:
            out.print(answer_view(card))
        else:
            err.print(f"Type one of: {keys}")


def _ask_choice(question: Question) -> Outcome:
    from quiz.cli.views import choices_view

    out.print(choices_view(question.choices))
    letters = CHOICE_LETTERS[: len(question.choices)]
    while True:
        key = _ask(f"Your choice ({'/'.join(letters)} · ? don't know{_EXTRA_KEYS()})").lower()
        if key in DONT_KNOW:
            return question.dont_know()
        index = letters.find(key) if len(key) == 1 and key.isalpha() else int(key) - 1 if key.isdigit() else -1
        if 0 <= index < len(letters):
            return question.check_choice(index)
        err.print(f"Type a letter from {letters[0]} to {letters[-1]}.")


def _ask_numeric(question: Question) -> Outcome:
    from quiz.numeric import EXAMPLES, AnswerFormatError

    assert question.numeric is not None
    unit = question.numeric.unit
    out.print(f"Answer in {unit} (forms like {EXAMPLES.get(unit, '2.5 or 1,024')}).", markup=False, highlight=False)
    while True:
        try:
            text = _ask(f"Your answer (? don't know{_EXTRA_KEYS()})")
            if text.lower() in DONT_KNOW:
                return question.dont_know()
            return question.check_numeric(text)
        except AnswerFormatError as problem:  # typed text may hold [/] or escapes: never read it as markup
            err.print(f"{problem} — try again.", markup=False, highlight=False)


def _EXTRA_KEYS() -> str:
    return " · s skip · u undo" if _session_keys else ""


def _ask_recall(question: Question, source: DeckSource, interview: bool) -> Grade:
    """Reveal the answer and take the person's own grade (p proves the card first, outside an interview).

    Only the question and the answer are on screen when grading, so they fit an 80×24 terminal: on a
    terminal the screen is cleared and the question shown again above the answer; the explanation, pitfalls
    and what is not measured come on m."""
    from quiz.cli.views import answer_view, more_view, reveal_view
    from quiz.session import Grade

    _ask("[Enter to reveal the answer" + ("" if interview else " · s skip · u undo") + " · q quit]")
    if out.is_terminal:
        out.clear()
        out.print(reveal_view(question.card, out.width, out.height))
    else:
        out.print(answer_view(question.card, explanation=False))
    has_more = not interview
    while True:
        key = _ask(
            "How well did you know it? 1 again · 2 hard · 3 good · 4 easy"
            + (" · m more · p prove" if has_more else "")
            + (" · u undo" if _session_keys else "")
        ).lower()
        if key in _GRADES:
            return Grade(_GRADES[key])
        if key == "m" and has_more:
            if out.is_terminal:  # paged, from its first line; q in the pager comes back to this prompt
                with out.pager():
                    out.print(more_view(question.card))
            else:
                out.print(more_view(question.card))
        elif key == "p" and not interview:
            _prove(question.card, source)
        else:
            err.print("Type 1, 2, 3 or 4.")


def _ask_question(session: Session, question: Question, position: str, source: DeckSource, interview: bool = False):
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
    out.print(question_panel(card, position, body, "" if interview else note, plain=not out.is_terminal))
    start = time.monotonic()
    if question.kind is Kind.RECALL:
        grade = _ask_recall(question, source, interview)
        saved = _answer(session, question, grade, None, None, time.monotonic() - start)
        if saved is not None and not interview:
            out.print(_when_next(saved, session.clock()), style="dim")
        return
    outcome = _ask_choice(question) if question.kind is Kind.CHOICE else _ask_numeric(question)
    out.print(verdict(outcome.correct, outcome.feedback))
    saved = _answer(session, question, outcome.grade, outcome.correct, outcome.detail, time.monotonic() - start)
    if not interview:
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
    from quiz.session import Kind, Session, new_today, plan
    from quiz.store import now_utc, suspended

    if card_ids:
        from quiz.cache import load_cards

        index = load_cards(source.questions, source.answers)
        cards = [index.get(i) for i in dict.fromkeys(card_ids)]
    else:
        cards = _cards(source, topic, tag, difficulty)
    store = open_store(db, source, writing=True)
    _opened(store)
    try:
        now = now_utc()
        progress = store.progress()
        held = suspended(store) if not card_ids else set()
        left_today = max(0, new_per_day - new_today(store.reviews(), now))
        questions = plan(
            cards,
            progress,
            now,
            new=min(new, left_today),
            due_only=due_only,
            count=count,
            seed=seed,
            kind=Kind(kind) if kind else None,
            ahead=ahead,
            everything=bool(card_ids) or cram,
            suspended=held,
        )
        if cram and not card_ids:
            import random

            random.Random(seed).shuffle(questions)
        if not questions:
            mine = {c.id: progress[c.id] for c in cards if c.id in progress and c.id not in held}
            out.print(_next_due_note(mine, now))
            if not left_today and not due_only and any(c.id not in progress for c in cards):
                out.print(f"The daily limit of {new_per_day} new cards is reached (--new-per-day raises it).")
            return
        session = Session(
            store, questions, clock=now_utc, mode="cram" if cram else "take", schedule=not cram, seed=seed
        )
        number = 0
        with _stoppable(session) as stop:
            while True:
                question = session.next()
                if question is None and not (session.answered and _last_chance_to_undo()):
                    break
                if question is not None:
                    number += 1
                    position = f"{number}/{number + len(session.queue)} · {question.kind}"
                try:
                    if question is None:
                        raise _Undo
                    _ask_question(session, question, position, source)
                except _Skip:
                    session.skip(question)
                    out.print("Skipped: not graded, and still due.", style="dim")
                except _Undo:
                    answered = question is None or (session.answered and session.answered[-1].question is question)
                    if not answered:
                        session.queue.insert(0, question)
                    undone = session.undo()
                    if undone is None:
                        err.print("Nothing to undo yet.")
                        number -= 1
                    else:
                        out.print(f"Undone: your last answer to “{undone.card.title}”. Asking it again.", style="dim")
                        number -= (1 if answered else 2) if question is not None else 1
        summary = session.summary()
        if session.answered:
            cards_done = len({a.question.card.id for a in session.answered})
            repeats = len(session.answered) - cards_done
            out.print(
                f"Answered {cards_done} of {len(questions)}"
                + (f" ({len(session.answered)} answers with the learning steps)" if repeats else "")
                + ": "
                + ", ".join(f"{n} {name}" for name, n in summary.items())
                + (f" · skipped {session.skipped}" if session.skipped else "")
            )
        stop.exit_if_interrupted()
        if session.unsaved:
            sys.exit(1)
    finally:
        store.close()


@main.command()
@click.argument("card_ids", nargs=-1, required=True, metavar="ID...")
@click.option("--off", is_flag=True, help="Unsuspend: ask the cards again when due.")
@db_option
@deck_source
def suspend(card_ids: tuple[str, ...], off: bool, db: Path | None, source: DeckSource) -> None:
    """Stop asking these cards (their schedule is kept); --off asks them again.

    Example: quiz suspend causal-masking
    """
    from quiz.cache import load_cards
    from quiz.store import set_suspended

    index = load_cards(source.questions, source.answers)
    ids = [index.get(i).id for i in card_ids]
    with open_store(db, source) as store:
        set_suspended(store, ids, not off)
    out.print(("Unsuspended: " if off else "Suspended: ") + ", ".join(ids))


@main.command()
@click.argument("card_ids", nargs=-1, required=True, metavar="ID...")
@db_option
@deck_source
def reset(card_ids: tuple[str, ...], db: Path | None, source: DeckSource) -> None:
    """Forget the schedule of these cards: they are new again (their past answers stay in the history).

    Example: quiz reset causal-masking
    """
    from quiz.cache import load_cards
    from quiz.store import reset as forget

    index = load_cards(source.questions, source.answers)
    ids = [index.get(i).id for i in card_ids]
    with open_store(db, source) as store:
        n = forget(store, ids)
    out.print(f"Reset {n} of {len(ids)} cards: they are new again.")


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
    from quiz.interview import OVERRUN, Timer, clock_text, plan_interview, report
    from quiz.session import Session
    from quiz.store import now_utc

    global _session_keys
    cards = _cards(source, topic, tag, difficulty)
    store = open_store(db, source, writing=True)
    _opened(store)
    _session_keys = False  # no undo or skip in an interview: an interviewer takes the answer given
    try:
        plan = plan_interview(cards, minutes, seed)
        opened = sum(a.open for a in plan.planned)
        follow_ups = sum(a.follow_up_of is not None for a in plan.planned)
        session = Session(
            store,
            [a.question for a in plan.planned],
            clock=now_utc,
            mode="interview",
            relearn=False,
            schedule=not practice,
        )
        out.print(
            f"Mock interview: {minutes} minutes, about {len(plan.planned)} question{'s' * (len(plan.planned) != 1)} "
            f"({opened} open, answered "
            f"aloud, {follow_ups} of them follow-ups). q or Ctrl-C stops.",
            markup=False,
            highlight=False,
        )
        timer = Timer(minutes)
        results = []
        with _stoppable(session) as stop:
            number = 0
            while True:
                left = timer.remaining()
                if left <= 0:
                    out.print("Time is up.")
                    break
                asked = plan.next()
                if asked is None:
                    out.print("No more questions in this selection.")
                    break
                number += 1
                kind = "open" if asked.open else str(asked.question.kind)
                position = f"{number} · {kind} · {clock_text(left)} left"
                result = _ask_interview_question(session, asked, position, source, timer)
                results.append(result)
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
        _print_report(report(results, len(plan.planned), timer.elapsed(), cards))
        stop.exit_if_interrupted()
        if session.unsaved:
            sys.exit(1)
    finally:
        _session_keys = True
        store.close()


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
        _answer(session, question, grade, None, detail, seconds)
        return Result(asked, grade, None, said, seconds)
    outcome = _ask_choice(question) if question.kind is Kind.CHOICE else _ask_numeric(question)
    out.print(verdict(outcome.correct, outcome.feedback))
    seconds = timer.elapsed() - start
    _answer(session, question, outcome.grade, outcome.correct, outcome.detail, seconds)
    return Result(asked, outcome.grade, outcome.correct, None, seconds)


def _ask_open(question: Question) -> tuple[Grade, tuple[int, ...] | None]:
    """An open question: answered aloud, then checked against the model answer and the must-say points. The
    share of points ticked suggests the grade; the person may keep it or give their own."""
    from quiz.cli.latex import latex_to_unicode
    from quiz.cli.views import answer_view, reveal_view
    from quiz.interview import TicksError, parse_ticks, rubric_grade
    from quiz.session import Grade

    card = question.card
    _ask("[Answer aloud, as you would to the interviewer; Enter when done · q quit]")
    if out.is_terminal:
        out.clear()
        out.print(reveal_view(card, out.width, out.height - len(card.must_say) - 2))
    else:
        out.print(answer_view(card, explanation=False))
    if not card.must_say:
        while True:
            key = _ask("How well did you answer? 1 again · 2 hard · 3 good · 4 easy").lower()
            if key in _GRADES:
                return Grade(_GRADES[key]), None
            err.print("Type 1, 2, 3 or 4.")
    out.print("A strong answer says:", style="bold")
    for number, point in enumerate(card.must_say, 1):
        out.print(f"  {number}. {latex_to_unicode(point)}", markup=False, highlight=False)
    points = len(card.must_say)
    while True:
        try:
            said = parse_ticks(_ask("Which did you say? (numbers like 1 3 · a all · Enter none)"), points)
            break
        except TicksError as problem:
            err.print(f"{problem}.", markup=False, highlight=False)
    suggested = rubric_grade(len(said), points)
    name = suggested.name.lower()
    out.print(f"You said {len(said)} of {points} points: {name}.", markup=False, highlight=False)
    while True:
        key = _ask(f"[Enter keeps {name} · or grade it yourself: 1 again · 2 hard · 3 good · 4 easy]").lower()
        if key == "":
            return suggested, said
        if key in _GRADES:
            return Grade(_GRADES[key]), said
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
