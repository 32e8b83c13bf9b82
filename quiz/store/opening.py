"""Opening a progress database: refuse what is not ours from its bytes, create atomically, migrate, connect.

See the package's docstring for why each step is built the way it is.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import suppress
from pathlib import Path

from quiz.store.records import StoreError

APPLICATION_ID = 0x51554959  # "QUIY": marks a quiz progress database
SCHEMA_VERSION = 3
_SQLITE_MAGIC = b"SQLite format 3\x00"

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
CREATE TABLE exercise_attempts (
    id           INTEGER PRIMARY KEY,
    deck         TEXT NOT NULL,
    exercise_id  TEXT NOT NULL,
    passed       INTEGER NOT NULL,
    attempted_at TEXT NOT NULL,
    detail       TEXT,                      -- failing: the first failing check and the mistakes named (JSON)
    grade        INTEGER                    -- the FSRS grade this check gave, NULL when it moved no schedule
);
CREATE TABLE exercises (
    deck     TEXT NOT NULL DEFAULT '',
    id       TEXT NOT NULL,                 -- the exercise id (quiz code list)
    state    TEXT NOT NULL,                 -- fsrs.Card.to_json()
    due      TEXT NOT NULL,                 -- ISO 8601 UTC: when it is asked again
    failing  INTEGER NOT NULL,              -- 1 after a failing check: due at its moment, until a pass
    reviews  INTEGER NOT NULL DEFAULT 0,
    lapses   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (deck, id)
);
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

# Schema 2 logged exercise checks in a table made on the first check (so it may be missing), without grades, and
# scheduled no exercise: an exercise checked before has no schedule yet and counts as due until its next check.
_MIGRATE_2_TO_3 = """
CREATE TABLE IF NOT EXISTS exercise_attempts (id INTEGER PRIMARY KEY, deck TEXT NOT NULL,
    exercise_id TEXT NOT NULL, passed INTEGER NOT NULL, attempted_at TEXT NOT NULL, detail TEXT);
ALTER TABLE exercise_attempts ADD COLUMN grade INTEGER;
CREATE TABLE exercises (
    deck TEXT NOT NULL DEFAULT '', id TEXT NOT NULL, state TEXT NOT NULL, due TEXT NOT NULL,
    failing INTEGER NOT NULL, reviews INTEGER NOT NULL DEFAULT 0, lapses INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (deck, id)
)
"""

_MIGRATIONS = {1: _MIGRATE_1_TO_2, 2: _MIGRATE_2_TO_3}  # from version n to n + 1


def why(exc: sqlite3.Error) -> str:
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


def refuse(path: Path, reason: str) -> StoreError:
    return StoreError(f"{path} {reason}; it was left untouched (pass --db PATH to use another file)")


def _is_ours(path: Path) -> bool | None:
    """From the file's own bytes, without SQLite: True for our database, None for no file at all;
    anything else is refused. SQLite never opens another program's file, so it stays byte-identical."""
    try:
        with open(path, "rb") as f:
            header = f.read(100)
    except FileNotFoundError:
        header = None
    except IsADirectoryError:
        raise refuse(path, "is a folder, not a progress database") from None
    except OSError as exc:
        raise refuse(path, f"cannot be read ({exc.strerror})") from None
    if header is None:
        wal = Path(f"{path}-wal")
        if wal.exists():  # content in a WAL with no main file: someone's database mid-checkpoint
            raise refuse(path, "is missing but its -wal file is there (another program's database?)")
        return None
    if not header:
        raise refuse(path, "is an empty file, not a quiz progress database (delete it if you made it)")
    if not header.startswith(_SQLITE_MAGIC):
        raise refuse(path, "is not a quiz progress database (not SQLite)")
    if len(header) < 100:
        raise refuse(path, "is damaged or not a quiz progress database (shorter than an SQLite header)")
    # Our id is written in the transaction that creates the file, before it is ever in WAL mode, so it
    # is always in the main file's header (offset 68), never only in a -wal.
    if int.from_bytes(header[68:72], "big") != APPLICATION_ID:
        raise refuse(path, "belongs to another program (it is SQLite, but not a quiz progress database)")
    return True


def connect(path: Path, *, in_memory: bool, writing: bool, timeout: float) -> sqlite3.Connection:
    """An open connection to our database at ``path`` (created if missing), or one clear StoreError."""
    if not in_memory:
        if _is_ours(path) is None:
            _create(path)
            _is_ours(path)  # what is there now: ours, or what another program put there meanwhile
        if writing:
            _check_writable(path)
    try:
        # isolation_level=None: transactions are explicit, so each answer is exactly one of them.
        db = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise refuse(path, why(exc)) from None
    try:
        if in_memory:
            _build(db)
        _check_version(db, path)
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
        raise refuse(path, why(exc)) from None
    except StoreError:
        db.close()
        raise
    return db


def _check_writable(path: Path) -> None:
    """Refuse, before the first question, a file whose answers could not be written."""
    if not os.access(path, os.W_OK):
        raise refuse(path, "is read-only (you cannot write to it); make it writable")
    folder = path.resolve().parent
    if not os.access(folder, os.W_OK | os.X_OK) and not all(
        os.access(f"{path}{suffix}", os.W_OK) for suffix in ("-wal", "-shm")
    ):
        raise refuse(path, f"is in a read-only folder ({folder}); SQLite needs to write its -wal file there")


def _create(path: Path) -> None:
    """Build a complete new database under a temporary name, then link it into place: the link fails if
    the name exists, so the check and the creation are one atomic step and a racing session's file wins."""
    import tempfile  # here, not at the top: only a new database needs it, and every start-up would pay ~1 ms

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
                _build(db)
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


def _build(db: sqlite3.Connection) -> None:
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


def _check_version(db: sqlite3.Connection, path: Path) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise refuse(path, f"was written by a newer quiz (schema {version}, this one reads {SCHEMA_VERSION})")
    if version < 1:
        raise refuse(path, "has no schema version; it is not a quiz progress database")
    if version < SCHEMA_VERSION:
        db.execute("BEGIN IMMEDIATE")  # every step in one transaction: a crash leaves the old schema whole
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]  # another session may have migrated it
            while version < SCHEMA_VERSION:
                for statement in _MIGRATIONS[version].split(";\n"):
                    db.execute(statement)
                version += 1
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
