"""A timed mock interview, as an interviewer runs one: mostly open questions answered aloud and graded against
the card's model answer and its must-say points, a follow-up from a related card after an open question,
multiple choice and numeric mixed in, against a clock that really runs. Scored per topic at the end, with the
cards to study next. Everything here returns data; ``quiz.cli.interview`` asks and prints."""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from quiz.cache import CardView
from quiz.session import Grade, Kind, Question, Reason, make_question

# What one question takes in an interview, by kind, in minutes: the plan is sized from these.
MINUTES = {Kind.RECALL: 3.0, Kind.NUMERIC: 2.0, Kind.CHOICE: 1.0}
FOLLOW_UP_MINUTES = 2.0  # a follow-up is open too, but narrower: "and what about …?"
OVERRUN = 1.5  # a question that takes this many times its estimate is flagged as running over

# The clock the interview runs on (seconds); tests replace it instead of sleeping.
now: Callable[[], float] = time.monotonic


@dataclass
class Asked:
    """One question of the interview: the question, its time estimate, and the card it follows up on."""

    question: Question
    minutes: float
    follow_up_of: CardView | None = None

    @property
    def open(self) -> bool:
        return self.question.kind is Kind.RECALL


class Interview:
    """The questions, drawn in a fixed order for a seed: topics round-robin so none dominates; main questions
    alternate between open and objective (an open one first), so at least half of all questions are open; an
    open question is followed up by one of its card's related cards. ``planned`` fills the minutes by the
    per-kind estimates; when they are used up before the time is, ``next`` draws more."""

    def __init__(self, cards: list[CardView], minutes: float, seed: int | None = None) -> None:
        self._rng = random.Random(seed)
        by_topic: dict[str, list[CardView]] = defaultdict(list)
        for card in sorted(cards, key=lambda c: c.id):
            by_topic[card.topic].append(card)
        for group in by_topic.values():
            self._rng.shuffle(group)
        self._order = sorted(by_topic)
        self._rng.shuffle(self._order)
        self._by_topic = by_topic
        self._turn = 0
        self._open = self._objective = 0
        self.minutes = minutes
        self.planned: list[Asked] = []
        self._queue: list[Asked] = []
        total = 0.0
        while True:
            group = self._draw()
            if not group:
                break
            main = group[0]
            if self.planned and total + main.minutes > minutes:
                self._queue = group  # asked first if time is left when the plan is done
                break
            total += main.minutes
            self.planned.append(main)
            for follow_up in group[1:]:
                if total + follow_up.minutes <= minutes:
                    total += follow_up.minutes
                    self.planned.append(follow_up)
                else:
                    self._queue.append(follow_up)
            if self._queue:
                break
        self._queue = self.planned + self._queue

    def next(self) -> Asked | None:
        """The next question, drawing more once the plan is used up; None when no card is left."""
        if not self._queue:
            self._queue = self._draw()
        return self._queue.pop(0) if self._queue else None

    def _take(self, prefer: Callable[[CardView], bool]) -> CardView | None:
        for step in range(len(self._order)):
            topic = self._order[(self._turn + step) % len(self._order)]
            group = self._by_topic[topic]
            if group:
                self._turn += step + 1
                index = next((i for i in range(len(group) - 1, -1, -1) if prefer(group[i])), len(group) - 1)
                return group.pop(index)
        return None

    def _draw(self) -> list[Asked]:
        """One main question and, after an open one, its follow-up."""
        want_open = self._open <= self._objective
        card = self._take((lambda c: bool(c.must_say)) if want_open else (lambda c: bool(c.choices or c.numeric)))
        if card is None:
            return []
        objective = [Kind.NUMERIC] * bool(card.numeric) + [Kind.CHOICE] * bool(card.choices)
        kind = Kind.RECALL if want_open or not objective else self._rng.choice(objective)
        if kind is Kind.RECALL:
            self._open += 1
        else:
            self._objective += 1
        group = [Asked(make_question(card, kind, Reason.DUE, self._rng), MINUTES[kind])]
        if kind is Kind.RECALL:
            left = {c.id: (topic, c) for topic, cards in self._by_topic.items() for c in cards}
            related = sorted(r for r in card.related if r in left)
            if related:
                topic, follow = left[self._rng.choice(related)]
                self._by_topic[topic].remove(follow)
                question = make_question(follow, Kind.RECALL, Reason.DUE, self._rng)
                group.append(Asked(question, FOLLOW_UP_MINUTES, follow_up_of=card))
        return group


def plan_interview(cards: list[CardView], minutes: float, seed: int | None = None) -> Interview:
    return Interview(cards, minutes, seed)


