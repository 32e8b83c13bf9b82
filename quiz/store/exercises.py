"""Coding exercises (quiz code): each check of a learner's file is one attempt.

Their own table, created on the first attempt, so a database that never saw an exercise keeps its schema; not
yet scheduled with FSRS.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from quiz.store.database import Store
from quiz.store.records import iso

_EXERCISE_TABLE = (
    "CREATE TABLE IF NOT EXISTS exercise_attempts (id INTEGER PRIMARY KEY, deck TEXT NOT NULL, "
    "exercise_id TEXT NOT NULL, passed INTEGER NOT NULL, attempted_at TEXT NOT NULL, detail TEXT)"
)


@dataclass(frozen=True)
class ExerciseProgress:
    attempts: int
    last_at: datetime
    last_passed: bool
    first_passed_at: datetime | None


def record_attempt(store: Store, exercise_id: str, passed: bool, *, now: datetime, detail: str | None = None) -> None:
    """Log one check of an exercise: passed or not, and (failing) the first failing check and diagnosis."""
    try:
        with store._write() as db:
            db.execute(_EXERCISE_TABLE)
            db.execute(
                "INSERT INTO exercise_attempts (deck, exercise_id, passed, attempted_at, detail) "
                "VALUES (?, ?, ?, ?, ?)",
                (store.deck, exercise_id, int(passed), iso(now), detail),
            )
    except sqlite3.DatabaseError as exc:
        raise store._refuse(f"could not be written ({exc})") from None


def exercise_progress(store: Store) -> dict[str, ExerciseProgress]:
    """Each attempted exercise's attempts, its latest result, and when it first passed."""
    if not store._read("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'exercise_attempts'"):
        return {}
    rows = store._read(
        "SELECT exercise_id, count(*), max(attempted_at), "
        "(SELECT passed FROM exercise_attempts b WHERE b.deck = a.deck AND b.exercise_id = a.exercise_id "
        "ORDER BY id DESC LIMIT 1), min(CASE WHEN passed THEN attempted_at END) "
        "FROM exercise_attempts a WHERE deck = ? GROUP BY exercise_id",
        (store.deck,),
    )
    return {
        r[0]: ExerciseProgress(r[1], datetime.fromisoformat(r[2]), bool(r[3]), r[4] and datetime.fromisoformat(r[4]))
        for r in rows
    }
