"""`quiz take`, `quiz interview`, `quiz stats` and `quiz export anki`, driven through CliRunner on decks and
databases in tmp_path."""

from __future__ import annotations

import json
import os
import random
import re
import sqlite3
import subprocess
import sys
import zipfile
from datetime import datetime

import pytest
from click.testing import CliRunner
from test_practice_support import (
    GENERATED_NUMERIC,
    edit_question,
    make_env,
    masking_card,
    masking_choices,
    reviews,
    titles,
    write_deck,
)

from quiz.cli import main


@pytest.fixture
def env(tmp_path, monkeypatch):
    return make_env(tmp_path, monkeypatch)


def run(*args: str, input: str = "", now: str | None = None, monkeypatch=None):
    if now and monkeypatch:
        monkeypatch.setenv("QUIZ_NOW", now)
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def letter_of(output: str, text: str) -> str:
    match = re.search(r"([a-j])\) " + re.escape(text[:30]), output)
    assert match, output
    return match.group(1)


# --------------------------------------------------------------------------------------------------
# The four kinds of question


def take_masking_choice(env, answer: str = ""):
    """The masking card's multiple-choice question, always drawn the same way (seed 3)."""
    args = ("take", "--questions", str(env.deck), "--topic", "masking", "--type", "choice", "--seed", "3")
    return run(*args, input=answer)


def test_recall_reveals_the_answer_and_saves_the_self_grade(env):
    # Easy graduates the first card; Again keeps the second in its steps: it is asked twice more (Good, Good).
    result = run(
        "take", "--questions", str(env.deck), "--type", "recall", "--seed", "1", input="\n4\n\nm\n1\n\n3\n\n3\n"
    )
    assert result.exit_code == 0, result.output
    assert "Answer" in result.output and "Explanation" in result.output  # the explanation on m
    assert [r[2] for r in reviews(env.db)] == [4, 1, 3, 3]
    assert {r[1] for r in reviews(env.db)} == {"recall"}
    assert "Answered 2 of 2 (4 answers with the learning steps)" in result.output


def test_a_wrong_choice_shows_why_and_grades_itself_again(env):
    right_text, wrong_text, why = masking_choices()
    first = take_masking_choice(env)
    wrong = letter_of(first.output, wrong_text)
    result = take_masking_choice(env, wrong + "\n\n")
    assert "Not quite" in result.output
    assert " ".join(why.split()[:6]) in " ".join(result.output.split())
    assert "The answer: " + right_text[:30] in result.output
    assert reviews(env.db) == [("causal-masking", "choice", 1, 0, "take")]


def test_a_choice_question_replaces_the_open_question_above_the_choices(env):
    """The open question asks more than the options answer; the choices are shown under the narrower stem."""
    stem, question = masking_card()["choice_question"], masking_card()["question"]
    opening = " ".join(question.split()[:6])
    output = " ".join(take_masking_choice(env).output.split())
    assert stem in output and opening not in output
    recall = run("take", "--questions", str(env.deck), "--topic", "masking", "--type", "recall", "--seed", "3")
    assert opening in " ".join(recall.output.split()) and stem not in recall.output


def test_a_card_without_a_choice_question_shows_its_question_above_the_choices(env):
    path = env.deck / "masking" / "causal-masking.yaml"
    text = re.sub(r"^choice_question:.*\n", "", path.read_text(encoding="utf-8"), flags=re.M)
    path.write_text(text, encoding="utf-8")
    output = " ".join(take_masking_choice(env).output.split())
    assert " ".join(masking_card()["question"].split()[:6]) in output


def test_a_right_choice_grades_itself_good(env):
    first = take_masking_choice(env)
    right = letter_of(first.output, masking_choices()[0])
    take_masking_choice(env, right + "\n\n")
    assert reviews(env.db) == [("causal-masking", "choice", 3, 1, "take")]


@pytest.mark.parametrize("typed", ["2 GiB", "2147483648", "2,147,483,648 B", "2048 MiB", "2.147e9", "2^31"])
def test_a_numeric_answer_is_right_in_any_unit_that_means_the_same(env, typed):
    result = run("take", "--questions", str(env.deck), "--type", "numeric", input=typed + "\n\n")
    assert "✓ Right" in result.output, result.output
    assert reviews(env.db) == [("sqrt-dk-scaling", "numeric", 3, 1, "take")]


