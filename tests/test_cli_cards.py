"""The card commands through click's CliRunner: exit codes and the exact text a user sees."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import VALID_CARD, VALID_MODULE

from quiz.cli import main


@pytest.fixture
def run(deck_builder):
    """Invoke `quiz` against the fixture deck and its own (trusted) answers folder."""

    def invoke(*args: str, trust: bool = True):
        deck = ["--questions", str(deck_builder.questions), "--answers", str(deck_builder.answers)]
        return CliRunner().invoke(main, [*args, *deck, *(["--trust-answers"] if trust else [])], catch_exceptions=False)

    return invoke


def test_list_shows_every_card(valid_deck, run):
    result = run("list")
    assert result.exit_code == 0
    assert "tiny-card" in result.stdout and "A tiny card" in result.stdout


def test_list_json_is_machine_readable(valid_deck, run):
    rows = json.loads(run("list", "--json").stdout)
    assert rows == [
        {"id": "tiny-card", "title": "A tiny card", "topic": "scale", "difficulty": "easy", "tags": ["demo"]}
    ]


def test_list_filters_by_topic(valid_deck, run):
    assert json.loads(run("list", "--topic", "masking", "--json").stdout) == []


def test_unknown_topic_is_a_usage_error(valid_deck, run):
    result = run("list", "--topic", "vibes")
    assert result.exit_code == 2
    assert "Invalid value for '--topic': 'vibes' is not one of" in result.stderr


def test_show_prints_the_question_only(valid_deck, run):
    result = run("show", "tiny-card")
    assert result.exit_code == 0
    assert "What is one plus one?" in result.stdout and "Two." not in result.stdout


def test_show_answer_runs_the_proofs_and_shows_the_evidence(valid_deck, run):
    result = run("show", "tiny-card", "--answer")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "Two." in text and "Evidence" in text and text.count("rejected ✓") == 2 and "ALSO HOLDS" not in text


def test_show_unknown_id_is_one_line_error(valid_deck, run):
    result = run("show", "tiny-crd")
    assert result.exit_code == 1
    assert result.stderr == "Error: no card 'tiny-crd' in questions; did you mean 'tiny-card'?\n"


def test_verify_json_has_one_object_per_claim(valid_deck, run):
    result = run("verify", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [r["claim"] for r in rows] == ["one_plus_one_is_two", "two_times_two_is_four"]
    first = rows[0]
    assert (first["card"], first["holds"], first["measured"], first["expected"]) == ("tiny-card", True, 2, 2)
    assert first["counterfactual_holds"] is False and first["seconds"] >= 0


def test_verify_exits_1_when_a_counterfactual_also_holds(deck_builder, run):
    deck_builder.card()
    deck_builder.module(text=VALID_MODULE.replace("counterfactual_measured=2 + 3", "counterfactual_measured=2 + 2"))
    result = run("verify")
    assert result.exit_code == 1
    assert "HOLDS" in result.stdout and "1 failed" in result.stdout


def test_verify_reports_a_claim_that_raises_and_goes_on(deck_builder, run):
    deck_builder.card()
    deck_builder.module(text=VALID_MODULE.replace("return Evidence(measured=1 + 1", "return Evidence(measured=1 / 0"))
    rows = json.loads(run("verify", "--json").stdout)
    assert rows[0]["error"] == "ZeroDivisionError: division by zero" and rows[0]["holds"] is False
    assert rows[1]["holds"] is True


def test_check_reports_a_valid_deck(valid_deck, run):
    result = run("check")
    assert (result.exit_code, result.stdout) == (0, "1 cards, 2 claims: all valid\n")


def test_check_prints_one_error_line_per_problem_and_exits_1(deck_builder, run):
    deck_builder.card(VALID_CARD.replace("difficulty: easy", "difficulty: trivial") + "colour: red\n")
    deck_builder.module()
    result = run("check")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: questions/scale/tiny-card.yaml:4: difficulty: input should be 'easy', 'medium' or 'hard' [FIELD006]",
        "Error: questions/scale/tiny-card.yaml:14: colour: unknown field 'colour'; remove it or fix its "
        "spelling [FIELD002]",
    ]
    assert "Traceback" not in result.output


def test_empty_deck_is_one_line_error(deck_builder, run):
    result = run("list")
    assert result.exit_code == 1
    assert result.stderr == "Error: questions: no cards found; a deck holds <topic>/<card-id>.yaml files [DECK003]\n"


def test_verify_reports_a_nan_measurement_as_a_failure_with_its_reason(deck_builder, run):
    deck_builder.card()
    deck_builder.module(text=VALID_MODULE.replace("measured=1 + 1,", "measured=float('nan'),"))
    result = run("verify", "--json")
    rows = json.loads(result.stdout)
    assert result.exit_code == 1 and rows[0]["error"] == "measured value is nan"


def test_a_nan_counterfactual_counts_as_the_broken_mechanism_failing(deck_builder, run):
    deck_builder.card()
    deck_builder.module(
        text=VALID_MODULE.replace("counterfactual_measured=1 - 1", "counterfactual_measured=float('nan')")
    )
    rows = json.loads(run("verify", "--json").stdout)
    assert rows[0]["passed"] is True and rows[0]["counterfactual_measured"] == "nan"


def test_a_decks_own_proofs_are_not_run_without_trust(valid_deck, run):
    result = run("verify", trust=False)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: running proofs from answers executes its code; pass --trust-answers if you trust that folder\n"
    )


def test_checking_a_deck_reads_its_proofs_without_trust(valid_deck, run):
    assert run("check", trust=False).exit_code == 0


def test_a_claim_that_hangs_is_stopped_and_reported(deck_builder, monkeypatch):
    from quiz import proofs

    deck_builder.card()
    deck_builder.module(
        text=VALID_MODULE.replace(
            "    return Evidence(measured=1 + 1", "    while True: pass\n    return Evidence(measured=1 + 1"
        )
    )
    deck = deck_builder.load()
    result = proofs.run_claim(deck.get("tiny-card"), 0, deck.answers_dir, trusted=True, timeout=0.2)
    assert result.error == "ClaimTimeout: ran past the 0.2 s limit" and not result.passed


def test_a_claim_returning_the_wrong_type_is_reported(deck_builder, run):
    deck_builder.card()
    deck_builder.module(
        text=VALID_MODULE.replace(
            "    return Evidence(measured=1 + 1", "    return 2\n    return Evidence(measured=1 + 1"
        )
    )
    rows = json.loads(run("verify", "--json").stdout)
    assert rows[0]["error"] == "returned int, not Evidence" and rows[1]["passed"] is True
