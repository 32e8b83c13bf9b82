"""The catalogue of bad input (docs/bad-input.md): every case gives its exact message and a non-zero exit, and
loses nothing. The last test keeps the document honest: it must quote every message below verbatim."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import VALID_CARD, VALID_MODULE, DeckBuilder

from quiz.cli import main
from quiz.vocab import Topic

DOC = Path(__file__).resolve().parent.parent / "docs" / "bad-input.md"


@dataclass(frozen=True)
class Case:
    name: str
    setup: Callable[[DeckBuilder], list[str]]  # prepares the sandbox, returns the arguments to `quiz`
    message: str  # the exact first line on stderr (or, for a failing proof, the reported error)
    exit_code: int = 1
    input: str | None = None
    seen_in: str = "stderr"  # "stderr": the first Error line; "claim": the failing claim's error; "output": a line


def card(text: str, module: str = VALID_MODULE, name: str | None = None, topic: str = "scale"):
    def setup(deck: DeckBuilder) -> list[str]:
        deck.card(text, name=name, topic=topic)
        deck.module(text=module)
        return ["check", *deck_args(deck)]

    return setup


def deck_args(deck: DeckBuilder, trust: bool = False) -> list[str]:
    return ["--questions", str(deck.questions), "--answers", str(deck.answers), *(["--trust-answers"] * trust)]


def replace(old: str, new: str) -> str:
    assert old in VALID_CARD
    return VALID_CARD.replace(old, new)


def with_second_card(deck: DeckBuilder) -> list[str]:
    deck.card()
    deck.module()
    deck.card(replace("id: tiny-card", "id: second-card"), name="second-card")
    return ["check", *deck_args(deck)]


def duplicate_id(deck: DeckBuilder) -> list[str]:
    deck.card()
    deck.card(replace("topic: scale", "topic: masking"), topic="masking")
    deck.module()
    return ["check", *deck_args(deck)]


def directory_as_card(deck: DeckBuilder) -> list[str]:
    deck.card()
    deck.module()
    (deck.questions / "scale" / "folder.yaml").mkdir()
    return ["check", *deck_args(deck)]


def non_utf8(deck: DeckBuilder) -> list[str]:
    deck.card().write_bytes(b"id: tiny-card\ntitle: caf\xe9\n")
    return ["check", *deck_args(deck)]


def valid(command: str, *extra: str, trust: bool = False, module: str = VALID_MODULE):
    def setup(deck: DeckBuilder) -> list[str]:
        deck.card()
        deck.module(text=module)
        return [command, *extra, *deck_args(deck, trust)]

    return setup


def empty_deck(deck: DeckBuilder) -> list[str]:
    return ["list", "--questions", str(deck.questions)]


def database(kind: str):
    def setup(deck: DeckBuilder) -> list[str]:
        path = Path("progress.sqlite3")
        if kind == "text":
            path.write_text("my shopping list\n")
        elif kind == "foreign":
            with sqlite3.connect(path) as db:
                db.execute("CREATE TABLE invoices (id INTEGER)")
        elif kind == "newer":
            assert CliRunner().invoke(main, ["stats", "--db", str(path)]).exit_code == 0
            db = sqlite3.connect(path, isolation_level=None)
            db.execute("PRAGMA user_version = 99")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # settle the file, so "untouched" is checkable
            db.close()
        elif kind == "folder":
            path.mkdir()
        elif kind == "empty":
            path.write_bytes(b"")
        elif kind == "bad value":
            deck.card()
            deck.module()
            assert (
                CliRunner().invoke(main, ["take", "--db", str(path), *deck_args(deck)], input="\n3\nq\n").exit_code == 0
            )
            db = sqlite3.connect(path, isolation_level=None)
            db.execute("UPDATE cards SET due = 'garbage'")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # settle the file, so "untouched" is checkable
            db.close()
        deck.card()
        deck.module()
        return ["take", "--db", str(path), *deck_args(deck)]

    return setup


CASES = [
    # ---- cards
    Case(
        "YAML syntax error",
        card(VALID_CARD + "tags: [unclosed\n", name="tiny-card"),
        "Error: questions/scale/tiny-card.yaml:15: YAML syntax error: did not find expected ',' or ']' [YAML001]",
    ),
    Case(
        "unknown field",
        card(VALID_CARD + "colour: blue\n"),
        "Error: questions/scale/tiny-card.yaml:14: colour: unknown field 'colour'; remove it or fix its "
        "spelling [FIELD002]",
    ),
    Case(
        "missing field",
        card(replace("answer: Two.\n", "")),
        "Error: questions/scale/tiny-card.yaml:1: answer: required field is missing; add it [FIELD001]",
    ),
    Case(
        "badly formed id",
        card(replace("id: tiny-card", "id: Tiny_Card"), name="tiny-card"),
        "Error: questions/scale/tiny-card.yaml:1: id: must be lowercase words joined by hyphens, like "
        "'causal-masking' [FIELD003]",
    ),
    Case(
        "file name differs from the id",
        card(VALID_CARD, name="other-name"),
        "Error: questions/scale/other-name.yaml:1: id: 'tiny-card' differs from the file name; rename one to "
        "match [CARD001]",
    ),
    Case(
        "card in the wrong topic folder",
        card(VALID_CARD, topic="masking"),
        "Error: questions/masking/tiny-card.yaml:3: topic: 'scale' but the card is in folder 'masking'; "
        "move it or fix the topic [CARD002]",
    ),
    Case(
        "unknown difficulty",
        card(replace("difficulty: easy", "difficulty: trivial")),
        "Error: questions/scale/tiny-card.yaml:4: difficulty: input should be 'easy', 'medium' or 'hard' [FIELD006]",
    ),
    Case(
        "two cards with one id",
        duplicate_id,
        "Error: questions/scale/tiny-card.yaml:1: id: 'tiny-card' is already used by "
        "questions/masking/tiny-card.yaml [CARD004]",
    ),
    Case(
        "a key given twice",
        card(VALID_CARD + "title: Another title\n"),
        "Error: questions/scale/tiny-card.yaml:14: title: appears twice; keep one [YAML004]",
    ),
    Case(
        "claim names a function the module lacks",
        card(VALID_CARD, VALID_MODULE.replace("def two_times_two_is_four() -> Evidence:", "def _helper():")),
        "Error: questions/scale/tiny-card.yaml:13: claims.1.proof: function 'two_times_two_is_four' is not "
        "defined in answers/tiny_card.py [PROOF002]",
    ),
    Case(
        "claim function not annotated -> Evidence",
        card(
            VALID_CARD, VALID_MODULE.replace("def two_times_two_is_four() -> Evidence:", "def two_times_two_is_four():")
        ),
        "Error: questions/scale/tiny-card.yaml:13: claims.1.proof: 'two_times_two_is_four' must be "
        "annotated "
        "'-> Evidence' in answers/tiny_card.py [PROOF003]",
    ),
    Case(
        "claim names code outside the module",
        card(replace("proof: one_plus_one_is_two", "proof: os:system")),
        "Error: questions/scale/tiny-card.yaml:11: claims.0.proof: must be a Python function name, like "
        "'mask_hides_only_the_future' [FIELD004]",
    ),
    Case(
        "card without its proof module",
        with_second_card,
        "Error: questions/scale/second-card.yaml:9: claims: proof module answers/second_card.py is missing "
        "or "
        "unreadable; create it with the claim functions [PROOF001]",
    ),
    Case(
        "related card that does not exist",
        card(VALID_CARD + "related: [no-such-card]\n"),
        "Error: questions/scale/tiny-card.yaml:14: related.0: no card 'no-such-card' in this deck [CARD005]",
    ),
    Case(
        "multiple choice without a right answer",
        card(
            VALID_CARD
            + "choices:\n  - text: Two\n    why: a\n  - text: Three\n    why: b\n  - text: Four\n    why: c\n"
        ),
        "Error: questions/scale/tiny-card.yaml:14: choices: need exactly one correct answer among 3 or more "
        "choices (found 0 of 3) [CARD009]",
    ),
    Case(
        "numeric question with an unknown formula",
        card(
            VALID_CARD + "numeric:\n  - prompt: How many?\n    formula: no_such_formula\n    params: {n: [1]}\n"
            "    unit: count\n"
        ),
        "Error: questions/scale/tiny-card.yaml:16: numeric.0.formula: no formula 'no_such_formula' in "
        "answers/formulas [NUM001]",
    ),
    Case(
        "a list instead of a card",
        card("- just\n- a list\n", name="tiny-card"),
        "Error: questions/scale/tiny-card.yaml:1: a card must be a YAML mapping of fields, found a list [YAML005]",
    ),
    Case(
        "bytes that are not UTF-8",
        non_utf8,
        "Error: questions/scale/tiny-card.yaml:1: file is not valid UTF-8 text; save it as UTF-8 [FILE003]",
    ),
    Case(
        "YAML alias bomb",
        card(VALID_CARD + "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"),
        "Error: questions/scale/tiny-card.yaml:14: YAML anchors and aliases are not allowed in cards; write "
        "it out [YAML002]",
    ),
    Case(
        "YAML tag that builds a Python object",
        card(VALID_CARD + "x: !!python/object/apply:os.system ['ls']\n"),
        "Error: questions/scale/tiny-card.yaml:14: YAML syntax error: could not determine a constructor for "
        "the "
        "tag 'tag:yaml.org,2002:python/object/apply:os.system' [YAML001]",
    ),
    Case(
        "a huge file",
        card(VALID_CARD + "# " + "x" * 300_000 + "\n"),
        "Error: questions/scale/tiny-card.yaml: is 293 KiB; a card must be under 256 KiB, split it [FILE002]",
    ),
    Case(
        "a folder where a card should be",
        directory_as_card,
        "Error: questions/scale/folder.yaml: is not a regular file; a card must be a .yaml file [FILE001]",
    ),
    Case(
        "an id reserved for a shared module",
        card(replace("id: tiny-card", "id: reference"), name="reference"),
        "Error: questions/scale/reference.yaml:1: id: 'reference' is reserved for a shared module; choose "
        "another id [CARD003]",
    ),
    Case(
        "a list used as a key",
        card("? [a, b]\n: c\n", name="tiny-card"),
        "Error: questions/scale/tiny-card.yaml:1: a key must be a plain word, not a list or mapping [YAML003]",
    ),
    # ---- decks, ids and options
    Case(
        "an empty deck",
        empty_deck,
        "Error: questions: no cards found; a deck holds <topic>/<card-id>.yaml files [DECK003]",
    ),
    Case(
        "a deck folder that does not exist",
        lambda deck: ["list", "--questions", "nowhere"],
        "Error: nowhere: no such folder; point --questions at a folder of cards [DECK001]",
    ),
    Case(
        "an answers folder that does not exist",
        lambda deck: ["check", "--answers", "nowhere"],
        "Error: nowhere: no such folder; point --answers at the proof modules [DECK002]",
    ),
    Case(
        "an unknown card id",
        valid("show", "tiny-crd"),
        "Error: no card 'tiny-crd' in questions; did you mean 'tiny-card'?",
    ),
    Case(
        "an unknown topic",
        valid("list", "--topic", "vibes"),
        # Every topic, in the vocabulary's order: a new topic changes this message, and the doc must follow.
        "Error: Invalid value for '--topic': 'vibes' is not one of " + ", ".join(f"'{t}'" for t in Topic) + ".",
        exit_code=2,
    ),
    Case(
        "a count below one",
        valid("take", "--count", "0"),
        "Error: Invalid value for '--count': 0 is not in the range x>=1.",
        exit_code=2,
    ),
    Case("an unknown command", lambda deck: ["frobnicate"], "Error: No such command 'frobnicate'.", exit_code=2),
    Case(
        "filters that match no card",
        valid("take", "--tag", "no-such-tag"),
        "Error: no cards match these filters; loosen --topic, --tag or --difficulty",
    ),
    Case(
        "a deck's own proofs run without trust",
        valid("verify"),
        "Error: running proofs from answers executes its code; pass --trust-answers if you trust that folder",
    ),
    # ---- failing proofs (the run goes on; the claim's reported error is shown)
    Case(
        "a claim that raises",
        valid("verify", "--json", trust=True, module=VALID_MODULE.replace("measured=1 + 1", "measured=1 / 0")),
        "ZeroDivisionError: division by zero",
        seen_in="claim",
    ),
    Case(
        "a claim that measures NaN",
        valid("verify", "--json", trust=True, module=VALID_MODULE.replace("measured=1 + 1", "measured=float('nan')")),
        "measured value is nan",
        seen_in="claim",
    ),
    Case(
        "a claim that measures infinity",
        valid("verify", "--json", trust=True, module=VALID_MODULE.replace("measured=1 + 1", "measured=float('inf')")),
        "measured value is inf",
        seen_in="claim",
    ),
    Case(
        "a claim that returns the wrong type",
        valid(
            "verify",
            "--json",
            trust=True,
            module=VALID_MODULE.replace(
                "    return Evidence(measured=1 + 1", "    return 2\n    return Evidence(measured=1 + 1"
            ),
        ),
        "returned int, not Evidence",
        seen_in="claim",
    ),
    Case(
        "a claim that calls sys.exit",
        valid(
            "verify",
            "--json",
            trust=True,
            module=VALID_MODULE.replace("measured=1 + 1", "measured=__import__('sys').exit(0)"),
        ),
        "called sys.exit(0); a claim returns its Evidence and never exits",
        seen_in="claim",
    ),
    Case(
        "a claim that calls os._exit",
        valid(
            "verify",
            "--json",
            trust=True,
            module=VALID_MODULE.replace("measured=1 + 1", "measured=__import__('os')._exit(3)"),
        ),
        "exited with status 3 before it returned its evidence (os._exit?)",
        seen_in="claim",
    ),
    Case(
        "a claim that prints",
        valid(
            "verify",
            "--json",
            trust=True,
            module=VALID_MODULE.replace("measured=1 + 1", "measured=print('loading weights... done') or 2"),
        ),
        "printed to stdout ('loading weights... done'); a claim returns its evidence and never prints",
        seen_in="claim",
    ),
    Case(
        "a claim that forks",
        valid(
            "verify",
            "--json",
            trust=True,
            module=VALID_MODULE.replace("measured=1 + 1", "measured=__import__('os').fork() * 0 + 2"),
        ),
        "left a child process behind; a claim must not fork",
        seen_in="claim",
    ),
    Case(
        "a claim that is killed (the OOM killer)",
        valid(
            "verify",
            "--json",
            trust=True,
            module=VALID_MODULE.replace(
                "measured=1 + 1", "measured=__import__('os').kill(__import__('os').getpid(), 9)"
            ),
        ),
        "was killed by SIGKILL (out of memory, or killed from outside) before it returned its evidence",
        seen_in="claim",
    ),
    Case(
        "a claim that returns a tensor",
        valid(
            "verify",
            "--json",
            trust=True,
            module=VALID_MODULE.replace("measured=1 + 1", "measured=__import__('torch').tensor(2)"),
        ),
        "returned Evidence whose measured is a torch.Tensor, not a number, string or tuple; call .item() on it",
        seen_in="claim",
    ),
    Case(
        "a counterfactual that also holds",
        valid(
            "verify",
            trust=True,
            module=VALID_MODULE.replace("counterfactual_measured=1 - 1", "counterfactual_measured=2"),
        ),
        "2 claims on 1 cards: 1 proved, 1 failed",
        seen_in="output",
    ),
    # ---- progress databases
    Case(
        "a progress file that is not SQLite",
        database("text"),
        "Error: progress.sqlite3 is not a quiz progress database (not SQLite); it was left untouched "
        "(pass --db PATH to use another file)",
    ),
    Case(
        "another program's SQLite database",
        database("foreign"),
        "Error: progress.sqlite3 belongs to another program (it is SQLite, but not a quiz progress database); it "
        "was left untouched (pass --db PATH to use another file)",
    ),
    Case(
        "a database from a newer quiz",
        database("newer"),
        "Error: progress.sqlite3 was written by a newer quiz (schema 99, this one reads 3); it was left untouched "
        "(pass --db PATH to use another file)",
    ),
    Case(
        "a folder given as the database",
        database("folder"),
        "Error: Invalid value for '--db': File 'progress.sqlite3' is a directory.",
        exit_code=2,
    ),
    Case(
        "an empty file given as the database",
        database("empty"),
        "Error: progress.sqlite3 is an empty file, not a quiz progress database (delete it if you made it); it was "
        "left untouched (pass --db PATH to use another file)",
    ),
    Case(
        "a value in the progress database this quiz never writes",
        database("bad value"),
        "Error: progress.sqlite3: the due date of card 'tiny-card' is 'garbage', which this quiz never writes; the "
        "file was edited or damaged. Restore a backup, or pass --db PATH to start another file (this one was left "
        "untouched)",
    ),
    Case(
        "--db :memory:",
        valid("take", "--db", ":memory:", "--type", "recall"),
        "Nothing was saved: --db :memory: keeps answers in memory only.",
        exit_code=0,
        input="\n4\n\n",  # Easy: the card graduates (Good would ask it again), then Enter finishes
        seen_in="output",
    ),
    # ---- interrupted sessions
    Case(
        "input ends in the middle of a question",
        valid("take", "--db", "progress.sqlite3", "--type", "recall"),
        "Interrupted. Every answer you gave is saved.",
        exit_code=130,
        input="",
        seen_in="output",
    ),
]


@pytest.fixture
def sandbox(deck_builder, monkeypatch, tmp_path) -> DeckBuilder:
    monkeypatch.setenv("QUIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("QUIZ_DB", str(tmp_path / "default.sqlite3"))
    return deck_builder


def shown(result, case: Case) -> str:
    """What the user sees for this case, from where the case says it appears."""
    if case.seen_in == "claim":
        return next(row["error"] for row in json.loads(result.stdout) if row["error"])
    if case.seen_in == "output":
        lines = (result.stdout + result.stderr).splitlines()
        # the line may go on (a timing, say) after the part that is always the same
        return next(
            (case.message for line in lines if line.strip().startswith(case.message)), lines[-1] if lines else ""
        )
    return next((line for line in result.stderr.splitlines() if line.startswith("Error:")), result.stderr)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_gets_its_exact_message_and_exit_status(case, sandbox):
    argv = case.setup(sandbox)
    files_before = {p: p.read_bytes() for p in Path().rglob("*") if p.is_file() and "cache" not in p.parts}
    result = CliRunner().invoke(main, argv, input=case.input, catch_exceptions=False)
    assert shown(result, case) == case.message
    assert result.exit_code == case.exit_code
    assert "Traceback" not in result.output
    for path, content in files_before.items():  # nothing the user had is changed or lost
        assert path.read_bytes() == content, f"{path} was modified"


def test_the_catalogue_has_at_least_25_cases():
    assert len(CASES) >= 25


def test_the_document_quotes_every_message_verbatim():
    text = DOC.read_text(encoding="utf-8")
    missing = [case.name for case in CASES if f"`{case.message}`" not in text]
    assert not missing, f"docs/bad-input.md lacks the exact message for: {missing}"


def test_database_messages_that_need_another_process_or_user_are_quoted_verbatim(sandbox, monkeypatch, tmp_path):
    """Locked, read-only and a clock off the calendar: produced for real here (test_store.py checks each case
    end to end), and the document must quote them exactly."""
    from quiz.store import Store

    text = DOC.read_text(encoding="utf-8")
    argv = valid("stats")(sandbox)
    assert CliRunner().invoke(main, [*argv, "--db", "progress.sqlite3"]).exit_code == 0
    monkeypatch.setattr(Store, "busy_timeout", 0.1)
    holder = sqlite3.connect("progress.sqlite3", isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("COMMIT")
    locked = CliRunner().invoke(main, [*argv, "--db", "progress.sqlite3"])
    holder.close()
    access = os.access

    def no_write(path, mode, **kwargs) -> bool:  # as a user without write permission on the database
        return access(path, mode, **kwargs) and not (mode & os.W_OK and str(path).endswith("progress.sqlite3"))

    take = ["take", "--db", "progress.sqlite3", *argv[1:]]
    with monkeypatch.context() as patch:
        patch.setattr(os, "access", no_write)
        read_only = CliRunner().invoke(main, take, input="\n3\nq\n")
    with monkeypatch.context() as patch:
        patch.setenv("QUIZ_NOW", "9999-12-31T23:00")
        clock = CliRunner().invoke(main, [*argv, "--db", "progress.sqlite3"])
    for result in (locked, read_only, clock):
        assert result.exit_code == 1
        line = result.stderr.splitlines()[0]
        assert f"`{line}`" in text, f"docs/bad-input.md lacks: {line}"