def test_a_numeric_answer_outside_the_tolerance_is_wrong_and_shows_the_value_and_the_working(env):
    result = run("take", "--questions", str(env.deck), "--type", "numeric", input="3 GiB\n\n")
    assert "Not quite" in result.output
    assert "2 GiB (2,147,483,648 B)" in result.output
    assert "Working: " in result.output and "= 2,147,483,648" in result.output
    assert reviews(env.db) == [("sqrt-dk-scaling", "numeric", 1, 0, "take")]


def test_gb_for_gib_is_the_right_figure_in_the_other_convention_graded_hard_not_a_lapse(env):
    result = run("take", "--questions", str(env.deck), "--type", "numeric", input="2 GB\n\n")
    assert "other convention" in result.output  # 2 GB is 7 % short of 2 GiB: the arithmetic was right
    assert reviews(env.db) == [("sqrt-dk-scaling", "numeric", 2, 1, "take")]


def test_an_unreadable_numeric_answer_is_asked_again_not_marked_wrong(env):
    result = run("take", "--questions", str(env.deck), "--type", "numeric", input="two gigs\n2 GiB in FLOPs\n2 GiB\n\n")
    assert "cannot read 'two gigs'" in result.output
    assert "✓ Right" in result.output
    assert len(reviews(env.db)) == 1


def test_generated_numeric_questions_draw_fresh_configurations_with_the_formula_answer(tmp_path, monkeypatch):
    from answers.formulas import FORMULAS
    from quiz.cache import load_index
    from quiz.session import Kind, plan

    monkeypatch.setenv("QUIZ_CACHE_DIR", str(tmp_path / "cache"))
    deck = write_deck(tmp_path / "deck", numeric=GENERATED_NUMERIC)
    cards = [c for c in load_index(deck) if c.numeric]
    now = datetime(2026, 3, 2, 18)
    drawn = []
    for seed in range(12):
        question = plan(cards, {}, now, seed=seed, kind=Kind.NUMERIC)[0]
        instance = question.numeric
        assert instance.expected == FORMULAS["kv_cache_bytes"](**instance.params)
        drawn.append(tuple(sorted(instance.params.items())))
    assert len(set(drawn)) > 3
    again = plan(cards, {}, now, seed=5, kind=Kind.NUMERIC)[0].numeric
    assert again.params == dict(drawn[5])  # the same seed draws the same configuration


# --------------------------------------------------------------------------------------------------
# Scheduling


def test_due_cards_come_before_new_ones_and_new_is_limited(env, monkeypatch):
    run("take", "--questions", str(env.deck), "--topic", "masking", "--type", "recall", input="\n1\n")
    later = "2026-03-03T18:00:00+00:00"
    result = run(
        "take", "--questions", str(env.deck), "--type", "recall", "--new", "0", now=later, monkeypatch=monkeypatch
    )
    masking, scaling = titles()
    assert masking in result.output and scaling not in result.output
    result = run(
        "take", "--questions", str(env.deck), "--type", "recall", "--due-only", now=later, monkeypatch=monkeypatch
    )
    assert scaling not in result.output
    result = run(
        "take", "--questions", str(env.deck), "--type", "recall", input="\n3\n", now=later, monkeypatch=monkeypatch
    )
    assert result.output.index(masking) < result.output.index(scaling)


def test_editing_a_card_keeps_its_progress_and_flags_it_for_re_review(env, monkeypatch):
    run("take", "--questions", str(env.deck), "--topic", "masking", "--type", "recall", input="\n4\n")
    path = env.deck / "masking" / "causal-masking.yaml"
    path.write_text(re.sub(r"^title: .*$", "title: A new title", path.read_text(), flags=re.M), encoding="utf-8")
    assert "Nothing due" in run("take", "--questions", str(env.deck), "--topic", "masking").output
    words = edit_question(path)
    result = run("take", "--questions", str(env.deck), "--topic", "masking", "--type", "recall", input="\n3\n")
    assert "This card changed since you last reviewed it" in result.output
    assert words in result.output
    with sqlite3.connect(env.db) as con:
        assert con.execute("SELECT reviews FROM cards WHERE id = 'causal-masking'").fetchone() == (2,)


def test_an_invalid_deck_is_reported_and_never_cached(env):
    path = env.deck / "masking" / "causal-masking.yaml"
    path.write_text(path.read_text().replace("difficulty: easy", "difficulty: trivial"), encoding="utf-8")
    result = run("take", "--questions", str(env.deck))
    assert result.exit_code == 1
    assert "Error:" in result.output and "difficulty" in result.output


# --------------------------------------------------------------------------------------------------
# Leaving, errors, proofs