@dataclass
class Timer:
    """The interview's clock: started when made, read through ``quiz.interview.now``."""

    minutes: float
    clock: Callable[[], float] = field(default_factory=lambda: now)

    def __post_init__(self) -> None:
        self.start = self.clock()

    def elapsed(self) -> float:
        return self.clock() - self.start

    def remaining(self) -> float:
        return self.minutes * 60 - self.elapsed()


def clock_text(seconds: float) -> str:
    """m:ss, as a clock shows it (rounded down, never negative)."""
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


# --------------------------------------------------------------------------------------------------
# The must-say rubric


class TicksError(ValueError):
    """What the person typed is not a list of the points' numbers."""


def parse_ticks(text: str, points: int) -> tuple[int, ...]:
    """The 0-based indices of the points ticked: "1 3", "1,3" or "13" (with fewer than 10 points); "a" for all;
    "" or "0" for none. Raises TicksError with the one line to show."""
    text = text.strip().lower()
    if text in ("a", "all"):
        return tuple(range(points))
    if text in ("", "0", "none", "-"):
        return ()
    words = text.replace(",", " ").split()
    if len(words) == 1 and words[0].isdigit() and points < 10 and len(words[0]) > 1:
        words = list(words[0])
    if not all(w.isdigit() and 1 <= int(w) <= points for w in words):
        raise TicksError(
            f"'{text[:40]}' is not a list of point numbers; type the numbers of the points you said, 1 to {points} "
            "(like 1 3), a for all, Enter for none"
        )
    return tuple(sorted({int(w) - 1 for w in words}))


def rubric_grade(said: int, points: int) -> Grade:
    """The grade the share of must-say points suggests: all or nearly all said is Good (Easy is the person's own
    call), half is Hard, less is Again."""
    share = said / points if points else 0.0
    if share >= 0.75:
        return Grade.GOOD
    return Grade.HARD if share >= 0.5 else Grade.AGAIN


# --------------------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True)
class Result:
    """One answer of the interview. ``said`` is the indices of the must-say points ticked (open questions
    with a rubric); ``seconds`` how long the answer took."""

    asked: Asked
    grade: Grade
    correct: bool | None = None
    said: tuple[int, ...] | None = None
    seconds: float = 0.0

    @property
    def right(self) -> bool:
        """Objective answers grade themselves; an open one counts when graded Good or Easy (Hard: not yet
        interview-ready)."""
        return self.correct if self.correct is not None else self.grade >= Grade.GOOD

    @property
    def card(self) -> CardView:
        return self.asked.question.card


@dataclass(frozen=True)
class TopicScore:
    topic: str
    title: str
    right: int
    asked: int
    said: int = 0  # must-say points said, over the open questions with a rubric
    points: int = 0
    missed: tuple[str, ...] = ()  # card ids answered wrongly, in the order asked

    @property
    def score(self) -> float:
        return self.right / self.asked if self.asked else 0.0


@dataclass(frozen=True)
class InterviewReport:
    asked: int
    right: int
    opened: int  # open questions asked
    planned: int
    seconds: float
    topics: list[TopicScore]
    weakest: list[TopicScore]  # the topics to study next, worst first
    missed: list[Result]
    study: list[str]  # card ids to study next: the weakest topics' missed cards, then their other cards

    @property
    def score(self) -> float:
        return self.right / self.asked if self.asked else 0.0


def report(
    results: list[Result], planned: int, seconds: float, cards: list[CardView] = (), study_per_topic: int = 3
) -> InterviewReport:
    """Scores per topic, the weakest three topics, and what to study: in each weak topic, the cards missed and
    then its cards not asked, up to ``study_per_topic`` beyond the missed ones."""
    by_topic: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        by_topic[result.card.topic].append(result)
    topics = []
    for topic, answers in sorted(by_topic.items()):
        rubric = [r for r in answers if r.said is not None]
        topics.append(
            TopicScore(
                topic,
                answers[0].card.topic_title,
                sum(r.right for r in answers),
                len(answers),
                sum(len(r.said or ()) for r in rubric),
                sum(len(r.card.must_say) for r in rubric),
                tuple(dict.fromkeys(r.card.id for r in answers if not r.right)),
            )
        )
    weakest = sorted((t for t in topics if t.score < 1.0), key=lambda t: (t.score, -t.asked, t.topic))[:3]
    asked = {r.card.id for r in results}
    study: list[str] = []
    for weak in weakest:
        study += weak.missed
        rest = sorted(c.id for c in cards if c.topic == weak.topic and c.id not in asked)
        study += rest[:study_per_topic]
    return InterviewReport(
        len(results),
        sum(t.right for t in topics),
        sum(r.asked.open for r in results),
        planned,
        seconds,
        topics,
        weakest,
        [r for r in results if not r.right],
        study,
    )
