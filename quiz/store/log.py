"""Undo, suspend, reset, cram and history (quiz.session and the CLI).

Kept apart from ``Store`` on purpose: each is one small transaction or query over the same two tables (plus
`suspended`, created when first needed, so older databases need no migration and an older quiz still reads
newer ones).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from quiz.store.database import Store
from quiz.store.records import iso

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
                (store.deck, card_id, topic, kind, grade, None if correct is None else int(correct), iso(now), mode),
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
