"""`quiz interview` as an interview: open questions graded by must-say ticks, follow-ups from related cards,
objective questions mixed in, a clock that runs (an injected one: nothing sleeps), a score per topic and the
cards to study next. Driven through CliRunner on decks in tmp_path, and the planner on the real deck."""

from __future__ import annotations

import dataclasses
import itertools
import re
import sqlite3
from collections import Counter
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from test_practice_support import EXEMPLARS, PROJECT, make_env, reviews

import quiz.interview
from quiz.cache import load_index
from quiz.cli import main
from quiz.interview import (
    FOLLOW_UP_MINUTES,
    MINUTES,
    Result,
    TicksError,
    parse_ticks,
    plan_interview,
    report,
    rubric_grade,
)
from quiz.session import Grade, Kind

QUESTIONS = PROJECT / "questions"


@pytest.fixture
def env(tmp_path, monkeypatch):
    return make_env(tmp_path, monkeypatch)


@pytest.fixture
def related_env(tmp_path, monkeypatch):
    """The two exemplar cards, related to each other, so an open question on one is followed up by the other."""
    env = make_env(tmp_path, monkeypatch)
    other = {"attention-core": "causal-masking", "masking": "sqrt-dk-scaling"}
    for topic, source in EXEMPLARS.items():
        path = env.deck / topic / source.name
        text = re.sub(r"^related:.*$", f"related: [{other[topic]}]", path.read_text(encoding="utf-8"), flags=re.M)
        path.write_text(text, encoding="utf-8")
    return env


class FakeClock:
    """The interview's clock, moved on by ``step`` seconds whenever the person types something."""

    def __init__(self, monkeypatch, step: float) -> None:
        self.t = 1000.0
        monkeypatch.setattr(quiz.interview, "now", lambda: self.t)
        real = click.prompt

        def prompt(*args, **kwargs):
            self.t += step
            return real(*args, **kwargs)

        monkeypatch.setattr(click, "prompt", prompt)


def run(*args: str, input: str = ""):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def interview(deck: Path, *args: str, input: str = ""):
    return run("interview", "--questions", str(deck), *args, input=input)


