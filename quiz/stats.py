"""What the progress database says about you: per-topic reviews, retention, accuracy and mastery, and how
many cards fall due on each of the next seven days."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from quiz.cache import CardView
from quiz.scheduler import stability
from quiz.store import Progress, Review

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
class Stats:
    reviews: int
    cards: int
    seen: int
    accuracy: float | None
    retention: float | None
    topics: list[TopicStats]
    forecast: list[tuple[str, int]]  # (date, cards due that day); today includes the overdue

    def to_json(self) -> dict:
        data = asdict(self)
        data["forecast"] = [{"date": day, "due": n} for day, n in self.forecast]
        return data


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def compute(cards: list[CardView], progress: dict[str, Progress], reviews: list[Review], now: datetime) -> Stats:
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
        again = [r for r in mine if not r.first]
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
    known = {c.id for c in cards}
    objective = [r for r in reviews if r.correct is not None and r.card_id in known]
    again = [r for r in reviews if not r.first and r.card_id in known]
    today = now.date()
    forecast = []
    for day in range(7):
        date = today + timedelta(days=day)
        due = sum(
            1
            for card_id, p in progress.items()
            if card_id in known and (p.due.date() == date or (day == 0 and p.due.date() < today))
        )
        forecast.append((date.isoformat(), due))
    return Stats(
        reviews=sum(r.card_id in known for r in reviews),
        cards=len(cards),
        seen=sum(c.id in progress for c in cards),
        accuracy=_ratio(sum(bool(r.correct) for r in objective), len(objective)),
        retention=_ratio(sum(r.grade > 1 for r in again), len(again)),
        topics=topics,
        forecast=forecast,
    )
