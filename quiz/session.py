"""A quiz session: which cards to ask, as which kind of question, and what happens to each answer.

Everything here returns data; ``quiz.cli.take`` only asks and prints. Choice and numeric answers grade
themselves (right → Good, wrong → Again); a recall answer is graded by the person. Each answer is saved by
``Store.record`` the moment it is given.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from pathlib import Path

from quiz.cache import CardView, ChoiceView, NumericView
from quiz.days import LEARN_AHEAD, day_of, is_due
from quiz.errors import QuizError
from quiz.numeric import NumericInstance, draw, format_quantity, percent
from quiz.scheduler import is_learning
from quiz.store import (
    CardRow,
    NotSavedError,
    Progress,
    Review,
    Store,
    Unsaved,
    card_row,
    record_unscheduled,
    undo_last,
    undo_unscheduled,
)
from quiz.vocab import CHOICE_LETTERS


class Grade(IntEnum):
    """Self-grades, numbered as in FSRS and Anki."""

    AGAIN = 1
    HARD = 2
    GOOD = 3
    EASY = 4


class Kind(StrEnum):
    RECALL = "recall"
    CHOICE = "choice"
    NUMERIC = "numeric"


class Reason(StrEnum):
    DUE = "due"
    CHANGED = "changed"  # reviewed before, but the card's content has been edited since
    NEW = "new"
    AGAIN = "again"  # a learning or relearning step, asked again in the same session
    AHEAD = "ahead"  # not due yet: review ahead, cram or asked by id


def kinds_of(card: CardView) -> list[Kind]:
    return [Kind.RECALL] + [Kind.CHOICE] * bool(card.choices) + [Kind.NUMERIC] * bool(card.numeric)


@dataclass(frozen=True)
class Outcome:
    correct: bool
    grade: Grade
    feedback: str  # the picked choice's why, or the expected value
    detail: str  # what was answered, kept with the review


@dataclass
class Question:
    card: CardView
    kind: Kind
    reason: Reason
    choices: list[ChoiceView] = field(default_factory=list)  # shuffled, for CHOICE
    template: NumericView | None = None  # the NumericQuestion asked, for NUMERIC
    draw_seed: int = 0
    _numeric: NumericInstance | None = field(default=None, repr=False)

    @property
    def numeric(self) -> NumericInstance | None:
        """The drawn configuration, computed when first shown: the formulas are imported only then."""
        if self._numeric is None and self.template is not None:
            try:
                self._numeric = draw(self.template, random.Random(self.draw_seed))
            except QuizError as error:  # say which card, so the person knows what to fix
                raise QuizError(f"card '{self.card.id}': numeric question: {error}") from None
        return self._numeric

    def check_choice(self, index: int) -> Outcome:
        """Grade the choice at ``index`` (0-based, in the order shown)."""
        picked = self.choices[index]
        right = next(c for c in self.choices if c.correct)
        letter = CHOICE_LETTERS[index]
        if picked.correct:
            return Outcome(True, Grade.GOOD, picked.why or "", f"{letter}: {picked.text}")
        why = picked.why or ""
        return Outcome(False, Grade.AGAIN, f"{why}\nThe answer: {right.text}", f"{letter}: {picked.text}")

    def dont_know(self) -> Outcome:
        """ "I don't know": graded Again, with the answer shown, instead of a deliberate wrong guess."""
        if self.kind is Kind.NUMERIC and self.numeric is not None:
            answer = f"expected {format_quantity(self.numeric.expected, self.numeric.unit)}"
        else:
            answer = "The answer: " + next(c.text for c in self.choices if c.correct)
        return Outcome(False, Grade.AGAIN, answer, "don't know")

    def check_numeric(self, text: str) -> Outcome:
        """Grade a typed value; raises AnswerFormatError (ask again) when it cannot be read.

        Right → Good; the right figure in the other unit convention (64 KB for 64 KiB) → right but Hard; within 10 %
        → not right, but Hard rather than a lapse; otherwise Again. The feedback says how the answer was read, names
        the gap, and ends with the working for the drawn numbers."""
        assert self.numeric is not None
        instance = self.numeric
        reading, judgement = instance.grade(text)
        unit = instance.unit
        given, expected = format_quantity(reading.value, unit), format_quantity(instance.expected, unit)
        lines = [f"({note})" for note in reading.notes]
        if judgement.status == "right":
            lines.insert(0, f"{given} (expected {expected})")
        else:
            lines.insert(0, f"{given} — expected {expected} ({percent(instance.tolerance)})")
            if judgement.gap:
                lines.append(judgement.gap[0].upper() + judgement.gap[1:] + ".")
        if instance.steps:
            lines.append("Working: " + instance.steps[0])
            lines += ["  " + step for step in instance.steps[1:]]
        right = judgement.status in ("right", "convention")
        grade = {"right": Grade.GOOD, "convention": Grade.HARD, "close": Grade.HARD}.get(judgement.status, Grade.AGAIN)
        return Outcome(right, grade, "\n".join(lines), f"{text.strip()[:80]} → {reading.value:.6g}")


def make_question(card: CardView, kind: Kind, reason: Reason, rng: random.Random) -> Question:
    question = Question(card, kind, reason)
    if kind is Kind.CHOICE:
        question.choices = list(card.choices)
        rng.shuffle(question.choices)
    elif kind is Kind.NUMERIC:
        question.template = rng.choice(card.numeric)
        question.draw_seed = rng.getrandbits(32)
    return question


def plan(
    cards: Iterable[CardView],
    progress: dict[str, Progress],
    now: datetime,
    *,
    new: int = 10,
    due_only: bool = False,
    count: int | None = None,
    seed: int | None = None,
    kind: Kind | None = None,
    ahead: bool = False,
    everything: bool = False,
    suspended: frozenset[str] | set[str] = frozenset(),
) -> list[Question]:
    """Due cards first (most overdue first, with edited cards among them), then at most ``new`` new ones.

    Due means what ``quiz.days`` says, for ``stats`` too. ``ahead`` adds the cards not yet due, soonest first
    (review ahead); ``everything`` asks every card given, due or not, new or not (``take ID...`` and cram).
    Suspended cards are never asked. ``kind`` asks every card as that kind of question (cards that cannot be
    are left out); otherwise each card is asked as one of its kinds at random. The same seed and the same
    database give the same questions.
    """
    rng = random.Random(seed)
    pool = sorted(
        (c for c in cards if (kind is None or kind in kinds_of(c)) and c.id not in suspended), key=lambda c: c.id
    )
    if everything:
        return [_ask(card, _reason(card, progress, now), kind, rng) for card in pool][: count or None]
    due: list[tuple[datetime, Question]] = []
    later: list[tuple[datetime, Question]] = []
    fresh: list[CardView] = []
    for card in pool:
        seen = progress.get(card.id)
        if seen is None:
            fresh.append(card)
        elif seen.content_hash != card.content_hash:
            due.append((min(seen.due, now), _ask(card, Reason.CHANGED, kind, rng)))
        elif is_due(seen.due, is_learning(seen.state), now):
            due.append((seen.due, _ask(card, Reason.DUE, kind, rng)))
        elif ahead:
            later.append((seen.due, _ask(card, Reason.AHEAD, kind, rng)))
    questions = [q for _, q in sorted(due, key=lambda pair: (pair[0], pair[1].card.id))]
    questions += [q for _, q in sorted(later, key=lambda pair: (pair[0], pair[1].card.id))]
    if not due_only:
        rng.shuffle(fresh)
        questions += [_ask(card, Reason.NEW, kind, rng) for card in fresh[:new]]
    return questions[:count] if count else questions


def _reason(card: CardView, progress: dict[str, Progress], now: datetime) -> Reason:
    seen = progress.get(card.id)
    if seen is None:
        return Reason.NEW
    if seen.content_hash != card.content_hash:
        return Reason.CHANGED
    return Reason.DUE if is_due(seen.due, is_learning(seen.state), now) else Reason.AHEAD


def new_today(reviews: Iterable[Review], now: datetime) -> int:
    """How many cards were seen for the first time on today's study day (for the daily new-card limit)."""
    today = day_of(now)
    return sum(1 for r in reviews if r.first and day_of(r.answered_at) == today)


