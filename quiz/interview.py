"""A timed mock interview: a set balanced across topics, asked against the clock, scored at the end with the
topics to study next."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

from quiz.cache import CardView
from quiz.session import Answered, Grade, Kind, Question, Reason, make_question

MINUTES_PER_QUESTION = 2.0  # about what one interview question takes, answer and follow-up included
# Objective questions first: they score themselves, as an interviewer would.
PREFERENCE = (Kind.NUMERIC, Kind.CHOICE, Kind.RECALL)


def plan_interview(cards: list[CardView], minutes: float, seed: int | None = None) -> list[Question]:
    """About one question per two minutes, taken round-robin from the topics so none dominates."""
    rng = random.Random(seed)
    by_topic: dict[str, list[CardView]] = defaultdict(list)
    for card in sorted(cards, key=lambda c: c.id):
        by_topic[card.topic].append(card)
    for group in by_topic.values():
        rng.shuffle(group)
    order = sorted(by_topic)
    rng.shuffle(order)
    wanted = max(1, min(len(cards), round(minutes / MINUTES_PER_QUESTION)))
    picked: list[CardView] = []
    while len(picked) < wanted:
        for topic in order:
            if by_topic[topic] and len(picked) < wanted:
                picked.append(by_topic[topic].pop())
    questions = []
    for card in picked:
        kinds = {Kind.RECALL} | ({Kind.CHOICE} if card.choices else set()) | ({Kind.NUMERIC} if card.numeric else set())
        kind = next(k for k in PREFERENCE if k in kinds)
        questions.append(make_question(card, kind, Reason.DUE, rng))
    return questions


@dataclass(frozen=True)
class TopicScore:
    topic: str
    title: str
    right: int
    asked: int

    @property
    def score(self) -> float:
        return self.right / self.asked if self.asked else 0.0


@dataclass(frozen=True)
class InterviewReport:
    asked: int
    right: int
    planned: int
    seconds: float
    topics: list[TopicScore]
    weakest: list[TopicScore]  # the topics to study next, worst first

    @property
    def score(self) -> float:
        return self.right / self.asked if self.asked else 0.0


def is_right(answer: Answered) -> bool:
    """A self-graded recall counts as right when graded Good or Easy: Hard means it was not interview-ready."""
    return answer.correct if answer.correct is not None else answer.grade >= Grade.GOOD


def report(answers: list[Answered], planned: int, seconds: float) -> InterviewReport:
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    titles: dict[str, str] = {}
    for answer in answers:
        card = answer.question.card
        titles[card.topic] = card.topic_title
        tally[card.topic][0] += is_right(answer)
        tally[card.topic][1] += 1
    topics = [TopicScore(t, titles[t], right, asked) for t, (right, asked) in sorted(tally.items())]
    weakest = sorted((t for t in topics if t.score < 1.0), key=lambda t: (t.score, -t.asked, t.topic))[:3]
    right = sum(t.right for t in topics)
    return InterviewReport(len(answers), right, planned, seconds, topics, weakest)
