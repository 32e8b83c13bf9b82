"""Coding exercises (quiz code): each check of a learner's file is one attempt, and one FSRS review of the exercise.

How a check moves the exercise's schedule (``grade_of``):
- failing: Again. The exercise is due again at once and stays due until a check passes, whether or not it was due
  before: a check that fails shows you cannot write it now, however far off its next review was.
- passing while due (never checked, failing, or its review day come): Good on the first check since it came due,
  Hard when a check failed earlier the same study day (you got there, with help from the diagnosis). FSRS sets
  the next review days out, Hard sooner than Good.
- passing while not due: recorded, but no review: re-running a file that already passed says nothing new about
  your memory, and counting it would push the exercise out for nothing.
One ``BEGIN IMMEDIATE`` transaction per check reads the schedule, reviews it and writes both rows back.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from quiz.days import day_of, is_due
from quiz.store.database import Store
from quiz.store.records import iso

AGAIN, HARD, GOOD = 1, 2, 3
_GRADE_NAMES = {AGAIN: "again", HARD: "hard", GOOD: "good"}


@dataclass(frozen=True)
class ExerciseProgress:
    attempts: int
    last_at: datetime
    last_passed: bool
    first_passed_at: datetime | None
    due: datetime | None = None  # None: checked before schedules were kept (schema 2): due at its next check
    failing: bool = True  # due at its exact moment (a failing check), not from the start of its day
    reviews: int = 0
    lapses: int = 0

    def is_due(self, now: datetime) -> bool:
        return self.due is None or is_due(self.due, self.failing, now)


@dataclass(frozen=True)
class Checked:
    """What one check did to the schedule: the grade it gave (None: no review) and when the exercise is due."""

    grade: int | None
    due: datetime

    @property
    def grade_name(self) -> str | None:
        return _GRADE_NAMES.get(self.grade) if self.grade else None


def grade_of(passed: bool, due: bool, failed_today: bool) -> int | None:
    """The FSRS grade of a check (see the module's docstring); None when it is no review."""
    if not passed:
        return AGAIN
    if not due:
        return None
    return HARD if failed_today else GOOD


def record_attempt(
    store: Store, exercise_id: str, passed: bool, *, now: datetime, detail: str | None = None
) -> Checked:
    """Log one check of an exercise and review it with FSRS, in one transaction."""
    now = datetime.fromisoformat(iso(now))  # UTC, to the second, as stored: what fsrs requires
    try:
        with store._write() as db:
            row = db.execute(
                "SELECT state, due, failing, reviews, lapses FROM exercises WHERE deck = ? AND id = ?",
                (store.deck, exercise_id),
            ).fetchone()
            if row:
                store._check_state(exercise_id, row[0])
                due_at = store._moment(f"the due date of exercise '{exercise_id}'", row[1])
                due = is_due(due_at, bool(row[2]), now)
            else:
                due_at, due = now, True
            grade = grade_of(passed, due, _failed_today(store, db, exercise_id, now))
            if grade is not None:
                due_at = _review(store, db, exercise_id, row, grade, now)
            db.execute(
                "INSERT INTO exercise_attempts (deck, exercise_id, passed, attempted_at, detail, grade) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (store.deck, exercise_id, int(passed), iso(now), detail, grade),
            )
    except sqlite3.DatabaseError as exc:
        raise store._refuse(f"could not be written ({exc})") from None
    return Checked(grade, due_at)


def _failed_today(store: Store, db: sqlite3.Connection, exercise_id: str, now: datetime) -> bool:
    """Did a check of the exercise fail earlier this study day, since it last passed?"""
    last_pass = db.execute(
        "SELECT max(attempted_at) FROM exercise_attempts WHERE deck = ? AND exercise_id = ? AND passed",
        (store.deck, exercise_id),
    ).fetchone()[0]
    failures = db.execute(
        "SELECT attempted_at FROM exercise_attempts WHERE deck = ? AND exercise_id = ? AND NOT passed "
        "AND attempted_at > ?",
        (store.deck, exercise_id, last_pass or ""),
    ).fetchall()
    today = day_of(now)
    return any(day_of(store._moment("the time of an exercise check", f)) == today for (f,) in failures)


def _review(store: Store, db: sqlite3.Connection, exercise_id: str, row: tuple | None, grade: int, now: datetime):
    """Review the exercise with ``grade`` and write its schedule; return when it is due."""
    from quiz.scheduler import review

    after = review(row[0] if row else None, grade, now, exercise=True)
    due_at = now if grade == AGAIN else after.due
    reviews, lapses, was_passed = (row[3], row[4], not row[2]) if row else (0, 0, False)
    db.execute(
        "INSERT INTO exercises (deck, id, state, due, failing, reviews, lapses) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (deck, id) DO UPDATE SET state = excluded.state, due = excluded.due, "
        "failing = excluded.failing, reviews = excluded.reviews, lapses = excluded.lapses",
        (
            store.deck,
            exercise_id,
            after.state,
            iso(due_at),
            int(grade == AGAIN),
            reviews + 1,
            lapses + (grade == AGAIN and was_passed),  # a lapse: a pass forgotten
        ),
    )
    return due_at


def exercise_progress(store: Store) -> dict[str, ExerciseProgress]:
    """Each attempted exercise's attempts, its latest result, when it first passed, and its schedule."""
    rows = store._read(
        "SELECT exercise_id, count(*), max(attempted_at), "
        "(SELECT passed FROM exercise_attempts b WHERE b.deck = a.deck AND b.exercise_id = a.exercise_id "
        "ORDER BY id DESC LIMIT 1), min(CASE WHEN passed THEN attempted_at END), "
        "s.due, s.failing, s.reviews, s.lapses "
        "FROM exercise_attempts a LEFT JOIN exercises s ON s.deck = a.deck AND s.id = a.exercise_id "
        "WHERE a.deck = ? GROUP BY exercise_id",
        (store.deck,),
    )
    found = {}
    for r in rows:
        what = f"exercise '{r[0]}'"
        found[r[0]] = ExerciseProgress(
            attempts=r[1],
            last_at=store._moment(f"the last check of {what}", r[2]),
            last_passed=bool(r[3]),
            first_passed_at=r[4] and store._moment(f"the first pass of {what}", r[4]),
            due=None if r[5] is None else store._moment(f"the due date of {what}", r[5]),
            failing=True if r[6] is None else bool(r[6]),
            reviews=r[7] or 0,
            lapses=r[8] or 0,
        )
    return found