def detail_of(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT card_id, kind, grade, detail FROM reviews ORDER BY id").fetchall()


def real_deck():
    return load_index(QUESTIONS)


# --------------------------------------------------------------------------------------------------
# The plan


@pytest.mark.parametrize("minutes", [10, 30, 60])
def test_at_least_half_of_the_questions_are_open_and_objective_ones_are_mixed_in(minutes):
    cards = real_deck()
    kinds = Counter()
    for seed in range(20):
        planned = plan_interview(cards, minutes, seed).planned
        open_share = sum(a.open for a in planned) / len(planned)
        assert open_share >= 0.5, (seed, [a.question.kind for a in planned])
        kinds.update(a.question.kind for a in planned)
    assert kinds[Kind.CHOICE] > 0 and kinds[Kind.NUMERIC] > 0
    assert kinds[Kind.RECALL] < sum(kinds.values())  # not only open questions either


def test_follow_ups_come_from_the_related_cards_of_the_open_question_before_them():
    cards = real_deck()
    follow_ups = 0
    for seed in range(20):
        planned = plan_interview(cards, 30, seed).planned
        for before, asked in itertools.pairwise(planned):
            if asked.follow_up_of is not None:
                follow_ups += 1
                assert asked.follow_up_of is before.question.card and before.open and asked.open
                assert asked.question.card.id in before.question.card.related
        ids = [a.question.card.id for a in planned]
        assert len(ids) == len(set(ids))  # no card is asked twice
    assert follow_ups >= 20


@pytest.mark.parametrize("minutes", [4, 10, 30])
def test_the_plan_fills_the_minutes_by_the_per_kind_time_estimates(minutes):
    for seed in range(10):
        planned = plan_interview(real_deck(), minutes, seed).planned
        estimate = sum(a.minutes for a in planned)
        assert estimate <= minutes
        assert estimate > minutes - max(MINUTES.values()) - FOLLOW_UP_MINUTES
    assert len(plan_interview(real_deck(), 10, 5).planned) >= 3  # the review's 5-question "10 minutes" was 0.3


def test_the_same_seed_plans_the_same_interview():
    def shape(seed):
        return [
            (a.question.card.id, a.question.kind, a.question.draw_seed)
            for a in plan_interview(real_deck(), 30, seed).planned
        ]

    assert shape(4) == shape(4)
    assert shape(4) != shape(5)


def test_open_questions_prefer_cards_with_a_rubric():
    # Every card of the shipped deck has a rubric, so the preference only shows on a deck where some lack one (a
    # user's): here every other card of the real deck, its rubric dropped.
    deck = sorted(real_deck(), key=lambda c: c.id)
    cards = [c if i % 2 else dataclasses.replace(c, must_say=()) for i, c in enumerate(deck)]
    with_rubric = sum(bool(c.must_say) for c in cards) / len(cards)
    assert 0.4 < with_rubric < 0.6
    asked = [a for seed in range(20) for a in plan_interview(cards, 30, seed).planned if a.open and not a.follow_up_of]
    assert sum(bool(a.question.card.must_say) for a in asked) / len(asked) > with_rubric


# --------------------------------------------------------------------------------------------------
# The rubric


def test_ticks_are_read_as_point_numbers():
    assert parse_ticks("1 3", 4) == (0, 2)
    assert parse_ticks("3,1", 4) == (0, 2)
    assert parse_ticks("13", 4) == (0, 2)
    assert parse_ticks("a", 4) == (0, 1, 2, 3)
    assert parse_ticks("", 4) == ()
    for bad in ("5", "x", "1 9", "0 2"):
        with pytest.raises(TicksError, match="1 to 4"):
            parse_ticks(bad, 4)


def test_the_share_of_points_said_suggests_the_grade():
    assert rubric_grade(4, 4) == Grade.GOOD and rubric_grade(3, 4) == Grade.GOOD
    assert rubric_grade(2, 4) == Grade.HARD and rubric_grade(1, 2) == Grade.HARD
    assert rubric_grade(1, 4) == Grade.AGAIN and rubric_grade(0, 3) == Grade.AGAIN


# --------------------------------------------------------------------------------------------------
# The command


def open_first(env, seed_range=range(50), minutes=10, card="causal-masking"):
    """A seed whose interview on this deck starts with an open question on ``card`` (whose rubric has the 4 points
    the tests tick), and that question's card."""
    cards = load_index(env.deck)
    for seed in seed_range:
        first = plan_interview(cards, minutes, seed).next()
        if first.open and first.question.card.id == card:
            return seed, first
    raise AssertionError("no seed starts with an open question")


def test_an_open_question_is_answered_aloud_and_graded_by_the_must_say_ticks(env):
    seed, first = open_first(env)
    card = first.question.card
    assert len(card.must_say) == 4
    # Enter after answering aloud; 3 of 4 points said; Enter keeps the suggested Good; then q.
    result = interview(env.deck, "--minutes", "10", "--seed", str(seed), input="\n1 2 4\n\nq\n")
    assert "Answer aloud" in result.output
    assert "A strong answer says:" in result.output and card.must_say[2] in result.output
    assert "You said 3 of 4 points: good." in result.output
    assert detail_of(env.db)[0] == (card.id, "recall", 3, "said 3/4: 1 2 4")
    assert "not said: " + card.must_say[2] not in result.output  # graded Good: not among the missed


def test_the_grade_may_be_changed_from_the_suggested_one(env):
    seed, _first = open_first(env)
    result = interview(env.deck, "--minutes", "10", "--seed", str(seed), input="\n1\n2\nq\n")
    assert "You said 1 of 4 points: again." in result.output
    assert detail_of(env.db)[0][2] == 2  # the person's own Hard, not the suggested Again


def test_ticks_that_are_not_point_numbers_get_one_line_and_are_asked_again(env):
    seed, _ = open_first(env)
    result = interview(env.deck, "--minutes", "10", "--seed", str(seed), input="\n7\na\n\nq\n")
    line = (
        "'7' is not a list of point numbers; type the numbers of the points you said, 1 to 4 (like 1 3), "
        "a for all, Enter for none."
    )
    assert line in " ".join(result.output.split())
    assert line in (PROJECT / "docs" / "bad-input.md").read_text(encoding="utf-8")
    assert detail_of(env.db)[0][3] == "said 4/4: 1 2 3 4"


def test_a_follow_up_comes_from_the_related_card(related_env):
    seed, first = open_first(related_env)
    result = interview(related_env.deck, "--minutes", "10", "--seed", str(seed), input="\na\n\n\na\n\nq\n")
    assert f"And what about this? (a follow-up to “{first.question.card.title}”)" in result.output
    rows = detail_of(related_env.db)
    assert [r[1] for r in rows] == ["recall", "recall"]
    assert rows[1][0] == first.question.card.related[0]
    assert rows[1][3].endswith(f"follow-up to {first.question.card.id}")


def test_the_clock_runs_and_the_time_left_is_shown_at_each_question(env, monkeypatch):
    FakeClock(monkeypatch, step=20)  # every answer typed takes 20 s
    seed, _ = open_first(env)
    result = interview(env.deck, "--minutes", "10", "--seed", str(seed), input="\na\n\n" + "q\n")
    lefts = re.findall(r"(\d+:\d\d) left", result.output)
    assert lefts[:2] == ["10:00", "9:00"]  # three prompts of 20 s each on the first, open, question


def test_running_out_of_time_ends_the_interview_after_the_current_question(env, monkeypatch):
    FakeClock(monkeypatch, step=100)
    seed, _ = open_first(env, minutes=4)
    result = interview(env.deck, "--minutes", "4", "--seed", str(seed), input="\na\n\n" * 5)
    assert "Over time by 1:00: time is up, the interview ends here." in result.output
    assert "Time is up." in result.output
    assert "Answered 1 question (1 open) in 5.0 minutes" in result.output
    assert len(reviews(env.db)) == 1  # the question being answered counts; no other is asked


def test_an_answer_that_runs_over_its_estimate_is_flagged(env, monkeypatch):
    FakeClock(monkeypatch, step=120)  # 6 minutes on an open question estimated at 3
    seed, _ = open_first(env, minutes=30)
    result = interview(env.deck, "--minutes", "30", "--seed", str(seed), input="\na\n\nq\n")
    assert "Running over: that took 6:00, against about 3 min for an open question. 24:00 left." in result.output


def test_when_the_plan_is_used_up_before_the_time_more_questions_are_drawn(env, monkeypatch):
    FakeClock(monkeypatch, step=1)
    result = interview(env.deck, "--minutes", "1", "--seed", "0", input="\na\n\n?\n")
    assert "about 1 question (1 open" in result.output  # 3 minutes for the open one: nothing else fits in 1
    assert len(reviews(env.db)) == 2  # both cards of the deck are asked: 4 s of the minute were used
    assert "No more questions in this selection." in result.output


def test_the_report_scores_each_topic_and_names_the_cards_to_study_next():
    cards = real_deck()
    by_id = {c.id: c for c in cards}
    plan = plan_interview([by_id["causal-masking"], by_id["sqrt-dk-scaling"], by_id["flash-attention"]], 30, 1)
    asked = {a.question.card.id: a for a in plan.planned}
    results = [
        Result(asked["causal-masking"], Grade.AGAIN, None, (0,))
        if asked["causal-masking"].open
        else Result(asked["causal-masking"], Grade.AGAIN, False),
        Result(asked["sqrt-dk-scaling"], Grade.GOOD, True),
        Result(asked["flash-attention"], Grade.GOOD, True),
    ]
    result = report(results, 3, 300.0, cards)
    assert [(t.topic, t.right, t.asked) for t in result.topics] == [
        ("attention-core", 1, 1),
        ("efficient-attention", 1, 1),
        ("masking", 0, 1),
    ]
    assert [t.topic for t in result.weakest] == ["masking"]
    masking = sorted(c.id for c in cards if c.topic == "masking" and c.id != "causal-masking")
    assert result.study == ["causal-masking", *masking[:3]]
    assert [r.card.id for r in result.missed] == ["causal-masking"]


def test_the_command_prints_the_score_per_topic_the_missed_cards_and_what_to_study(env):
    seed, first = open_first(env, card="sqrt-dk-scaling")  # its topic comes first among the missed
    # the open question: nothing said (Again); then wrong or "don't know" on whatever comes next
    result = interview(env.deck, "--minutes", "10", "--seed", str(seed), input="\n\n\n?\n?\n\n\n\n")
    card = first.question.card
    text = " ".join(result.output.split())
    assert re.search(r"Score: \d/\d", text)
    assert card.topic_title in result.output and f"0/{len(card.must_say)}" in result.output
    assert f"{card.id} · {card.title} — not said: {card.must_say[0]}; {card.must_say[1]}" in text
    assert f"--topic {card.topic}" in text
    assert re.search(rf"Study next: quiz take {card.id}\b", text)


def test_practice_only_logs_the_answers_and_leaves_the_schedule(env):
    seed, _ = open_first(env)
    interview(env.deck, "--minutes", "10", "--seed", str(seed), "--practice", input="\na\n\nq\n")
    assert [r[4] for r in reviews(env.db)] == ["interview"]
    with sqlite3.connect(env.db) as con:
        assert con.execute("SELECT COUNT(*) FROM cards").fetchone() == (0,)


def test_without_practice_the_answers_count_as_reviews(env):
    seed, _ = open_first(env)
    interview(env.deck, "--minutes", "10", "--seed", str(seed), input="\na\n\nq\n")
    with sqlite3.connect(env.db) as con:
        assert con.execute("SELECT COUNT(*) FROM cards").fetchone() == (1,)


def test_stopping_before_any_answer_prints_no_empty_score(env):
    result = interview(env.deck, "--minutes", "10", "--seed", "1", input="q\n")
    assert "Score:" not in result.output
    assert "No question answered: nothing to score." in result.output


def test_a_card_without_a_rubric_is_graded_on_the_model_answer_alone(tmp_path, monkeypatch):
    env = make_env(tmp_path, monkeypatch)
    for source in EXEMPLARS.values():  # drop the rubrics
        path = next(env.deck.glob(f"*/{source.name}"))
        text = re.sub(r"^must_say:\n(  - .*\n)+", "", path.read_text(encoding="utf-8"), flags=re.M)
        path.write_text(text, encoding="utf-8")
    seed, _ = open_first(env)
    result = interview(env.deck, "--minutes", "10", "--seed", str(seed), input="\n3\nq\n")
    assert "A strong answer says:" not in result.output
    assert "How well did you answer?" in result.output
    assert detail_of(env.db)[0][1:3] == ("recall", 3)


# --------------------------------------------------------------------------------------------------
# The rubrics in the bank


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]{5,}", text.lower())}


def test_every_rubric_point_is_drawn_from_its_cards_answer():
    # that every shipped card has a rubric of 2 to 5 points is test_bank's; here: each point is one the card makes
    cards = real_deck()
    assert all(c.must_say for c in cards)
    for card in cards:
        said = _words(card.answer + " " + card.explanation)
        for point in card.must_say:
            assert _words(point) & said or not _words(point), (card.id, point)  # a point the card itself makes


def test_a_rubric_of_one_point_is_refused_in_one_line(deck_builder):
    from conftest import VALID_CARD, VALID_MODULE

    deck_builder.card(VALID_CARD + 'must_say:\n  - "two"\n')
    deck_builder.module(text=VALID_MODULE)
    result = run("check", "--questions", str(deck_builder.questions), "--answers", str(deck_builder.answers))
    assert result.exit_code == 1
    line = "tiny-card.yaml:14: must_say: list should have at least 2 items after validation, not 1 [FIELD006]"
    assert f"Error: questions/scale/{line}" in result.output
    assert f"`Error: questions/scale/{line}`" in (PROJECT / "docs" / "bad-input.md").read_text(encoding="utf-8")
