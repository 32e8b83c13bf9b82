"""Spaced repetition with FSRS (the ``fsrs`` package): a card's memory state in, a grade, the next state out.

The state is kept as the package's own JSON (``Card.to_json``) so the database never needs to know FSRS's
fields. ``fsrs`` is imported on the first review, not at start-up: choosing what to ask needs only the due
dates the store keeps beside the state.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cache


@cache
def _scheduler():
    import fsrs

    # No fuzzing: the same answers on the same days give the same schedule, which people can reason
    # about and tests can check. Fuzzing spreads load in decks of thousands; this one has about seventy.
    return fsrs.Scheduler(enable_fuzzing=False)


@cache
def _exercise_scheduler():
    import fsrs

    # A coding exercise has no learning steps: a pass is a review that sends it out days (FSRS's interval for its
    # stability), and a failing check keeps it due until it passes (quiz.store.exercises), not for FSRS's minutes.
    return fsrs.Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)


@dataclass(frozen=True)
class Reviewed:
    state: str  # fsrs.Card.to_json()
    due: datetime
    stability: float | None


def review(state: str | None, grade: int, now: datetime, *, exercise: bool = False) -> Reviewed:
    """The memory state after answering with ``grade`` (1 again · 2 hard · 3 good · 4 easy) at ``now``;
    ``exercise``: a check of a coding exercise, scheduled without learning steps."""
    import fsrs

    # card_id is fixed: the store keys cards by their string id, and fsrs would otherwise sleep a
    # millisecond to make a unique time-based id.
    card = fsrs.Card.from_json(state) if state else fsrs.Card(card_id=1, due=now)
    card, _ = (_exercise_scheduler() if exercise else _scheduler()).review_card(
        card, fsrs.Rating(grade), review_datetime=now
    )
    return Reviewed(card.to_json(), card.due, card.stability)


def stability(state: str | None) -> float:
    return float(json.loads(state).get("stability") or 0.0) if state else 0.0


# fsrs.State: 1 learning, 2 review, 3 relearning. Read from the stored JSON so planning needs no fsrs import.
_REVIEW_STATE = 2


def is_learning(state: str | None) -> bool:
    """Is the card in its (re)learning steps, whose intervals are minutes and are asked within the session?"""
    return bool(state) and json.loads(state).get("state") != _REVIEW_STATE
