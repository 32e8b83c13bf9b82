"""The progress database: schema and ownership checks, one transaction per answer, concurrent sessions."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from quiz.store import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    NotSavedError,
    Store,
    StoreError,
    deck_key,
    exercise_progress,
    now_utc,
)

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


# ---------------------------------------------------------------------------------------------- the creation race


def _create_in_rounds(folder: str, rounds: int, barrier, results) -> None:
    """Open (so create) a new database each round, all workers released at once by the barrier."""
    for r in range(rounds):
        barrier.wait(timeout=300)
        try:
            Store(Path(folder) / f"round-{r}.sqlite3").close()
            results.put((r, "ok"))
        except Exception as exc:  # reported to the parent, which names the round and the error
            results.put((r, f"{type(exc).__name__}: {exc}"))


def test_many_sessions_creating_one_new_database_at_once_all_open_the_same_one(tmp_path):
    """Regression: the check and the creation are one atomic step, so no racing session sees a half-made file
    (it used to refuse it as "belongs to another program"). No timing in it: a barrier lines the workers up."""
    rounds, workers = 40, 4
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(workers), context.Queue()
    procs = [
        context.Process(target=_create_in_rounds, args=(str(tmp_path), rounds, barrier, results))
        for _ in range(workers)
    ]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=600) for _ in range(rounds * workers)]
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    assert [o for o in outcomes if o[1] != "ok"] == []
    for r in range(rounds):
        with sqlite3.connect(tmp_path / f"round-{r}.sqlite3") as con:
            assert con.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
            assert con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'cards'").fetchone()[0] == 1
    assert not list(tmp_path.glob(".*.new")), "a temporary file was left behind"


# ---------------------------------------------------------------------------------------------- decks


def test_two_decks_sharing_a_card_id_keep_their_own_progress(tmp_path):
    path = tmp_path / "p.sqlite3"
    with Store(path) as own:
        mine = answer(own, grade=4)
    with Store(path, deck="/elsewhere/questions") as other:
        assert other.progress() == {}
        theirs = answer(other, grade=1)
        assert [r.grade for r in other.reviews()] == [1]
    with Store(path) as own:
        assert own.progress()["causal-masking"] == mine
        assert own.progress()["causal-masking"] != theirs
        assert [r.grade for r in own.reviews()] == [4]


def test_the_projects_own_deck_is_deck_empty_and_any_other_is_its_full_path(tmp_path):
    from quiz.paths import DEFAULT_QUESTIONS

    assert deck_key(DEFAULT_QUESTIONS) == ""
    assert deck_key(tmp_path / "questions") == str((tmp_path / "questions").resolve())


_SCHEMA_1 = """
CREATE TABLE cards (id TEXT PRIMARY KEY, state TEXT NOT NULL, due TEXT NOT NULL, content_hash TEXT NOT NULL,
    reviews INTEGER NOT NULL DEFAULT 0, lapses INTEGER NOT NULL DEFAULT 0);
CREATE TABLE reviews (id INTEGER PRIMARY KEY, card_id TEXT NOT NULL, topic TEXT NOT NULL, kind TEXT NOT NULL,
    grade INTEGER NOT NULL CHECK (grade BETWEEN 1 AND 4), correct INTEGER, first INTEGER NOT NULL,
    answered_at TEXT NOT NULL, seconds REAL, mode TEXT NOT NULL DEFAULT 'take', detail TEXT);
