"""Scheduling as Anki does it (issue 12, item 5): learning steps inside the session, study days that start at
4 am local time for `take` and `stats` alike, a daily new-card limit, `take ID...`, review ahead and cram, undo,
skip and "I don't know", suspend and reset, and a card's history in `show --db`."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from test_practice_support import make_env, reviews, titles

from quiz.cli import main
from quiz.days import day_of, is_due

DOCS = __import__("pathlib").Path(__file__).resolve().parent.parent / "docs" / "bad-input.md"


@pytest.fixture
def env(tmp_path, monkeypatch):
    return make_env(tmp_path, monkeypatch)


@pytest.fixture
def zone(monkeypatch):
    """Set the process's time zone (astimezone reads it through tzset), and put it back afterwards."""

    def use(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


def run(env, *args: str, input: str = "", now: str | None = None, monkeypatch=None):
    if now:
        monkeypatch.setenv("QUIZ_NOW", now)
    return CliRunner().invoke(main, [*args, "--questions", str(env.deck)], input=input, catch_exceptions=False)


def dues(db) -> dict[str, str]:
    with sqlite3.connect(db) as con:
        return dict(con.execute("SELECT id, due FROM cards"))


# ---------------------------------------------------------------------------------------------- study days


def test_a_study_day_starts_at_4am_local_time(zone, monkeypatch):
    zone("Asia/Tokyo")
    review = datetime.fromisoformat("2026-12-02T21:00+09:00")  # a review due Wed 21:00 in Tokyo
    assert is_due(review, False, datetime.fromisoformat("2026-12-02T04:00+09:00"))  # due all Wednesday
    assert not is_due(review, False, datetime.fromisoformat("2026-12-02T03:59+09:00"))  # still Tuesday's night
    assert day_of(datetime.fromisoformat("2026-12-01T20:05+00:00")) == datetime(2026, 12, 2).date()  # 05:05 JST
    monkeypatch.setenv("QUIZ_DAY_STARTS", "0")
    assert is_due(review, False, datetime.fromisoformat("2026-12-02T00:00+09:00"))
    learning = datetime.fromisoformat("2026-12-02T10:00+09:00")  # a learning step: its minute, 20 min early
    assert is_due(learning, True, datetime.fromisoformat("2026-12-02T09:40+09:00"))
    assert not is_due(learning, True, datetime.fromisoformat("2026-12-02T09:39+09:00"))


def test_a_bad_day_start_hour_is_one_error_line_that_the_docs_quote(env, monkeypatch):
    monkeypatch.setenv("QUIZ_DAY_STARTS", "25")
    result = CliRunner().invoke(main, ["take", "--questions", str(env.deck)], catch_exceptions=False)
    message = "Error: $QUIZ_DAY_STARTS is '25', not an hour from 0 to 23 (the local hour a day starts at)"
    assert result.exit_code == 1 and result.stderr.strip() == message
    assert f"`{message}`" in DOCS.read_text(encoding="utf-8")


@pytest.mark.parametrize("tz", ["Asia/Tokyo", "America/New_York"])
def test_a_simulated_week_re_asks_failed_cards_the_same_day_and_stats_agrees_with_take(env, monkeypatch, zone, tz):
    """The done-when of issue 12: seven days of QUIZ_NOW, at varying local hours, in two time zones."""
    zone(tz)
    start = datetime.fromisoformat("2026-12-01T21:00").astimezone()  # 9 pm local, day 0

    def due_now(at: datetime) -> int:
        stats = json.loads(run(env, "stats", "--json", now=at.isoformat(), monkeypatch=monkeypatch).output)
        assert stats["forecast"][0]["date"] == day_of(at).isoformat()  # "today" is the local study day
        return stats["due_now"]

    # Day 0: two new cards. The first is failed (1), so it comes back within the session; then Good twice.
    result = run(
        env,
        "take",
        "--type",
        "recall",
        input="\n1\n\n3\n\n3\n\n3\n\n3\n",
        now=start.isoformat(),
        monkeypatch=monkeypatch,
    )
    assert result.exit_code == 0, result.output
    asked = [r[0] for r in reviews(env.db)]
    assert len(asked) == 5 and asked.count(asked[0]) == 3  # the failed card, asked three times the same day
    assert "Again, as its learning step says." in result.output
    assert due_now(start) == 0

    seen_due = 0
    for day in range(1, 8):
        for hour in (3, 8, 23):  # before the 4 am rollover, morning, late evening
            at = (start + timedelta(days=day)).replace(hour=hour, minute=30)
            expected = due_now(at)
            result = run(
                env,
                "take",
                "--due-only",
                "--type",
                "recall",
                input="\n3\n" * expected,
                now=at.isoformat(),
                monkeypatch=monkeypatch,
            )
            if expected:
                assert f"Answered {expected} of {expected}" in result.output, (at, result.output)
                seen_due += 1
            else:
                assert "Nothing due" in result.output, (at, result.output)
            assert due_now(at) == 0  # what take asked is exactly what stats said was due
    assert seen_due >= 2  # the cards came back during the week


def test_stats_forecast_and_take_agree_across_the_utc_date_line(env, monkeypatch, zone):
    """quiz.md finding 4: in Tokyo at 05:05 on Wed 2 Dec, `stats` put cards on "12-01" (UTC)."""
    zone("Asia/Tokyo")
    run(env, "take", "--type", "recall", input="\n4\n\n4\n", now="2026-11-25T20:05+00:00", monkeypatch=monkeypatch)
    due = sorted(dues(env.db).values())[0]
    at = datetime.fromisoformat(due).replace(hour=20, minute=5)
    stats = json.loads(run(env, "stats", "--json", now=at.isoformat(), monkeypatch=monkeypatch).output)
    local_day = at.astimezone().date()
    assert stats["forecast"][0]["date"] == local_day.isoformat() != at.date().isoformat()


# ---------------------------------------------------------------------------------------------- limits and modes


def test_the_daily_new_card_limit_holds_across_sessions_and_resets_the_next_day(env, monkeypatch):
    args = ("take", "--type", "recall", "--new-per-day", "1")
    assert "Answered 1 of 1" in run(env, *args, input="\n4\n").output
    second = run(env, *args, input="\n4\n")
    assert "daily limit of 1 new cards is reached" in second.output and len(reviews(env.db)) == 1
    tomorrow = run(env, *args, input="\n4\n", now="2026-03-03T18:00:00+00:00", monkeypatch=monkeypatch)
    assert "Answered 1 of 1" in tomorrow.output and len(reviews(env.db)) == 2


def test_take_with_ids_asks_exactly_those_cards_due_or_not(env):
    run(env, "take", "--type", "recall", input="\n4\n\n4\n")
    result = run(env, "take", "causal-masking", "--type", "recall", input="\n4\n")
    masking, scaling = titles()
    assert masking in result.output and scaling not in result.output
    assert [r[0] for r in reviews(env.db)][-1] == "causal-masking" and len(reviews(env.db)) == 3
    wrong = CliRunner().invoke(main, ["take", "causal-maskin", "--questions", str(env.deck)])
    assert wrong.exit_code == 1 and "did you mean 'causal-masking'" in wrong.stderr


def test_cram_practises_cards_not_due_without_touching_their_schedule(env):
    run(env, "take", "--type", "recall", input="\n4\n\n4\n")
    before = dues(env.db)
    assert "Nothing due" in run(env, "take").output
    result = run(env, "take", "--cram", "--type", "recall", input="\n1\n\n4\n\n4\n")  # a failure comes back
    assert result.exit_code == 0, result.output
    assert dues(env.db) == before
    assert [r[4] for r in reviews(env.db)] == ["take", "take", "cram", "cram", "cram"]


def test_review_ahead_asks_cards_not_yet_due_and_they_count(env):
    run(env, "take", "--type", "recall", input="\n4\n\n4\n")
    before = dues(env.db)
    result = run(env, "take", "--ahead", "--type", "recall", input="\n4\n\n4\n")
    assert "Not due yet: reviewing ahead." in result.output
    assert dues(env.db) != before and len(reviews(env.db)) == 4


# ---------------------------------------------------------------------------------------------- keys


def test_u_undoes_the_last_grade_and_asks_that_card_again(env):
    # Again on the first card, then u at the second card's first prompt: the first is asked again, graded Easy.
    result = run(env, "take", "--type", "recall", "--seed", "1", input="\n1\nu\n\n4\n\n4\n")
    assert result.exit_code == 0, result.output
    assert "Undone: your last answer to" in result.output
    assert [r[2] for r in reviews(env.db)] == [4, 4]  # the Again is gone from the log
    with sqlite3.connect(env.db) as con:  # and from the schedule: one review, no lapse, graduated
        assert con.execute("SELECT reviews, lapses FROM cards").fetchall() == [(1, 0), (1, 0)]
    assert "Answered 2 of 2:" in result.output


def test_undo_of_the_first_card_makes_it_new_again(env):
    run(env, "take", "--type", "recall", "--count", "1", input="\n4\nu\n")
    assert reviews(env.db) == [] and dues(env.db) == {}


def test_s_skips_without_grading_and_question_mark_is_i_dont_know(env):
    result = run(env, "take", "--type", "recall", input="s\n\n4\n")
    assert "Skipped: not graded, and still due." in result.output and len(reviews(env.db)) == 1
    args = ("take", "causal-masking", "--type", "choice", "--seed", "3")
    result = run(env, *args, input="?\n\n")
    assert "The answer:" in result.output
    assert reviews(env.db)[-1][2:4] == (1, 0)  # graded Again, counted wrong, not a guess


def test_suspend_keeps_a_card_out_until_unsuspended_and_reset_makes_it_new(env, monkeypatch):
    run(env, "take", "--type", "recall", input="\n4\n\n4\n")
    later = "2026-04-30T18:00:00+00:00"
    assert "Suspended: causal-masking" in run(env, "suspend", "causal-masking").output
    result = run(env, "take", "--type", "recall", input="\n4\n", now=later, monkeypatch=monkeypatch)
    masking, scaling = titles()
    assert masking not in result.output and scaling in result.output
    assert json.loads(run(env, "stats", "--json").output)["suspended"] == 1
    run(env, "suspend", "--off", "causal-masking")
    assert masking in run(env, "take", "--type", "recall", input="\n4\n").output
    assert "Reset 1 of 1" in run(env, "reset", "sqrt-dk-scaling").output
    assert "sqrt-dk-scaling" not in dues(env.db)
    assert "New card." in run(env, "take", "sqrt-dk-scaling", "--type", "recall", input="\n4\n").output


def test_show_with_db_lists_the_cards_history(env):
    run(env, "take", "--topic", "masking", "--type", "recall", input="\n1\n\n3\n\n3\n")
    result = run(env, "show", "causal-masking", "--db", str(env.db))
    assert result.exit_code == 0, result.output
    assert re.search(r"3 answers · 1 lapse|3 answers", result.output)
    assert result.output.count("recall") >= 3 and "again" in result.output and "Next review" in result.output


def test_the_help_documents_quiz_now_and_the_day_start():
    for args in (["--help"], ["take", "--help"]):
        text = CliRunner().invoke(main, args).output
        assert "QUIZ_NOW" in text and "QUIZ_DAY_STARTS" in text
