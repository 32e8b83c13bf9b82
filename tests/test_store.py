"""The progress database: schema and ownership checks, one transaction per answer, concurrent sessions."""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from quiz.store import APPLICATION_ID, SCHEMA_VERSION, Store, StoreError

NOW = datetime(2026, 3, 2, 18, tzinfo=UTC)


def answer(store: Store, card: str = "causal-masking", grade: int = 3, at: datetime = NOW):
    return store.record(card, "masking", "hash1", "recall", grade, now=at)


def test_a_new_database_is_marked_as_ours_and_versioned(tmp_path):
    path = tmp_path / "sub" / "progress.sqlite3"
    with Store(path):
        pass
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_answer_is_committed_as_soon_as_it_is_recorded(tmp_path):
    path = tmp_path / "p.sqlite3"
    store = Store(path)
    answer(store)
    with sqlite3.connect(path) as other:  # another connection sees it before this one closes
        assert other.execute("SELECT count(*) FROM reviews").fetchone() == (1,)
    store.close()


def test_the_fsrs_state_advances_with_each_review_and_lapses_are_counted(tmp_path):
    with Store(tmp_path / "p.sqlite3") as store:
        first = answer(store)
        second = answer(store, at=first.due)
        assert second.due - first.due > timedelta(days=1)
        third = answer(store, grade=1, at=second.due)
        assert third.lapses == 1 and third.reviews == 3
        assert third.due - second.due < timedelta(days=1)
        assert [r.first for r in store.reviews()] == [True, False, False]


def test_a_database_from_a_newer_quiz_is_refused(tmp_path):
    path = tmp_path / "p.sqlite3"
    Store(path).close()
    with sqlite3.connect(path) as con:
        con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer quiz"):
        Store(path)


def test_a_truncated_database_is_refused_not_overwritten(tmp_path):
    path = tmp_path / "p.sqlite3"
    with Store(path) as store:
        answer(store)
    with sqlite3.connect(path) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\xff" * 3000)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="left untouched"):
        Store(path).progress()
    assert path.read_bytes() == before


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(StoreError, match="folder"):
        Store(tmp_path)


def _hammer(path: str, card: str, n: int) -> None:
    store = Store(path)
    for i in range(n):
        store.record(card, "masking", "h", "recall", 3, now=NOW + timedelta(seconds=i))
    store.close()


def test_two_sessions_on_one_database_lose_nothing(tmp_path):
    path = str(tmp_path / "p.sqlite3")
    Store(path).close()
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_hammer, args=(path, card, 40)) for card in ("a", "a", "b")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    with Store(path) as store:
        assert len(store.reviews()) == 120
        assert store.progress()["a"].reviews == 80  # each update read the other session's state first
        assert store.progress()["b"].reviews == 40


def test_two_sessions_created_at_once_both_open_one_schema(tmp_path):
    path = str(tmp_path / "fresh.sqlite3")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_hammer, args=(path, f"c{i}", 5)) for i in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    with Store(path) as store:
        assert len(store.reviews()) == 15