CREATE INDEX reviews_by_card ON reviews (card_id, answered_at);
"""


def test_a_schema_1_database_is_migrated_and_its_progress_stays_the_projects_own(tmp_path):
    path = tmp_path / "p.sqlite3"
    with Store(path) as store:  # a real state and review, then rewritten into the old layout
        saved = answer(store)
        review = store.reviews()[0]
    path.unlink()
    con = sqlite3.connect(path, isolation_level=None)
    con.executescript(_SCHEMA_1)
    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    con.execute("PRAGMA user_version = 1")
    con.execute(
        "INSERT INTO cards VALUES (?, ?, ?, ?, ?, ?)",
        ("causal-masking", saved.state, saved.due.isoformat(), "hash1", 1, 0),
    )
    con.execute(
        "INSERT INTO reviews (card_id, topic, kind, grade, first, answered_at) VALUES (?, ?, ?, ?, ?, ?)",
        ("causal-masking", "masking", "recall", 3, 1, review.answered_at.isoformat()),
    )
    con.close()
    with Store(path) as store:
        assert store.progress()["causal-masking"].state == saved.state
        assert [r.grade for r in store.reviews()] == [3]
        answer(store, at=saved.due)  # and it keeps working: the new key takes the next answer
        assert store.progress()["causal-masking"].reviews == 2
    with Store(path, deck="/another/deck") as other:
        assert other.progress() == {}
        assert exercise_progress(other) == {}  # schema 1 → 2 → 3: the exercise tables are there too
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


# ---------------------------------------------------------------------------------------------- other programs' files


def _fingerprint(folder: Path, name: str) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob(name + "*"))}


def test_another_programs_wal_database_and_its_live_wal_are_left_byte_identical(tmp_path):
    path = tmp_path / "invoices.db"
    writer = sqlite3.connect(path, isolation_level=None)  # stays open: its -wal is never checkpointed
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
    writer.execute("INSERT INTO invoices (amount) VALUES (1.5)")
    before = _fingerprint(tmp_path, "invoices.db")
    assert "invoices.db-wal" in before
    with pytest.raises(StoreError, match=r"belongs to another program.*left untouched"):
        Store(path)
    assert _fingerprint(tmp_path, "invoices.db") == before
    writer.close()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: sqlite3.connect(p).execute("VACUUM"), "belongs to another program"),  # SQLite, no tables
        (lambda p: p.write_bytes(b""), "is an empty file"),
        (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x00" * 20), "shorter than an SQLite header"),
    ],
    ids=["an empty SQLite database", "an empty file", "a cut-off header"],
)
def test_a_file_we_did_not_make_is_refused_and_left_byte_identical(tmp_path, make, message):
    path = tmp_path / "their.db"
    make(path)
    before = _fingerprint(tmp_path, "their.db")
    with pytest.raises(StoreError, match=message):
        Store(path, writing=True)
    assert _fingerprint(tmp_path, "their.db") == before


def test_a_wal_without_its_main_file_is_not_taken_for_a_new_database(tmp_path):
    (tmp_path / "their.db-wal").write_bytes(b"\x37\x7f\x06\x82" + b"\x00" * 28)
    with pytest.raises(StoreError, match="-wal file is there"):
        Store(tmp_path / "their.db")
    assert not (tmp_path / "their.db").exists()


# ---------------------------------------------------------------------------------------------- locked, read-only


@pytest.fixture
def quick_timeout(monkeypatch):
    monkeypatch.setattr(Store, "busy_timeout", 0.2)


def test_a_database_locked_by_another_program_is_called_locked_not_damaged(tmp_path, quick_timeout):
    path = tmp_path / "p.sqlite3"
    Store(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("COMMIT")
    with pytest.raises(StoreError) as raised:
        Store(path)
    assert "is locked by another program" in str(raised.value)
    assert "damaged" not in str(raised.value)
    holder.close()


def test_an_answer_the_locked_database_will_not_take_is_kept_retried_and_then_saved(tmp_path, quick_timeout):
    from quiz.session import Grade, Kind, Question, Reason, Session

    path = tmp_path / "p.sqlite3"
    store = Store(path, writing=True)
    card = type("Card", (), {"id": "causal-masking", "topic": "masking", "content_hash": "h"})()
    session = Session(store, [], clock=lambda: NOW)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(NotSavedError, match="is locked") as raised:
        session.answer(Question(card, Kind.RECALL, Reason.NEW), Grade.GOOD)
    assert raised.value.answer.describe() == "causal-masking (recall), graded 3 good, at 2026-03-02 18:00:00 UTC"
    assert len(session.unsaved) == 1 and len(session.answered) == 1
    holder.execute("ROLLBACK")
    assert session.finish() is None  # the retry at the end saved it
    assert [r.card_id for r in store.reviews()] == ["causal-masking"]
    store.close()


def test_answers_still_unsaved_at_the_end_go_to_a_recovery_file_that_the_next_session_saves(tmp_path, quick_timeout):
    from quiz.session import Grade, Kind, Question, Reason, Session

    path = tmp_path / "p.sqlite3"
    store = Store(path, writing=True)
    card = type("Card", (), {"id": "causal-masking", "topic": "masking", "content_hash": "h"})()
    session = Session(store, [], clock=lambda: NOW)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    for grade in (Grade.GOOD, Grade.AGAIN):
        with pytest.raises(NotSavedError):
            session.answer(Question(card, Kind.RECALL, Reason.NEW), grade)
    kept = session.finish()
    assert kept == store.recovery_path()
    assert [a["grade"] for a in json.loads(kept.read_text())] == [3, 1]
    store.close()
    holder.execute("ROLLBACK")
    holder.close()
    with Store(path, writing=True) as again:
        assert again.recovered == 2
        assert [r.grade for r in again.reviews()] == [3, 1]
        assert again.progress()["causal-masking"].reviews == 2
    assert not kept.exists()


def _as_nobody(cmd: list[str]) -> list[str]:
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd] if os.geteuid() == 0 else cmd


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="root ignores file modes")
def test_a_read_only_database_is_refused_before_the_first_question_but_can_still_be_read(tmp_path):
    base = Path(tempfile.mkdtemp(prefix="quiz-ro-"))  # pytest's own folders are closed to other users
    os.chmod(base, 0o755)
    folder = base / "ro"
    folder.mkdir()
    path = folder / "p.sqlite3"
    with Store(path) as store:
        answer(store)
    path.chmod(0o444)
    if os.geteuid() == 0:
        shutil.chown(folder, 65534, 65534)
        shutil.chown(path, 65534, 65534)
    code = (
        "import sys; from quiz.store import Store, StoreError\n"
        "try:\n    Store(sys.argv[1], writing=True)\nexcept StoreError as e:\n    print(e)\n"
        "with Store(sys.argv[1]) as s:\n    print(len(s.reviews()))\n"
    )
    try:
        result = subprocess.run(_as_nobody([sys.executable, "-c", code, str(path)]), capture_output=True, text=True)
    finally:
        shutil.rmtree(base)
    assert result.returncode == 0, result.stderr
    refused, reviews = result.stdout.splitlines()
    assert "is read-only" in refused and "damaged" not in refused
    assert reviews == "1"


# ---------------------------------------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    "sql, what",
    [
        ("UPDATE cards SET due = 'garbage'", "the due date of card 'causal-masking' is 'garbage'"),
        ("UPDATE cards SET due = '2020-01-01T00:00:00'", "the due date of card 'causal-masking'"),
        ("UPDATE cards SET state = '{not json'", "the saved state of card 'causal-masking'"),
        ("UPDATE cards SET state = '{}'", "the saved state of card 'causal-masking'"),
        ("UPDATE cards SET state = '[1, 2]'", "the saved state of card 'causal-masking'"),
        ("UPDATE cards SET reviews = 'many'", "the reviews count of card 'causal-masking'"),
        ("UPDATE reviews SET answered_at = 'yesterday'", "the time of an answer to card 'causal-masking'"),
    ],
)
def test_a_value_this_quiz_never_writes_is_one_error_line(tmp_path, sql, what):
    path = tmp_path / "p.sqlite3"
    with Store(path) as store:
        answer(store)
    with sqlite3.connect(path) as con:
        con.execute(sql)
    with Store(path) as store, pytest.raises(StoreError) as raised:
        store.progress()
        store.reviews()
    assert what in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "value, message",
    [
        ("9999-12-31T23:00", "outside the years 1900 to 9000"),
        ("0001-01-01T00:00+05:00", "not an ISO 8601 time"),
        ("1000-01-01", "outside the years"),
        ("tomorrow", "not an ISO 8601 time"),
        ("2026-02-30T10:00", "not an ISO 8601 time"),
    ],
)
def test_a_quiz_now_off_the_calendar_or_malformed_is_one_error_line(monkeypatch, value, message):
    monkeypatch.setenv("QUIZ_NOW", value)
    with pytest.raises(StoreError, match=message):
        now_utc()


def test_quiz_now_within_the_planning_years_is_used(monkeypatch):
    monkeypatch.setenv("QUIZ_NOW", "9000-06-01T12:00")
    assert now_utc() == datetime(9000, 6, 1, 12, tzinfo=UTC)
