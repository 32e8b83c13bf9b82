"""Coding exercises scheduled like cards: each `quiz code check` is one FSRS review, shown by `quiz code list` and
`quiz stats`; the colours of a check's report are styles, never literal markup."""

from __future__ import annotations

import io
import json
import sqlite3
import time
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

import quiz.cli.code as code_cli
from quiz.cli import main
from quiz.cli.base import SafeConsole
from quiz.exercises import HEADER, catalogue, find, run_check
from quiz.store import SCHEMA_VERSION, Store, exercise_progress, grade_of

# FSRS's published default weights (fsrs.Scheduler's): w[1] and w[2] are a new card's stability in days after
# Hard and Good. At the desired retention of 0.9 the next interval equals the stability (R(t = S) = 0.9 by the
# curve's definition), so a first pass graded Good comes back in round(w[2]) days, never sooner than one.
W_HARD_S0, W_GOOD_S0 = 1.2931, 2.3065


@pytest.fixture(autouse=True)
def utc(monkeypatch):
    """Study days start at 4 am local time: pin the zone so the days below are the days meant."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def fake_checks(monkeypatch, tmp_path):
    """`quiz code check` with the separate grading process replaced by a result given per exercise: the schedule is
    what is under test here, and the real process is tested in test_exercises.py."""
    results: dict[str, bool] = {}

    def run_check(exercise, file, **_):
        passed = results[exercise.id]
        return {"exercise": exercise.id, "status": "passed" if passed else "failed", "checks": [], "printed": ""}

    monkeypatch.setattr(code_cli, "run_check", run_check)
    db = str(tmp_path / "progress.sqlite3")

    def check(exercise_id: str, passed: bool, now: str) -> dict:
        results[exercise_id] = passed
        path = tmp_path / f"{exercise_id.replace('-', '_')}.py"
        path.write_text(HEADER.format(id=exercise_id) + "\n")
        monkeypatch.setenv("QUIZ_NOW", now)
        done = CliRunner().invoke(main, ["code", "check", str(path), "--db", db, "--json"])
        assert done.exit_code == (0 if passed else 1), done.output
        return json.loads(done.output)["schedule"]

    def listed(now: str, *args: str) -> dict[str, dict]:
        monkeypatch.setenv("QUIZ_NOW", now)
        done = CliRunner().invoke(main, ["code", "list", "--json", "--db", db, *args])
        assert done.exit_code == 0, done.output
        return {row["id"]: row for row in json.loads(done.output)}

    check.listed = listed  # type: ignore[attr-defined]
    check.db = db  # type: ignore[attr-defined]
    return check


def _days(schedule: dict, today: str) -> int:
    return (date.fromisoformat(schedule["due"][:10]) - date.fromisoformat(today)).days


def test_the_grade_of_a_check():
    assert grade_of(passed=False, due=True, failed_today=False) == 1
    assert grade_of(passed=False, due=False, failed_today=False) == 1  # failing while not due: Again all the same
    assert grade_of(passed=True, due=True, failed_today=False) == 3
    assert grade_of(passed=True, due=True, failed_today=True) == 2
    assert grade_of(passed=True, due=False, failed_today=False) is None


def test_a_week_of_checks_a_failure_brings_it_back_the_same_day_a_pass_pushes_it_out(fake_checks):
    check, listed = fake_checks, fake_checks.listed
    monday = "2026-03-02"
    # sdpa: failed, then passed the same day (Hard); causal-mask: passed at the first check (Good).
    assert check("sdpa", False, f"{monday}T10:00")["grade"] == "again"
    assert listed(f"{monday}T10:01", "--due").keys() == {"sdpa"}, "a failing exercise is due again the same day"
    assert listed(f"{monday}T10:01")["sdpa"]["status"] == "failing"
    hard = check("sdpa", True, f"{monday}T10:20")
    good = check("causal-mask", True, f"{monday}T10:30")
    assert hard["grade"] == "hard" and good["grade"] == "good"
    assert _days(hard, monday) == max(1, round(W_HARD_S0)) == 1
    assert _days(good, monday) == max(1, round(W_GOOD_S0)) == 2, "Hard and Good intervals differ"
    assert listed(f"{monday}T11:00", "--due") == {}, "a pass pushes the exercise out of today"

    # Checking a passed file again before it is due is recorded but moves nothing.
    again = check("causal-mask", True, f"{monday}T12:00")
    assert again["grade"] is None and again["due"] == good["due"]
    assert listed(f"{monday}T12:00")["causal-mask"]["attempts"] == 2

    assert listed("2026-03-03T09:00", "--due").keys() == {"sdpa"}  # Tuesday: the Hard one is back
    assert listed("2026-03-04T09:00", "--due").keys() == {"sdpa", "causal-mask"}  # Wednesday: both
    second = check("causal-mask", True, "2026-03-04T09:00")
    assert second["grade"] == "good" and _days(second, "2026-03-04") > 2, "remembered: the next interval grows"

    # A failing check before it is due: Again, due at once, a lapse.
    assert check("causal-mask", False, "2026-03-05T09:00")["grade"] == "again"
    row = listed("2026-03-05T09:01", "--due")["causal-mask"]
    assert row["due_in_days"] == 0 and row["lapses"] == 1 and row["status"] == "failing"


def test_code_list_json_carries_status_and_due_for_every_exercise(fake_checks):
    fake_checks("causal-mask", True, "2026-03-02T10:00")
    rows = fake_checks.listed("2026-03-02T11:00")
    assert rows.keys() == {e.id for e in catalogue()}
    mask, other = rows["causal-mask"], rows["sdpa"]
    assert mask["status"] == "passed" and mask["first_passed"].startswith("2026-03-02T10:00")
    assert mask["due"].startswith("2026-03-04") and mask["due_in_days"] == 2 and mask["reviews"] == 1
    assert other["status"] == "not started" and other["due"] is None and other["due_in_days"] is None


def test_code_list_off_a_terminal_is_tab_separated_lines_with_whole_ids(fake_checks):
    fake_checks("kv-cache-decode-step", False, "2026-03-02T10:00")
    plain = CliRunner().invoke(main, ["code", "list", "--db", fake_checks.db]).output.splitlines()
    cells = [line.split("\t") for line in plain]
    assert [c[0] for c in cells] == [e.id for e in catalogue()] and {len(c) for c in cells} == {5}
    (mine,) = [c for c in cells if c[0] == "kv-cache-decode-step"]
    assert mine[3].startswith("failing (1 tries") and mine[4] == "today"
    due = CliRunner().invoke(main, ["code", "list", "--due", "--db", fake_checks.db]).output
    assert due.split("\t")[0] == "kv-cache-decode-step" and due.count("\n") == 1


def test_code_list_in_a_narrow_terminal_folds_ids_rather_than_cutting_them(fake_checks, monkeypatch):
    screen = io.StringIO()
    monkeypatch.setattr(code_cli, "out", SafeConsole(file=screen, force_terminal=True, width=50))
    CliRunner().invoke(main, ["code", "list", "--db", fake_checks.db])
    assert "…" not in screen.getvalue() and "kv-cache-" in screen.getvalue()


def test_stats_counts_the_exercises_started_passed_and_due(fake_checks):
    fake_checks("sdpa", False, "2026-03-02T10:00")
    fake_checks("causal-mask", True, "2026-03-02T10:00")
    fake_checks("gqa-expand-kv", True, "2026-03-02T10:00")
    fake_checks.listed("2026-03-02T10:05")  # QUIZ_NOW for stats
    done = CliRunner().invoke(main, ["stats", "--json", "--db", fake_checks.db])
    x = json.loads(done.output)["exercises"]
    assert (x["exercises"], x["started"], x["passed"], x["due_now"]) == (len(catalogue()), 3, 2, 1)
    assert [d["due"] for d in x["forecast"][:3]] == [1, 0, 2]  # both Good passes come back on Wednesday
    text = CliRunner().invoke(main, ["stats", "--db", fake_checks.db]).output
    assert f"Exercises: 3/{len(catalogue())} started · 2 passed · due now: 1" in text


# ---------------------------------------------------------------------------------------------- migration

_SCHEMA_2_ATTEMPTS = (  # the table schema 2 made on an exercise's first check
    "CREATE TABLE exercise_attempts (id INTEGER PRIMARY KEY, deck TEXT NOT NULL, exercise_id TEXT NOT NULL, "
    "passed INTEGER NOT NULL, attempted_at TEXT NOT NULL, detail TEXT)"
)


def _schema_2(path: Path, attempts: bool) -> None:
    with Store(path):
        pass
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("DROP TABLE exercises")
    con.execute("DROP TABLE exercise_attempts")  # what is left is schema 2's cards and reviews
    if attempts:
        con.execute(_SCHEMA_2_ATTEMPTS)
        con.execute(
            "INSERT INTO exercise_attempts (deck, exercise_id, passed, attempted_at) VALUES "
            "('', 'sdpa', 1, '2026-03-01T10:00:00+00:00')"
        )
    con.execute("PRAGMA user_version = 2")
    con.close()


@pytest.mark.parametrize("attempts", [False, True], ids=["never checked", "checked before schedules"])
def test_a_schema_2_database_opens_migrates_and_schedules_the_next_check(tmp_path, attempts):
    from quiz.store import record_attempt

    path = tmp_path / "old.sqlite3"
    _schema_2(path, attempts)
    now = __import__("datetime").datetime.fromisoformat("2026-03-02T10:00:00+00:00")
    with Store(path) as store:
        before = exercise_progress(store)
        assert before.keys() == ({"sdpa"} if attempts else set())
        if attempts:  # kept, and due now: it has no schedule yet
            assert before["sdpa"].last_passed and before["sdpa"].due is None and before["sdpa"].is_due(now)
        checked = record_attempt(store, "sdpa", True, now=now)
        assert checked.grade == 3 and exercise_progress(store)["sdpa"].attempts == 1 + attempts
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
        assert con.execute("SELECT grade FROM exercise_attempts ORDER BY id").fetchall()[-1] == (3,)


# ---------------------------------------------------------------------------------------------- the report's colours


@pytest.fixture(scope="module")
def failing_record(tmp_path_factory) -> dict:
    path = tmp_path_factory.mktemp("learner") / "causal_mask.py"
    path.write_text(
        f"{HEADER.format(id='causal-mask')}\nimport torch\n"
        "def causal_mask(n):\n    return torch.ones(n, n, dtype=torch.bool).tril(diagonal=-1)\n"
    )
    return run_check(find("causal-mask"), path)


def _shown(record: dict, monkeypatch, **console) -> str:
    screen = io.StringIO()
    monkeypatch.setattr(code_cli, "out", SafeConsole(file=screen, width=200, **console))
    code_cli._show(record)
    return screen.getvalue()


def test_a_failing_check_shows_the_diagnosis_without_literal_markup(failing_record, monkeypatch):
    plain = _shown(failing_record, monkeypatch)
    assert "Diagnosis: the diagonal hidden." in plain and "First failing check:" in plain and "✗" in plain
    assert "[/" not in plain and "[red]" not in plain and "[bold]" not in plain, plain
    coloured = _shown(failing_record, monkeypatch, force_terminal=True, color_system="standard")
    assert "\x1b[31m✗" in coloured and "\x1b[1mDiagnosis: the diagonal hidden." in coloured, repr(coloured)
    assert "[/" not in coloured


def test_the_learners_printed_text_stays_text_never_markup(failing_record, monkeypatch):
    shown = _shown(failing_record | {"printed": "[bold]mine[/] [red]x"}, monkeypatch, force_terminal=True)
    assert "[bold]mine[/] [red]x" in shown


def test_checking_the_untouched_starter_saves_nothing(monkeypatch, tmp_path):
    def run_check(exercise, file, **_):
        return {"exercise": exercise.id, "status": "failed", "checks": [], "printed": "", "unwritten": True,
                "error": "causal_mask still raises NotImplementedError: write its body"}  # fmt: skip

    monkeypatch.setattr(code_cli, "run_check", run_check)
    db = str(tmp_path / "progress.sqlite3")
    path = tmp_path / "causal_mask.py"
    path.write_text(HEADER.format(id="causal-mask") + "\n")
    done = CliRunner().invoke(main, ["code", "check", str(path), "--db", db])
    assert done.exit_code == 1 and "Not saved: the function is still the starter's" in done.output
    listed = CliRunner().invoke(main, ["code", "list", "--json", "--db", db])
    [row] = [r for r in json.loads(listed.output) if r["id"] == "causal-mask"]
    assert row["status"] == "not started"
