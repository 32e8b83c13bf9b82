"""What the progress database says about you: per-topic reviews, retention, accuracy and mastery, how many
cards are due now (exactly what ``quiz take`` would ask) and how many fall due on each of the next seven study
days (``quiz.days``: local days starting at 4 am, as in ``take``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from quiz.cache import CardView
from quiz.days import day_of, forecast_day, is_due
from quiz.scheduler import is_learning, stability
from quiz.store import ExerciseProgress, Progress, Review

MATURE_DAYS = 21.0


@dataclass(frozen=True)
class TopicStats:
    topic: str
    title: str
    cards: int
    seen: int
    reviews: int
    accuracy: float | None  # right / answered, over choice and numeric answers
    retention: float | None  # recalled (grade ≥ hard) / reviews of cards seen before
    mastery: float  # mean of min(1, stability / 21 days) over the topic's cards (unseen count 0)


@dataclass(frozen=True)
class ExerciseStats:
    exercises: int
    started: int  # checked at least once
    passed: int  # the latest check passed
    due_now: int  # what `quiz code list --due` lists: failing ones, and passed ones whose review day has come
    forecast: list[tuple[str, int]]  # as the cards': (study day, exercises due that day), today with the overdue

    def to_json(self) -> dict:
        data = asdict(self)
        data["forecast"] = [{"date": day, "due": n} for day, n in self.forecast]
        return data


@dataclass(frozen=True)
class Stats:
    reviews: int
    cards: int
    seen: int
    accuracy: float | None
    retention: float | None
    topics: list[TopicStats]
    forecast: list[tuple[str, int]]  # (study day, cards due that day); today includes the overdue
    due_now: int = 0  # what `quiz take --due-only` would ask now (edited cards included, suspended not)
    learning: int = 0  # cards in their learning steps
    suspended: int = 0
    exercises: ExerciseStats | None = None

    def to_json(self) -> dict:
        data = asdict(self)
        data["forecast"] = [{"date": day, "due": n} for day, n in self.forecast]
        data["exercises"] = self.exercises.to_json() if self.exercises else None
        return data


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _spaced(reviews: list[Review]) -> list[Review]:
    """The answers that test memory across days: a card's first answer on a study day after a day it was
    already seen (Anki's "true retention" leaves out same-day learning steps; cram does not count)."""
    last_day: dict[str, object] = {}
    kept = []
    for r in reviews:
        if r.mode == "cram":
            continue
        day = day_of(r.answered_at)
        if r.card_id in last_day and last_day[r.card_id] != day:
            kept.append(r)
        last_day[r.card_id] = day
    return kept


def compute(
    cards: list[CardView],
    progress: dict[str, Progress],
    reviews: list[Review],
    now: datetime,
    suspended: set[str] | frozenset[str] = frozenset(),
    exercises: tuple[list[str], dict[str, ExerciseProgress]] | None = None,
) -> Stats:
    """``exercises``: the coding exercises' ids and their progress, for ``quiz stats`` to show them too."""
    known = {c.id for c in cards}
    objective = [r for r in reviews if r.correct is not None and r.card_id in known]
    again = _spaced([r for r in reviews if r.card_id in known])
    scheduled = {i: p for i, p in progress.items() if i in known and i not in suspended}
    due_now, forecast = _due(cards, scheduled, now)
    return Stats(
        reviews=sum(r.card_id in known for r in reviews),
        cards=len(cards),
        seen=sum(c.id in progress for c in cards),
        accuracy=_ratio(sum(bool(r.correct) for r in objective), len(objective)),
        retention=_ratio(sum(r.grade > 1 for r in again), len(again)),
        topics=_topics(cards, progress, reviews),
        forecast=forecast,
        due_now=due_now,
        learning=sum(is_learning(p.state) for p in scheduled.values()),
        suspended=len(suspended & known),
        exercises=None if exercises is None else exercise_stats(*exercises, now),
    )


def exercise_stats(ids: list[str], progress: dict[str, ExerciseProgress], now: datetime) -> ExerciseStats:
    """The coding exercises' figures; an exercise that is no longer in the catalogue is left out."""
    mine = {i: progress[i] for i in ids if i in progress}
    today = day_of(now)
    days: dict[object, int] = defaultdict(int)
    for p in mine.values():
        # Checked before schedules were kept (no due date): due now, as `quiz code list` says.
        days[today if p.is_due(now) else forecast_day(p.due, p.failing, now)] += 1  # type: ignore[arg-type]
    return ExerciseStats(
        exercises=len(ids),
        started=len(mine),
        passed=sum(p.last_passed for p in mine.values()),
        due_now=sum(p.is_due(now) for p in mine.values()),
        forecast=[((today + timedelta(days=d)).isoformat(), days[today + timedelta(days=d)]) for d in range(7)],
    )


def _topics(cards: list[CardView], progress: dict[str, Progress], reviews: list[Review]) -> list[TopicStats]:
    """Each topic's figures, in the order of the topics' titles."""
    by_topic: dict[str, list[CardView]] = defaultdict(list)
    titles: dict[str, str] = {}
    for card in cards:
        by_topic[card.topic].append(card)
        titles[card.topic] = card.topic_title
    topics = []
    for topic in sorted(by_topic, key=lambda t: titles[t]):
        ids = {c.id for c in by_topic[topic]}
        mine = [r for r in reviews if r.card_id in ids]
        objective = [r for r in mine if r.correct is not None]
        again = _spaced(mine)
        # Not the chance of recall now: right after an answer every card is "remembered", however shaky.
        # FSRS stability (days until recall drops to 90 %) measured against Anki's "mature" 21 days says how
        # far each card is from being known for good.
        recall = [min(1.0, stability(progress[i].state) / MATURE_DAYS) if i in progress else 0.0 for i in ids]
        topics.append(
            TopicStats(
                topic=topic,
                title=titles[topic],
                cards=len(ids),
                seen=sum(i in progress for i in ids),
                reviews=len(mine),
                accuracy=_ratio(sum(bool(r.correct) for r in objective), len(objective)),
                retention=_ratio(sum(r.grade > 1 for r in again), len(again)),
                mastery=round(sum(recall) / len(recall), 4),
            )
        )
    return topics


def _due(cards: list[CardView], scheduled: dict[str, Progress], now: datetime) -> tuple[int, list[tuple[str, int]]]:
    """How many scheduled cards are due now, and how many fall due on each of the next seven study days."""
    today = day_of(now)
    hashes = {c.id: c.content_hash for c in cards}
    days: dict[object, int] = defaultdict(int)
    due_now = 0
    for card_id, p in scheduled.items():
        learning = is_learning(p.state)
        # An edited card is due now, as `take` asks it (quiz.session.plan).
        if hashes[card_id] != p.content_hash or is_due(p.due, learning, now):
            due_now += 1
            days[today] += 1
        else:
            days[forecast_day(p.due, learning, now)] += 1
    forecast = [((today + timedelta(days=d)).isoformat(), days[today + timedelta(days=d)]) for d in range(7)]
    return due_now, forecast
