"""Progress that survives: every answer, and each card's FSRS state, in one SQLite file.

Why it is built this way:
- One short ``BEGIN IMMEDIATE`` transaction per answer, which reads the card's state, reviews it and writes
  it back: two sessions on one database serialise on the write lock instead of overwriting each other, and
  a kill -9 loses at most the answer being typed.
- WAL journal and a busy timeout, so a reader never blocks the other session and a writer waits its turn.
- ``PRAGMA application_id`` marks the file as ours and ``PRAGMA user_version`` versions the schema: a file
  that is not SQLite, another program's database or a newer schema is refused with one clear error, never
  overwritten. The decision is made from the file's first 100 bytes, read as a plain file, before SQLite
  opens it: opening another program's WAL database read-write would checkpoint its ``-wal`` into it.
- A new database is built under a temporary name and hard-linked into place, which fails if the name
  exists: checking and creating are one atomic step, so several sessions creating one database at once
  all end up with the same complete file, and no other process ever sees a half-made one.
- Progress is keyed by deck and card id: another deck that reuses one of our ids (every deck built on the
  project's proofs must) keeps its own progress. The project's own deck is deck ``''``.
- An answer that cannot be written (the file locked for longer than the busy timeout, a full disk) is
  kept: ``NotSavedError`` carries it, the session retries it, and what still fails at the end goes to a
  recovery file next to the database, which the next session that writes to it saves first.

Where each part lives:
- ``context``: the clock ($QUIZ_NOW), the default database path ($QUIZ_DB) and the deck key.
- ``records``: what is read and written (Progress, Review, Unsaved) and the two errors.
- ``opening``: the schema, the check of a file's own bytes, atomic creation, migration, the connection.
- ``database``: ``Store``, an open database for one deck: each answer in one transaction, and reading it back.
- ``recovery``: the recovery file of answers that could not be written.
- ``log``: undo, suspend, reset, cram and a card's history: one small transaction or query each.
- ``exercises``: checks of coding exercises, each one FSRS review of the exercise.
"""

from quiz.store.context import DB_ENV, MEMORY, NOW_ENV, OWN_DECK, deck_key, default_db_path, now_utc
from quiz.store.database import Store
from quiz.store.exercises import Checked, ExerciseProgress, exercise_progress, grade_of, record_attempt
from quiz.store.log import (
    CardRow,
    card_row,
    history,
    record_unscheduled,
    reset,
    set_suspended,
    suspended,
    undo_last,
    undo_unscheduled,
)
from quiz.store.opening import APPLICATION_ID, SCHEMA_VERSION
from quiz.store.records import NotSavedError, Progress, Review, StoreError, Unsaved

__all__ = [
    "APPLICATION_ID",
    "DB_ENV",
    "MEMORY",
    "NOW_ENV",
    "OWN_DECK",
    "SCHEMA_VERSION",
    "CardRow",
    "Checked",
    "ExerciseProgress",
    "NotSavedError",
    "Progress",
    "Review",
    "Store",
    "StoreError",
    "Unsaved",
    "card_row",
    "deck_key",
    "default_db_path",
    "exercise_progress",
    "grade_of",
    "history",
    "now_utc",
    "record_attempt",
    "record_unscheduled",
    "reset",
    "set_suspended",
    "suspended",
    "undo_last",
    "undo_unscheduled",
]
