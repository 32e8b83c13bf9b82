"""``Store``: an open progress database for one deck, one transaction per answer, and reading it back."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

from quiz.store import opening, recovery
from quiz.store.context import MEMORY, OWN_DECK
from quiz.store.records import NotSavedError, Progress, Review, StoreError, Unsaved, iso

# The fields fsrs.Card.from_dict reads: a state without them cannot be reviewed.
_STATE_FIELDS = ("card_id", "state", "step", "stability", "difficulty", "due", "last_review")


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

    def _open(self, writing: bool) -> sqlite3.Connection:
        return opening.connect(self.path, in_memory=self.in_memory, writing=writing, timeout=self.busy_timeout)

    def _refuse(self, why: str) -> StoreError:
        return opening.refuse(self.path, why)

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
            raise self._refuse(opening.why(exc)) from None

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
        at = iso(now)
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
                    (answer.deck, answer.card_id, after.state, iso(after.due), answer.content_hash, reviews, lapses),
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
            raise NotSavedError(f"{self.path} {opening.why(exc)}", answer) from None
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
        return recovery.recovery_path(self.path)

    def keep(self, unsaved: list[Unsaved]) -> Path:
        """Write answers the database would not take to the recovery file (added to any already there)."""
        return recovery.keep(self.recovery_path(), unsaved)

    def _replay(self) -> None:
        """Save the answers an earlier session could not, then remove the recovery file."""
        path = self.recovery_path()
        answers = recovery.kept_answers(path)
        if not answers:
            return
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