def test_end_of_input_is_an_interruption_that_keeps_given_answers(env):
    result = run("take", "--questions", str(env.deck), "--type", "recall", input="\n3\n")  # input ends at question 2
    assert result.exit_code == 130  # interrupted, as a shell reports Ctrl-C; q is the way to stop with 0
    assert "Interrupted. Every answer you gave is saved." in result.output
    assert len(reviews(env.db)) == 1


def test_q_quits_at_any_prompt(env):
    result = run("take", "--questions", str(env.deck), "--type", "recall", input="q\n")
    assert result.exit_code == 0 and "Stopped" in result.output
    assert reviews(env.db) == []


@pytest.mark.parametrize(
    "content, why",
    [
        (b"this is my shopping list, not a database\n" * 4, "not SQLite"),
        (None, "belongs to another program"),
    ],
)
def test_a_foreign_or_corrupt_database_is_one_error_line_and_left_untouched(env, content, why):
    if content is None:
        with sqlite3.connect(env.db) as con:
            con.execute("CREATE TABLE recipes (name TEXT)")
    else:
        env.db.write_bytes(content)
    before = env.db.read_bytes()
    result = run("take", "--questions", str(env.deck))
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and why in errors[0], result.output
    assert env.db.read_bytes() == before


def test_no_matching_cards_is_a_user_error(env):
    result = run("take", "--questions", str(env.deck), "--tag", "no-such-tag")
    assert result.exit_code == 1 and result.output.startswith("Error: no cards match")


def test_a_bad_option_is_a_usage_error(env):
    assert run("take", "--new", "-3").exit_code == 2


def test_p_after_an_answer_runs_the_proofs_and_shows_the_evidence(env):
    first = take_masking_choice(env)
    right = letter_of(first.output, masking_choices()[0])
    result = take_masking_choice(env, f"{right}\np\n\n")
    assert "Evidence" in result.output
    claims = masking_card()["claims"]
    assert claims[0]["proof"][:10] in result.output  # the claim column folds long names
    assert f"{len(claims)} of {len(claims)} claims proved by running code." in result.output


