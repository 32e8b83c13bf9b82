"""Asking at the prompt, shared by ``quiz take`` and ``quiz interview``: the keys every prompt understands,
a multiple-choice or numeric question, the evidence on p, and how a session that ends early says what was saved.
Asking and printing only; choosing, checking and saving live in the library (quiz.session, quiz.store).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from quiz.cli.base import DeckSource, err, out
from quiz.errors import QuizError
from quiz.vocab import CHOICE_LETTERS

if TYPE_CHECKING:
    from quiz.cache import CardView
    from quiz.session import Outcome, Question, Session

GRADES = {"1": 1, "2": 2, "3": 3, "4": 4}


class Quit(Exception):
    """The person typed q: leave like Ctrl-C, keeping every answer already given."""


class Undo(Exception):
    """The person typed u: take back the last answer and ask that card again."""


class Skip(Exception):
    """The person typed s: move on without grading; the card stays as it was."""


# The keys every prompt of `quiz take` understands besides its own (not the interview's: no undo there).
_SESSION_KEYS = {"u": Undo, "undo": Undo, "s": Skip, "skip": Skip}
DONT_KNOW = ("?", "idk")


class Stop:
    """How a session ended early: q is a choice (exit 0); Ctrl-C or the end of input is an interruption
    (exit 130, as for any interrupted command). Either way every answer already given is in the database."""

    interrupted = False

    def exit_if_interrupted(self) -> None:
        if self.interrupted:
            sys.exit(130)


@contextmanager
def stoppable(session: Session) -> Iterator[Stop]:
    stop = Stop()
    try:
        yield stop
    except Quit:
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


def answer(session: Session, question: Question, *args):
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


def opened(store) -> None:
    if store.in_memory:
        err.print("--db :memory: keeps answers in memory only; they are gone when the session ends.")
    if store.recovered:
        err.print(f"Saved {store.recovered} answers kept from an earlier session.")


def chosen_cards(source: DeckSource, topic: str | None, tag: str | None, difficulty: str | None) -> list[CardView]:
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


_session_keys = True  # off during an interview


@contextmanager
def without_session_keys() -> Iterator[None]:
    """No undo or skip in an interview: an interviewer takes the answer given."""
    global _session_keys
    _session_keys = False
    try:
        yield
    finally:
        _session_keys = True


def ask(text: str) -> str:
    _prefetch()
    answer = click.prompt(text, default="", show_default=False, prompt_suffix=" ").strip()
    if answer.lower() in ("q", "quit"):
        raise Quit
    if _session_keys and answer.lower() in _SESSION_KEYS:
        raise _SESSION_KEYS[answer.lower()]
    return answer


def prove(card: CardView, source: DeckSource) -> None:
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


def ask_choice(question: Question) -> Outcome:
    from quiz.cli.views import choices_view

    out.print(choices_view(question.choices))
    letters = CHOICE_LETTERS[: len(question.choices)]
    while True:
        key = ask(f"Your choice ({'/'.join(letters)} · ? don't know{extra_keys()})").lower()
        if key in DONT_KNOW:
            return question.dont_know()
        index = letters.find(key) if len(key) == 1 and key.isalpha() else int(key) - 1 if key.isdigit() else -1
        if 0 <= index < len(letters):
            return question.check_choice(index)
        err.print(f"Type a letter from {letters[0]} to {letters[-1]}.")


def ask_numeric(question: Question) -> Outcome:
    from quiz.numeric import EXAMPLES, AnswerFormatError

    assert question.numeric is not None
    unit = question.numeric.unit
    out.print(f"Answer in {unit} (forms like {EXAMPLES.get(unit, '2.5 or 1,024')}).", markup=False, highlight=False)
    while True:
        try:
            text = ask(f"Your answer (? don't know{extra_keys()})")
            if text.lower() in DONT_KNOW:
                return question.dont_know()
            return question.check_numeric(text)
        except AnswerFormatError as problem:  # typed text may hold [/] or escapes: never read it as markup
            err.print(f"{problem} — try again.", markup=False, highlight=False)


def extra_keys() -> str:
    return " · s skip · u undo" if _session_keys else ""
