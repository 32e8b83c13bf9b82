"""Progress that survives: every answer, and each card's FSRS state, in one SQLite file.

Why it is built this way:
- One short ``BEGIN IMMEDIATE`` transaction per answer, which reads the card's state, reviews it and writes
  it back: two sessions on one database serialise on the write lock instead of overwriting each other, and
  a kill -9 loses at most the answer being typed.
- WAL journal and a busy timeout, so a reader never blocks the other session and a writer waits its turn.
- ``PRAGMA application_id`` marks the file as ours and ``PRAGMA user_version`` versions the schema: a file
  that is not SQLite, another program's database or a newer schema is refused with one clear error, never
  overwritten.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from quiz.errors import QuizError
from quiz.paths import APP_NAME

APPLICATION_ID = 0x51554959  # "QUIY": marks a quiz progress database
SCHEMA_VERSION = 1
DB_ENV = "QUIZ_DB"
NOW_ENV = "QUIZ_NOW"

_SCHEMA = """
CREATE TABLE cards (
    id           TEXT PRIMARY KEY,          -- the card id, stable across edits, so progress is kept
    state        TEXT NOT NULL,             -- fsrs.Card.to_json()
    due          TEXT NOT NULL,             -- ISO 8601 UTC, copied out of state so planning needs no fsrs
    content_hash TEXT NOT NULL,             -- the content last reviewed: a different one means re-review
    reviews      INTEGER NOT NULL DEFAULT 0,
    lapses       INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE reviews (
    id          INTEGER PRIMARY KEY,
    card_id     TEXT NOT NULL,
    topic       TEXT NOT NULL,
    kind        TEXT NOT NULL,              -- recall, choice, numeric
    grade       INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 4),
    correct     INTEGER,                    -- 1/0 for choice and numeric answers, NULL for self-graded recall
    first       INTEGER NOT NULL,           -- 1 when the card had never been reviewed before
    answered_at TEXT NOT NULL,
    seconds     REAL,
    mode        TEXT NOT NULL DEFAULT 'take',
    detail      TEXT                        -- what was answered, for numeric and choice questions
);
CREATE INDEX reviews_by_card ON reviews (card_id, answered_at);
"""


class StoreError(QuizError):
    pass


def now_utc() -> datetime:
    """Now, or the moment in $QUIZ_NOW (ISO 8601) so tests and demos can move the clock."""
    fixed = os.environ.get(NOW_ENV)
    if fixed:
        try:
            moment = datetime.fromisoformat(fixed)
        except ValueError:
            raise StoreError(f"${NOW_ENV} is '{fixed}', not an ISO 8601 time like 2026-01-31T18:00") from None
        # fsrs wants UTC: an offset given in $QUIZ_NOW (…+09:00) is converted, not kept.
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)


def default_db_path() -> Path:
    if os.environ.get(DB_ENV):
        return Path(os.environ[DB_ENV])
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "progress.sqlite3"


@dataclass(frozen=True)
class Progress:
    card_id: str
    state: str
    due: datetime
    content_hash: str
    reviews: int
    lapses: int


@dataclass(frozen=True)
class Review:
    card_id: str
    topic: str
    kind: str
    grade: int
    correct: bool | None
    first: bool
    answered_at: datetime
    mode: str


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class Store:
    """An open progress database. Use as a context manager, or call ``close``."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db = self._open()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    # ---------------------------------------------------------------------------------------------- opening

    def _refuse(self, why: str) -> StoreError:
        return StoreError(f"{self.path} {why}; it was left untouched (pass --db PATH to use another file)")

    def _open(self) -> sqlite3.Connection:
        path = self.path
        if path.is_dir():
            raise self._refuse("is a folder, not a progress database")
        if path.exists() and path.stat().st_size:
            with open(path, "rb") as f:
                if f.read(16) != b"SQLite format 3\x00":
                    raise self._refuse("is not a quiz progress database (not SQLite)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create {path.parent}: {exc.strerror}") from None
        try:
            # isolation_level=None: transactions are explicit, so each answer is exactly one of them.
            db = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {path}: {exc}") from None
        try:
            self._check_or_create(db)
        except sqlite3.DatabaseError as exc:
            db.close()
            raise self._refuse(f"is damaged or not a quiz progress database ({exc})") from None
        except StoreError:
            db.close()
            raise
        return db

    def _check_or_create(self, db: sqlite3.Connection) -> None:
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        if app_id == APPLICATION_ID:
            self._check_version(db)
        elif app_id != 0 or db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise self._refuse("belongs to another program (it is SQLite, but not a quiz progress database)")
        else:
            # A new or empty file. Another session may be creating it at this very moment: take the write
            # lock first, then look again.
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute("PRAGMA application_id").fetchone()[0] == 0:
                    if db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                        raise self._refuse("belongs to another program (SQLite, but not a quiz progress database)")
                    for statement in _SCHEMA.split(";\n"):  # executescript would commit our transaction
                        if statement.strip():
                            db.execute(statement)
                    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        # The integrity of what we read is checked by reading it: a damaged page raises DatabaseError,
        # which the caller turns into one error line. A full quick_check would cost start-up time.
        db.execute("SELECT count(*) FROM cards").fetchone()

    def _check_version(self, db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise self._refuse(f"was written by a newer quiz (schema {version}, this one reads {SCHEMA_VERSION})")
        if version < 1:
            raise self._refuse("has no schema version; it is not a quiz progress database")
        # Future migrations go here, one per version, each in its own transaction.

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path} is busy ({exc}); another session holds it, try again") from None
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._refuse(f"is damaged ({exc})") from None

    # ---------------------------------------------------------------------------------------------- data

    def progress(self) -> dict[str, Progress]:
        rows = self._read("SELECT id, state, due, content_hash, reviews, lapses FROM cards")
        return {
            row[0]: Progress(row[0], row[1], datetime.fromisoformat(row[2]), row[3], row[4], row[5]) for row in rows
        }

    def record(
        self,
        card_id: str,
        topic: str,
        content_hash: str,
        kind: str,
        grade: int,
        *,
        now: datetime,
        correct: bool | None = None,
        seconds: float | None = None,
        mode: str = "take",
        detail: str | None = None,
    ) -> Progress:
        """Review the card with ``grade`` and save the answer and the new state, in one transaction."""
        from quiz.scheduler import review

        try:
            with self._write() as db:
                row = db.execute("SELECT state, reviews, lapses FROM cards WHERE id = ?", (card_id,)).fetchone()
                state, reviews, lapses = row if row else (None, 0, 0)
                after = review(state, grade, now)
                reviews, lapses = reviews + 1, lapses + (grade == 1 and row is not None)
                db.execute(
                    "INSERT INTO cards (id, state, due, content_hash, reviews, lapses) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (id) DO UPDATE SET state = excluded.state, due = excluded.due, "
                    "content_hash = excluded.content_hash, reviews = excluded.reviews, lapses = excluded.lapses",
                    (card_id, after.state, _iso(after.due), content_hash, reviews, lapses),
                )
                db.execute(
                    "INSERT INTO reviews (card_id, topic, kind, grade, correct, first, answered_at, seconds, mode, "
                    "detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        card_id,
                        topic,
                        kind,
                        grade,
                        None if correct is None else int(correct),
                        int(row is None),
                        _iso(now),
                        seconds,
                        mode,
                        detail,
                    ),
                )
        except sqlite3.DatabaseError as exc:
            raise self._refuse(f"could not be written ({exc})") from None
        return Progress(card_id, after.state, after.due, content_hash, reviews, lapses)

    def reviews(self) -> list[Review]:
        rows = self._read(
            "SELECT card_id, topic, kind, grade, correct, first, answered_at, mode FROM reviews ORDER BY id"
        )
        return [
            Review(
                r[0],
                r[1],
                r[2],
                r[3],
                None if r[4] is None else bool(r[4]),
                bool(r[5]),
                datetime.fromisoformat(r[6]),
                r[7],
            )
            for r in rows
        ]