def test_take_never_imports_torch(env):
    code = (
        "import sys\n"
        "from quiz.cli import main\n"
        "try:\n"
        f"    main(['take', '--questions', {str(env.deck)!r}, '--type', 'recall'], standalone_mode=False)\n"
        "finally:\n"
        "    print('TORCH', 'torch' in sys.modules, file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], input="\n3\n\n3\n", capture_output=True, text=True, timeout=60)
    assert "Answered 2 of 2" in done.stdout, done.stderr
    assert "TORCH False" in done.stderr


# --------------------------------------------------------------------------------------------------
# Stats, interview, Anki


def test_stats_reports_reviews_accuracy_retention_mastery_and_a_week_forecast(env, monkeypatch):
    first = take_masking_choice(env)
    wrong = letter_of(first.output, masking_choices()[1])
    take_masking_choice(env, wrong + "\n\n")
    run("take", "--questions", str(env.deck), "--topic", "attention-core", "--type", "numeric", input="2 GiB\n\n")
    data = json.loads(run("stats", "--json", "--questions", str(env.deck)).output)
    assert data["reviews"] == 2 and data["seen"] == 2 and data["accuracy"] == 0.5
    by_topic = {t["topic"]: t for t in data["topics"]}
    assert by_topic["masking"]["accuracy"] == 0.0 and by_topic["attention-core"]["accuracy"] == 1.0
    assert 0 < by_topic["attention-core"]["mastery"] <= 1
    assert len(data["forecast"]) == 7 and data["forecast"][0] == {"date": "2026-03-02", "due": 2}
    text = run("stats", "--questions", str(env.deck)).output
    assert "Masking and decoding" in text and "Due:" in text


def test_interview_balances_topics(tmp_path, monkeypatch):
    from quiz.cache import load_index
    from quiz.interview import plan_interview

    monkeypatch.setenv("QUIZ_CACHE_DIR", str(tmp_path / "cache"))
    cards = load_index(write_deck(tmp_path / "deck"))
    interview = plan_interview(cards, minutes=10, seed=random.randrange(1000))
    assert sorted(a.question.card.topic for a in interview.planned) == ["attention-core", "masking"]
    assert interview.planned[0].open  # an interview opens with an open question


def test_export_anki_writes_an_apkg_with_stable_note_ids(env, tmp_path):
    first, second = tmp_path / "a.apkg", tmp_path / "b.apkg"
    assert run("export", "anki", str(first), "--questions", str(env.deck)).exit_code == 0
    assert run("export", "anki", str(second), "--questions", str(env.deck)).exit_code == 0

    def notes(path):
        with zipfile.ZipFile(path) as z:
            (tmp_path / "c.anki2").write_bytes(z.read("collection.anki2"))
        with sqlite3.connect(tmp_path / "c.anki2") as con:
            return sorted(con.execute("SELECT guid, mid, flds FROM notes").fetchall())

    a, b = notes(first), notes(second)
    assert len(a) == 3  # two cards and the numeric question of one
    assert [(g, m) for g, m, _ in a] == [(g, m) for g, m, _ in b]
    assert any("\\(" in flds for _, _, flds in a)  # math kept for MathJax


def test_export_anki_refuses_a_path_that_is_not_apkg(env, tmp_path):
    result = run("export", "anki", str(tmp_path / "deck.zip"), "--questions", str(env.deck))
    assert result.exit_code == 1 and "Error:" in result.output


# --------------------------------------------------------------------------------------------------
# The card index


def test_the_index_is_read_from_the_cache_until_a_card_file_changes(tmp_path, monkeypatch):
    import quiz.deck
    from quiz.cache import load_index

    monkeypatch.setenv("QUIZ_CACHE_DIR", str(tmp_path / "cache"))
    deck = write_deck(tmp_path / "deck")
    built = load_index(deck)
    assert list((tmp_path / "cache").glob("index-*.json"))

    def no_parsing(*args, **kwargs):
        raise AssertionError("the deck was parsed although no file changed")

    monkeypatch.setattr(quiz.deck, "load_deck", no_parsing)
    assert [c.data for c in load_index(deck)] == [c.data for c in built]

    path = deck / "masking" / "causal-masking.yaml"
    words = edit_question(path)
    with pytest.raises(AssertionError, match="was parsed"):
        load_index(deck)
    monkeypatch.undo()
    monkeypatch.setenv("QUIZ_CACHE_DIR", str(tmp_path / "cache"))
    rebuilt = {c.id: c for c in load_index(deck)}
    assert words in rebuilt["causal-masking"].question
    assert rebuilt["causal-masking"].content_hash != {c.id: c for c in built}["causal-masking"].content_hash


def test_a_cached_index_loads_without_yaml_or_pydantic(tmp_path):
    deck = write_deck(tmp_path / "deck")
    code = (
        "import sys\n"
        "from quiz.cache import load_index\n"
        f"cards = load_index({str(deck)!r})\n"
        "print(len(cards), 'yaml' in sys.modules, 'pydantic' in sys.modules)\n"
    )
    env = {**os.environ, "QUIZ_CACHE_DIR": str(tmp_path / "cache")}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert first.stdout.split() == ["2", "True", "True"], first.stderr  # built: the deck was validated
    second = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert second.stdout.split() == ["2", "False", "False"], second.stderr


def test_take_reads_no_yaml_and_imports_no_pydantic_once_the_index_is_cached(env):
    code = (
        "import sys\n"
        "from quiz.cli import main\n"
        "try:\n"
        f"    main(['take', '--questions', {str(env.deck)!r}, '--type', 'recall'], standalone_mode=False)\n"
        "finally:\n"
        "    print('LOADED', sorted(m for m in ('yaml', 'pydantic', 'torch') if m in sys.modules), file=sys.stderr)\n"
    )
    warm = subprocess.run([sys.executable, "-c", code], input="q\n", capture_output=True, text=True, timeout=60)
    assert "LOADED" in warm.stderr, warm.stderr  # the first run builds the index (and may parse YAML)
    done = subprocess.run([sys.executable, "-c", code], input="q\n", capture_output=True, text=True, timeout=60)
    assert "LOADED []" in done.stderr, done.stderr


def test_proofs_from_a_decks_own_answers_folder_run_only_when_trusted(valid_deck, monkeypatch, tmp_path):
    monkeypatch.setenv("QUIZ_DB", str(tmp_path / "own.sqlite3"))
    monkeypatch.setenv("QUIZ_CACHE_DIR", str(tmp_path / "cache"))
    deck = ["--questions", str(valid_deck.questions), "--answers", str(valid_deck.answers)]
    refused = run("take", *deck, input="\np\n3\n")
    assert "Error: running proofs from" in refused.output and "--trust-answers" in refused.output
    assert "Answered 1 of 1" in refused.output  # the session went on
    monkeypatch.setenv("QUIZ_DB", str(tmp_path / "trusted.sqlite3"))
    trusted = run("take", *deck, "--trust-answers", input="\np\n3\n")
    assert "2 of 2 claims proved by running code." in trusted.output