def _ask(card: CardView, reason: Reason, kind: Kind | None, rng: random.Random) -> Question:
    return make_question(card, kind or rng.choice(kinds_of(card)), reason, rng)


REASK_AFTER = 3  # a card in its learning steps comes back after this many other questions (or sooner, if fewer)


@dataclass(frozen=True)
class Answered:
    question: Question
    grade: Grade
    correct: bool | None
    progress: Progress | None  # None when cram left the schedule alone, or while unsaved (Session.unsaved)
    before: CardRow | None = None  # the schedule before this answer, for undo
    requeued: Question | None = None  # the same card, put back in the queue for its next learning step


@dataclass
class Session:
    """Questions being asked, and the answers given so far: each saved as it is given, or, when the database
    will not take it, kept in ``unsaved``, retried with the next answer and by ``finish``.

    ``queue`` holds what is still to ask. After an answer that leaves the card in its learning or relearning
    steps (FSRS's minute intervals: Again 1 min, Good on a new card 10 min), the card is asked again behind
    ``REASK_AFTER`` others, as Anki does, until it graduates. With ``schedule`` off (cram) answers are logged
    and the schedule is untouched; a failed card still comes back.
    """

    store: Store
    questions: list[Question]
    clock: Callable[[], datetime]
    mode: str = "take"
    answered: list[Answered] = field(default_factory=list)
    unsaved: list[Unsaved] = field(default_factory=list)
    relearn: bool = True
    schedule: bool = True
    seed: int | None = None
    queue: list[Question] = field(default_factory=list)
    skipped: int = 0

    def __post_init__(self) -> None:
        self.queue = list(self.questions)
        self._rng = random.Random(self.seed)

    def next(self) -> Question | None:
        return self.queue.pop(0) if self.queue else None

    def answer(
        self,
        question: Question,
        grade: Grade,
        correct: bool | None = None,
        detail: str | None = None,
        seconds: float | None = None,
    ) -> Answered:
        """Save the answer; raises NotSavedError (the answer kept in ``unsaved``) when the database will not."""
        card = question.card
        now = self.clock()
        if not self.schedule:
            kind = question.kind.value
            record_unscheduled(
                self.store, card.id, card.topic, kind, int(grade), now=now, correct=correct, mode=self.mode
            )
            saved, before = None, None
            again = grade == Grade.AGAIN
        else:
            if self.unsaved:  # earlier answers first, so each card's reviews are written in the order given
                self.unsaved = self.store.retry(self.unsaved)
            args = (card.id, card.topic, card.content_hash, question.kind.value, int(grade))
            extra = dict(now=now, correct=correct, seconds=seconds, mode=self.mode, detail=detail)
            try:
                if self.unsaved:
                    raise NotSavedError(
                        f"{self.store.path} still cannot be written", self.store.answer_of(*args, **extra)
                    )
                before = card_row(self.store, card.id)
                saved = self.store.record(*args, **extra)
            except NotSavedError as problem:
                self.unsaved.append(problem.answer)
                self.answered.append(Answered(question, grade, correct, None))
                raise
            again = is_learning(saved.state) and saved.due <= now + LEARN_AHEAD
        requeued = None
        if self.relearn and again:
            requeued = make_question(card, question.kind, Reason.AGAIN, self._rng)
            self.queue.insert(min(len(self.queue), REASK_AFTER), requeued)
        result = Answered(question, grade, correct, saved, before, requeued)
        self.answered.append(result)
        return result

    def skip(self, question: Question) -> None:
        """Leave the card as it was: not graded, still due."""
        self.skipped += 1

    def undo(self) -> Question | None:
        """Take back the last answer (its review and its effect on the schedule); return its question, to be
        asked again first."""
        if not self.answered:
            return None
        last = self.answered.pop()
        if last.requeued is not None and last.requeued in self.queue:
            self.queue.remove(last.requeued)
        if last.progress is not None:
            undo_last(self.store, last.question.card.id, last.before)
        elif not self.schedule:
            undo_unscheduled(self.store, last.question.card.id)
        elif self.unsaved:  # never reached the database: forget the kept copy
            self.unsaved.pop()
        self.queue.insert(0, last.question)
        return last.question

    def finish(self) -> Path | None:
        """Retry the answers kept unsaved; write those that still fail to the recovery file and return its path."""
        if self.unsaved:
            self.unsaved = self.store.retry(self.unsaved)
        return self.store.keep(self.unsaved) if self.unsaved else None

    def summary(self) -> dict[str, int]:
        return {g.name.lower(): sum(a.grade == g for a in self.answered) for g in Grade}