# ------------------------------------------------------------------------------------------------------
# Undo, suspend, reset, cram and history (quiz.session and the CLI). Kept apart from the code above on
# purpose: each is one small transaction or query over the same two tables (plus `suspended`, created when
# first needed, so older databases need no migration and an older quiz still reads newer ones).

CardRow = tuple[str, str, str, int, int]  # state, due, content_hash, reviews, lapses


def card_row(store: Store, card_id: str) -> CardRow | None:
    """The card's saved schedule, to put back by ``undo_last``."""
    rows = store._read("SELECT state, due, content_hash, reviews, lapses FROM cards WHERE id = ?", (card_id,))
    return rows[0] if rows else None


def undo_last(store: Store, card_id: str, before: CardRow | None) -> None:
    """Forget the card's newest answer and restore its schedule to ``before`` (None: the card was new)."""
    try:
        with store._write() as db:
            db.execute("DELETE FROM reviews WHERE id = (SELECT max(id) FROM reviews WHERE card_id = ?)", (card_id,))
            if before is None:
                db.execute("DELETE FROM cards WHERE id = ?", (card_id,))
            else:
                db.execute(
                    "UPDATE cards SET state = ?, due = ?, content_hash = ?, reviews = ?, lapses = ? WHERE id = ?",
                    (*before, card_id),
                )
    except sqlite3.DatabaseError as exc:
        raise store._refuse(f"could not be written ({exc})") from None


