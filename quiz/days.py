"""What "today" and "due" mean, in one place, for ``take``, ``stats`` and the forecast alike.

As in Anki: a day starts at a configurable local hour (default 4 am, so a session after midnight still counts
for the evening before), in the user's time zone. A card in its review phase is due on a *day*: all of it from
that day's start. A card in its learning or relearning steps (FSRS's minutes-long intervals) is due at its exact
moment, or up to ``LEARN_AHEAD`` early, so a session does not end with a step due two minutes later.

Standard library only: this is on the start-up path of every command that reads progress.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta

from quiz.errors import QuizError

DAY_STARTS_ENV = "QUIZ_DAY_STARTS"
DEFAULT_DAY_STARTS = 4
LEARN_AHEAD = timedelta(minutes=20)  # Anki's default "learn ahead limit"


def day_starts() -> int:
    """The local hour a new day starts at, from $QUIZ_DAY_STARTS (0–23, default 4)."""
    raw = os.environ.get(DAY_STARTS_ENV, "").strip()
    if not raw:
        return DEFAULT_DAY_STARTS
    if not raw.isdigit() or not 0 <= int(raw) <= 23:
        raise QuizError(f"${DAY_STARTS_ENV} is '{raw}', not an hour from 0 to 23 (the local hour a day starts at)")
    return int(raw)


def day_of(moment: datetime, starts: int | None = None) -> date:
    """The study day ``moment`` belongs to: its local date, counting hours before ``starts`` as the day before."""
    starts = day_starts() if starts is None else starts
    return (moment.astimezone() - timedelta(hours=starts)).date()


def day_start(day: date, starts: int | None = None) -> datetime:
    """The moment ``day`` begins, in local time (aware)."""
    starts = day_starts() if starts is None else starts
    return datetime.combine(day, time(starts)).astimezone()


def due_from(due: datetime, learning: bool, starts: int | None = None) -> datetime:
    """The first moment a card due at ``due`` is asked: the moment itself less the learn-ahead for a learning
    step, the start of its day for a review."""
    return due - LEARN_AHEAD if learning else day_start(day_of(due, starts), starts)


def is_due(due: datetime, learning: bool, now: datetime, starts: int | None = None) -> bool:
    return due_from(due, learning, starts) <= now


def forecast_day(due: datetime, learning: bool, now: datetime, starts: int | None = None) -> date:
    """The day a card counts on in the forecast: today if it is due now (overdue included), else its due day."""
    today = day_of(now, starts)
    if is_due(due, learning, now, starts):
        return today
    return max(today, day_of(due, starts))


def days_until(due: datetime, learning: bool, now: datetime, starts: int | None = None) -> int:
    """How many study days until a card (or exercise) due at ``due`` is asked: 0 when it is due now."""
    return (forecast_day(due, learning, now, starts) - day_of(now, starts)).days


def in_days(days: int) -> str:
    """0 → "today", 1 → "in 1 day", n → "in n days"."""
    return "today" if days == 0 else f"in {days} day" + ("s" if days > 1 else "")
