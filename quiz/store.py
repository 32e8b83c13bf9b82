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
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from quiz.errors import QuizError
from quiz.paths import APP_NAME, DEFAULT_QUESTIONS

APPLICATION_ID = 0x51554959  # "QUIY": marks a quiz progress database
SCHEMA_VERSION = 2
DB_ENV = "QUIZ_DB"
NOW_ENV = "QUIZ_NOW"
MEMORY = ":memory:"  # SQLite's name for a database that lives in memory only: nothing is saved
OWN_DECK = ""  # the project's own deck, in the deck column
_SQLITE_MAGIC = b"SQLite format 3\x00"
# The schedule looks up to FSRS's maximum interval (100 years) ahead, and the forecast a week: a clock set
# closer than that to the end of the calendar cannot be scheduled from.
_EARLIEST_YEAR, _LATEST_YEAR = 1900, 9000

_SCHEMA = """
CREATE TABLE cards (
    deck         TEXT NOT NULL DEFAULT '',  -- '' for the project's own deck, else the deck's questions folder
    id           TEXT NOT NULL,             -- the card id, stable across edits, so progress is kept
    state        TEXT NOT NULL,             -- fsrs.Card.to_json()
    due          TEXT NOT NULL,             -- ISO 8601 UTC, copied out of state so planning needs no fsrs
    content_hash TEXT NOT NULL,             -- the content last reviewed: a different one means re-review
    reviews      INTEGER NOT NULL DEFAULT 0,
    lapses       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (deck, id)
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
    detail      TEXT,                       -- what was answered, for numeric and choice questions
    deck        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX reviews_by_card ON reviews (deck, card_id, answered_at);
"""

# Schema 1 keyed cards by id alone; all its progress is the project's own deck's.
_MIGRATE_1_TO_2 = """
CREATE TABLE cards_v2 (
    deck TEXT NOT NULL DEFAULT '', id TEXT NOT NULL, state TEXT NOT NULL, due TEXT NOT NULL,
    content_hash TEXT NOT NULL, reviews INTEGER NOT NULL DEFAULT 0, lapses INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (deck, id)
);
INSERT INTO cards_v2 (deck, id, state, due, content_hash, reviews, lapses)
    SELECT '', id, state, due, content_hash, reviews, lapses FROM cards;
DROP TABLE cards;
ALTER TABLE cards_v2 RENAME TO cards;
ALTER TABLE reviews ADD COLUMN deck TEXT NOT NULL DEFAULT '';
DROP INDEX reviews_by_card;
CREATE INDEX reviews_by_card ON reviews (deck, card_id, answered_at)
"""

# The fields fsrs.Card.from_dict reads: a state without them cannot be reviewed.
_STATE_FIELDS = ("card_id", "state", "step", "stability", "difficulty", "due", "last_review")


class StoreError(QuizError):
    pass


def now_utc() -> datetime:
    """Now, or the moment in $QUIZ_NOW (ISO 8601) so tests and demos can move the clock."""
    fixed = os.environ.get(NOW_ENV)
    if fixed:
        try:
            moment = datetime.fromisoformat(fixed)
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            moment.astimezone(UTC)  # an offset can push a moment off the calendar
        except (ValueError, OverflowError):
            raise StoreError(f"${NOW_ENV} is '{fixed}', not an ISO 8601 time like 2026-01-31T18:00") from None
        if not _EARLIEST_YEAR <= moment.astimezone(UTC).year <= _LATEST_YEAR:
            raise StoreError(
                f"${NOW_ENV} is '{fixed}', outside the years {_EARLIEST_YEAR} to {_LATEST_YEAR} that a schedule "
                "can be planned in; set a time like 2026-01-31T18:00"
            )
        # fsrs wants UTC: an offset given in $QUIZ_NOW (…+09:00) is converted, not kept.
        return moment.astimezone(UTC)
    return datetime.now(UTC)