def record_unscheduled(
    store: Store, card_id: str, topic: str, kind: str, grade: int, *, now: datetime, correct: bool | None, mode: str
) -> None:
    """Log an answer without touching the card's schedule (cram: practice on cards that are not due)."""
    try:
        with store._write() as db:
            db.execute(
                "INSERT INTO reviews (card_id, topic, kind, grade, correct, first, answered_at, mode) "
                "VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
                (card_id, topic, kind, grade, None if correct is None else int(correct), _iso(now), mode),
            )
    except sqlite3.DatabaseError as exc:
        raise store._refuse(f"could not be written ({exc})") from None


def suspended(store: Store) -> set[str]:
    """Ids of the suspended cards: never asked until unsuspended."""
    if not store._read("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'suspended'"):
        return set()
    return {row[0] for row in store._read("SELECT id FROM suspended")}


def set_suspended(store: Store, card_ids: list[str], on: bool) -> None:
    try:
        with store._write() as db:
            db.execute("CREATE TABLE IF NOT EXISTS suspended (id TEXT PRIMARY KEY)")
            for card_id in card_ids:
                sql = "INSERT OR IGNORE INTO suspended (id) VALUES (?)" if on else "DELETE FROM suspended WHERE id = ?"
                db.execute(sql, (card_id,))
    except sqlite3.DatabaseError as exc:
        raise store._refuse(f"could not be written ({exc})") from None


def reset(store: Store, card_ids: list[str]) -> int:
    """Make the cards new again (their answers stay in the log); returns how many had a schedule."""
    try:
        with store._write() as db:
            return sum(db.execute("DELETE FROM cards WHERE id = ?", (i,)).rowcount for i in card_ids)
    except sqlite3.DatabaseError as exc:
        raise store._refuse(f"could not be written ({exc})") from None


def history(store: Store, card_id: str) -> list[tuple[datetime, str, int, bool | None, str, float | None, str | None]]:
    """The card's answers, oldest first: (answered_at, kind, grade, correct, mode, seconds, detail)."""
    rows = store._read(
        "SELECT answered_at, kind, grade, correct, mode, seconds, detail FROM reviews WHERE card_id = ? ORDER BY id",
        (card_id,),
    )
    return [(datetime.fromisoformat(r[0]), r[1], r[2], None if r[3] is None else bool(r[3]), *r[4:]) for r in rows]


def undo_unscheduled(store: Store, card_id: str) -> None:
    """Forget the card's newest logged answer (one written by ``record_unscheduled``)."""
    try:
        with store._write() as db:
            db.execute("DELETE FROM reviews WHERE id = (SELECT max(id) FROM reviews WHERE card_id = ?)", (card_id,))
    except sqlite3.DatabaseError as exc:
        raise store._refuse(f"could not be written ({exc})") from None