def default_db_path() -> Path:
    if os.environ.get(DB_ENV):
        return Path(os.environ[DB_ENV])
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / "progress.sqlite3"


def deck_key(questions: Path) -> str:
    """The deck column for a deck's questions folder: '' for the project's own, else the folder's full path."""
    folder = Path(os.path.realpath(questions))
    return OWN_DECK if folder == Path(os.path.realpath(DEFAULT_QUESTIONS)) else str(folder)


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


_GRADE_NAMES = {1: "again", 2: "hard", 3: "good", 4: "easy"}


@dataclass(frozen=True)
class Unsaved:
    """An answer that could not be written yet: everything needed to write it later, exactly as given."""

    deck: str
    card_id: str
    topic: str
    content_hash: str
    kind: str
    grade: int
    answered_at: str  # ISO 8601 UTC
    correct: bool | None = None
    seconds: float | None = None
    mode: str = "take"
    detail: str | None = None

    def describe(self) -> str:
        when = self.answered_at.replace("T", " ").replace("+00:00", " UTC")
        return f"{self.card_id} ({self.kind}), graded {self.grade} {_GRADE_NAMES.get(self.grade, '?')}, at {when}"


class NotSavedError(StoreError):
    """An answer the database would not take; ``answer`` holds it, so nothing is lost."""

    def __init__(self, message: str, answer: Unsaved) -> None:
        super().__init__(message)
        self.answer = answer


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _why(exc: sqlite3.Error) -> str:
    """What an SQLite error says about the file, in words that tell people what to do (and not to delete it)."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF  # the primary result code
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return f"is locked by another program or quiz session ({exc}); close it, or wait, and try again"
    if code == sqlite3.SQLITE_READONLY:
        return f"is read-only ({exc}); make the file and its folder writable"
    if code == sqlite3.SQLITE_FULL:
        return f"cannot be written, the disk is full ({exc}); free some space and try again"
    if code == sqlite3.SQLITE_IOERR:
        return f"could not be read or written ({exc}); check the disk or share it is on"
    if code in (sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_AUTH):
        return f"cannot be opened ({exc}); check that it and its folder can be read and written"
    return f"is damaged or not a quiz progress database ({exc})"


class Store:
    """An open progress database for one deck. Use as a context manager, or call ``close``.

    ``writing``: the caller is about to record answers, so a file that cannot be written is refused before
    the first question, and answers kept from an earlier session (the recovery file) are saved first.
    """

    busy_timeout = 10.0  # seconds a write waits for another session's lock before the answer is kept unsaved

    def __init__(self, path: Path | str, *, deck: str = OWN_DECK, writing: bool = False) -> None:
        self.path = Path(path)
        self.deck = deck
        self.recovered = 0  # answers saved from the recovery file at open
        self._db = self._open(writing)
        if writing and not self.in_memory:
            self._replay()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._db.close()

    @property
    def in_memory(self) -> bool:
        """``--db :memory:``: a database SQLite keeps in memory; nothing is saved when the session ends."""
        return str(self.path) == MEMORY

    # ---------------------------------------------------------------------------------------------- opening

    def _refuse(self, why: str) -> StoreError:
        return StoreError(f"{self.path} {why}; it was left untouched (pass --db PATH to use another file)")

    def _is_ours(self, path: Path) -> bool | None:
        """From the file's own bytes, without SQLite: True for our database, None for no file at all;
        anything else is refused. SQLite never opens another program's file, so it stays byte-identical."""
        try:
            with open(path, "rb") as f:
                header = f.read(100)
        except FileNotFoundError:
            header = None
        except IsADirectoryError:
            raise self._refuse("is a folder, not a progress database") from None
        except OSError as exc:
            raise self._refuse(f"cannot be read ({exc.strerror})") from None
        if header is None:
            wal = Path(f"{path}-wal")
            if wal.exists():  # content in a WAL with no main file: someone's database mid-checkpoint
                raise self._refuse("is missing but its -wal file is there (another program's database?)")
            return None
        if not header:
            raise self._refuse("is an empty file, not a quiz progress database (delete it if you made it)")
        if not header.startswith(_SQLITE_MAGIC):
            raise self._refuse("is not a quiz progress database (not SQLite)")
        if len(header) < 100:
            raise self._refuse("is damaged or not a quiz progress database (shorter than an SQLite header)")
        # Our id is written in the transaction that creates the file, before it is ever in WAL mode, so it
        # is always in the main file's header (offset 68), never only in a -wal.
        if int.from_bytes(header[68:72], "big") != APPLICATION_ID:
            raise self._refuse("belongs to another program (it is SQLite, but not a quiz progress database)")
        return True

    def _open(self, writing: bool) -> sqlite3.Connection:
        path = self.path
        if not self.in_memory:
            if self._is_ours(path) is None:
                self._create(path)
                self._is_ours(path)  # what is there now: ours, or what another program put there meanwhile
            if writing:
                self._check_writable(path)
        try:
            # isolation_level=None: transactions are explicit, so each answer is exactly one of them.
            db = sqlite3.connect(path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise self._refuse(_why(exc)) from None
        try:
            if self.in_memory:
                self._build(db)
            self._check_version(db)
            # A database this quiz made is in WAL mode from birth (see _create); switching an older one needs an
            # exclusive lock, which racing sessions can be refused at once, busy timeout or not.
            if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            # The integrity of what we read is checked by reading it: a damaged page raises DatabaseError,
            # which becomes one error line. A full quick_check would cost start-up time.
            db.execute("SELECT count(*) FROM cards").fetchone()
        except sqlite3.Error as exc:
            db.close()
            raise self._refuse(_why(exc)) from None
        except StoreError:
            db.close()
            raise
        return db

    def _check_writable(self, path: Path) -> None:
        """Refuse, before the first question, a file whose answers could not be written."""
        if not os.access(path, os.W_OK):
            raise self._refuse("is read-only (you cannot write to it); make it writable")
        folder = path.resolve().parent
        if not os.access(folder, os.W_OK | os.X_OK) and not all(
            os.access(f"{path}{suffix}", os.W_OK) for suffix in ("-wal", "-shm")
        ):
            raise self._refuse(f"is in a read-only folder ({folder}); SQLite needs to write its -wal file there")

    def _create(self, path: Path) -> None:
        """Build a complete new database under a temporary name, then link it into place: the link fails if
        the name exists, so the check and the creation are one atomic step and a racing session's file wins."""
        target = Path(os.path.realpath(path))  # a symlink to a file yet to exist: create its target
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".new", dir=target.parent)
            os.close(fd)
        except OSError as exc:
            raise StoreError(f"cannot create {path}: {exc.strerror}") from None
        try:
            try:
                db = sqlite3.connect(temp, isolation_level=None)
                try:
                    db.execute("PRAGMA journal_mode = WAL")  # kept in the file: no session has to switch it later
                    self._build(db)
                finally:
                    db.close()
            except sqlite3.Error as exc:
                raise StoreError(f"cannot create {path}: {exc}") from None
            try:
                os.link(temp, target)
            except FileExistsError:
                pass  # another session created it first: use theirs
            except OSError as exc:
                # A file system without hard links (FAT, some network shares): rename, which is atomic too
                # but would replace a file made in the instant since the check; only there is that window.
                try:
                    if not os.path.lexists(target):
                        os.rename(temp, target)
                except OSError:
                    raise StoreError(f"cannot create {path}: {exc.strerror}") from None
        finally:
            with suppress(OSError):
                os.unlink(temp)

    def _build(self, db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";\n"):  # executescript would commit our transaction
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _check_version(self, db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise self._refuse(f"was written by a newer quiz (schema {version}, this one reads {SCHEMA_VERSION})")
        if version < 1:
            raise self._refuse("has no schema version; it is not a quiz progress database")
        if version == 1:
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute("PRAGMA user_version").fetchone()[0] == 1:  # not migrated by another session meanwhile
                    for statement in _MIGRATE_1_TO_2.split(";\n"):
                        db.execute(statement)
                    db.execute("PRAGMA user_version = 2")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            with suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._refuse(_why(exc)) from None

    def _bad_value(self, what: str, value: object) -> StoreError:
        return StoreError(
            f"{self.path}: {what} is {str(value)[:60]!r}, which this quiz never writes; the file was edited or "
            "damaged. Restore a backup, or pass --db PATH to start another file (this one was left untouched)"
        )

    def _moment(self, what: str, text: object) -> datetime:
        try:
            moment = datetime.fromisoformat(text) if isinstance(text, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None or not 1 < moment.year < 9999:
            raise self._bad_value(what, text)
        return moment

    def _check_state(self, card_id: str, state: object) -> str:
        """The fields and types fsrs will read from a card's state, checked without importing fsrs."""
        try:
            data = json.loads(state) if isinstance(state, str) else None
            ok = isinstance(data, dict) and all(k in data for k in _STATE_FIELDS)
            if ok:
                int(data["card_id"]), int(data["state"])  # what fsrs converts
                for key in ("stability", "difficulty"):
                    if data[key]:
                        float(data[key])
                for key in ("due", "last_review"):
                    if data[key]:
                        datetime.fromisoformat(data[key])
        except (ValueError, TypeError):
            ok = False
        if not ok:
            raise self._bad_value(f"the saved state of card '{card_id}'", state)
        return state  # type: ignore[return-value]

    # ---------------------------------------------------------------------------------------------- data

    def progress(self) -> dict[str, Progress]:
        """This deck's cards, by id. A value this quiz never writes is one error line, before any question."""
        rows = self._read(
            "SELECT id, state, due, content_hash, reviews, lapses FROM cards WHERE deck = ?", (self.deck,)
        )
        found = {}
        for card_id, state, due, content_hash, reviews, lapses in rows:
            for name, number in (("reviews", reviews), ("lapses", lapses)):
                if not isinstance(number, int) or number < 0:
                    raise self._bad_value(f"the {name} count of card '{card_id}'", number)
            found[card_id] = Progress(
                card_id,
                self._check_state(card_id, state),
                self._moment(f"the due date of card '{card_id}'", due),
                content_hash,
                reviews,
                lapses,
            )
        return found

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
        """Review the card with ``grade`` and save the answer and the new state, in one transaction.

        Raises NotSavedError, holding the answer, when the database will not take it."""
        return self.save(
            self.answer_of(
                card_id,
                topic,
                content_hash,
                kind,
                grade,
                now=now,
                correct=correct,
                seconds=seconds,
                mode=mode,
                detail=detail,
            )
        )

    def answer_of(
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
    ) -> Unsaved:
        """An answer to this deck's card, as ``save`` writes it and the recovery file keeps it."""
        at = _iso(now)
        return Unsaved(self.deck, card_id, topic, content_hash, kind, grade, at, correct, seconds, mode, detail)

    def save(self, answer: Unsaved) -> Progress:
        """Write one answer (a new one, or one kept from before); NotSavedError keeps it when that fails."""
        from quiz.scheduler import review

        now = datetime.fromisoformat(answer.answered_at)
        try:
            with self._write() as db:
                row = db.execute(
                    "SELECT state, reviews, lapses FROM cards WHERE deck = ? AND id = ?", (answer.deck, answer.card_id)
                ).fetchone()
                state, reviews, lapses = row if row else (None, 0, 0)
                if row:
                    self._check_state(answer.card_id, state)
                after = review(state, answer.grade, now)
                reviews, lapses = reviews + 1, lapses + (answer.grade == 1 and row is not None)
                db.execute(
                    "INSERT INTO cards (deck, id, state, due, content_hash, reviews, lapses) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (deck, id) DO UPDATE SET state = excluded.state, "
                    "due = excluded.due, content_hash = excluded.content_hash, reviews = excluded.reviews, "
                    "lapses = excluded.lapses",
                    (answer.deck, answer.card_id, after.state, _iso(after.due), answer.content_hash, reviews, lapses),
                )
                db.execute(
                    "INSERT INTO reviews (deck, card_id, topic, kind, grade, correct, first, answered_at, seconds, "
                    "mode, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        answer.deck,
                        answer.card_id,
                        answer.topic,
                        answer.kind,
                        answer.grade,
                        None if answer.correct is None else int(answer.correct),
                        int(row is None),
                        answer.answered_at,
                        answer.seconds,
                        answer.mode,
                        answer.detail,
                    ),
                )
        except sqlite3.Error as exc:
            raise NotSavedError(f"{self.path} {_why(exc)}", answer) from None
        except StoreError as exc:
            raise NotSavedError(str(exc), answer) from None
        return Progress(answer.card_id, after.state, after.due, answer.content_hash, reviews, lapses)

    def retry(self, unsaved: list[Unsaved]) -> list[Unsaved]:
        """Try to write answers kept from before, oldest first; return those that still could not be."""
        left = []
        for answer in unsaved:
            if left:  # keep the order: nothing after an answer that failed is written before it
                left.append(answer)
                continue
            try:
                self.save(answer)
            except NotSavedError:
                left.append(answer)
        return left

    # ---------------------------------------------------------------------------------------------- recovery

    def recovery_path(self) -> Path:
        """Where answers that could not be written are kept: beside the database."""
        return Path(f"{self.path}.unsaved.json")

    def keep(self, unsaved: list[Unsaved]) -> Path:
        """Write answers the database would not take to the recovery file (added to any already there)."""
        path = self.recovery_path()
        kept = self._kept(path) + [asdict(a) for a in unsaved]
        text = json.dumps(kept, indent=1, ensure_ascii=False)
        for candidate in (path, Path(tempfile.gettempdir()) / f"quiz-unsaved-{os.getpid()}.json"):
            try:
                temp = candidate.with_name(candidate.name + ".tmp")
                temp.write_text(text, encoding="utf-8")
                os.replace(temp, candidate)
                return candidate
            except OSError:
                continue
        raise StoreError(f"could not write the recovery file {path}")

    def _kept(self, path: Path) -> list[dict]:
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise StoreError(f"{path} (answers kept from an earlier session) cannot be read: {exc}") from None
        if not isinstance(kept, list):
            raise StoreError(f"{path} (answers kept from an earlier session) is not a list of answers")
        return kept

    def _replay(self) -> None:
        """Save the answers an earlier session could not, then remove the recovery file."""
        path = self.recovery_path()
        kept = self._kept(path)
        if not kept:
            return
        try:
            answers = [Unsaved(**item) for item in kept]
            for answer in answers:
                datetime.fromisoformat(answer.answered_at)
        except (TypeError, ValueError):
            raise StoreError(f"{path} (answers kept from an earlier session) holds something else") from None
        left = self.retry(answers)
        if left:
            raise StoreError(f"{path}: {len(left)} answers kept from an earlier session still cannot be saved")
        self.recovered = len(answers)
        path.unlink()

    def reviews(self) -> list[Review]:
        rows = self._read(
            "SELECT card_id, topic, kind, grade, correct, first, answered_at, mode FROM reviews WHERE deck = ? "
            "ORDER BY id",
            (self.deck,),
        )
        return [
            Review(
                r[0],
                r[1],
                r[2],
                r[3],
                None if r[4] is None else bool(r[4]),
                bool(r[5]),
                self._moment(f"the time of an answer to card '{r[0]}'", r[6]),
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
    rows = store._read(
        "SELECT state, due, content_hash, reviews, lapses FROM cards WHERE deck = ? AND id = ?", (store.deck, card_id)
    )
    return rows[0] if rows else None


def undo_last(store: Store, card_id: str, before: CardRow | None) -> None:
    """Forget the card's newest answer and restore its schedule to ``before`` (None: the card was new)."""
    try:
        with store._write() as db:
            db.execute(
                "DELETE FROM reviews WHERE id = (SELECT max(id) FROM reviews WHERE deck = ? AND card_id = ?)",
                (store.deck, card_id),
            )
            if before is None:
                db.execute("DELETE FROM cards WHERE deck = ? AND id = ?", (store.deck, card_id))
            else:
                db.execute(
                    "UPDATE cards SET state = ?, due = ?, content_hash = ?, reviews = ?, lapses = ? "
                    "WHERE deck = ? AND id = ?",
                    (*before, store.deck, card_id),
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
                "INSERT INTO reviews (deck, card_id, topic, kind, grade, correct, first, answered_at, mode) "
                "VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                (store.deck, card_id, topic, kind, grade, None if correct is None else int(correct), _iso(now), mode),
            )
    except sqlite3.DatabaseError as exc:
        raise store._refuse(f"could not be written ({exc})") from None


def suspended(store: Store) -> set[str]:
    """Ids of the suspended cards: never asked until unsuspended."""
    if not store._read("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'suspended'"):
        return set()
    return {row[0] for row in store._read("SELECT id FROM suspended WHERE deck = ?", (store.deck,))}


def set_suspended(store: Store, card_ids: list[str], on: bool) -> None:
    try:
        with store._write() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS suspended (deck TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (deck, id))"
            )
            for card_id in card_ids:
                sql = (
                    "INSERT OR IGNORE INTO suspended (deck, id) VALUES (?, ?)"
                    if on
                    else "DELETE FROM suspended WHERE deck = ? AND id = ?"
                )
                db.execute(sql, (store.deck, card_id))
    except sqlite3.DatabaseError as exc:
        raise store._refuse(f"could not be written ({exc})") from None


def reset(store: Store, card_ids: list[str]) -> int:
    """Make the cards new again (their answers stay in the log); returns how many had a schedule."""
    try:
        with store._write() as db:
            return sum(
                db.execute("DELETE FROM cards WHERE deck = ? AND id = ?", (store.deck, i)).rowcount for i in card_ids
            )
    except sqlite3.DatabaseError as exc:
        raise store._refuse(f"could not be written ({exc})") from None


def history(store: Store, card_id: str) -> list[tuple[datetime, str, int, bool | None, str, float | None, str | None]]:
    """The card's answers, oldest first: (answered_at, kind, grade, correct, mode, seconds, detail)."""
    rows = store._read(
        "SELECT answered_at, kind, grade, correct, mode, seconds, detail FROM reviews WHERE deck = ? AND card_id = ? "
        "ORDER BY id",
        (store.deck, card_id),
    )
    return [(datetime.fromisoformat(r[0]), r[1], r[2], None if r[3] is None else bool(r[3]), *r[4:]) for r in rows]


def undo_unscheduled(store: Store, card_id: str) -> None:
    """Forget the card's newest logged answer (one written by ``record_unscheduled``)."""
    try:
        with store._write() as db:
            db.execute(
                "DELETE FROM reviews WHERE id = (SELECT max(id) FROM reviews WHERE deck = ? AND card_id = ?)",
                (store.deck, card_id),
            )
    except sqlite3.DatabaseError as exc:
        raise store._refuse(f"could not be written ({exc})") from None


# Coding exercises (quiz code): each check of a learner's file is one attempt. Their own table, created on the
# first attempt, so a database that never saw an exercise keeps its schema; not yet scheduled with FSRS.
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
                (store.deck, exercise_id, int(passed), _iso(now), detail),
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
