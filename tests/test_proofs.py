"""The proof service: one cache of evidence that verify, show --answer and the site share, and exactly what
invalidates it."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from conftest import VALID_MODULE

from quiz import proofs
from quiz.cli import main
from quiz.proofs import key as proof_key_module

# The fixture deck's module, logging every claim that really runs.
LOGGED_MODULE = VALID_MODULE.replace(
    "from answers.evidence import Evidence\n",
    "import os\n\nfrom answers.evidence import Evidence\n\n\n"
    "def _log(name):\n    with open(os.environ['RUN_LOG'], 'a') as log:\n        log.write(name + '\\n')\n",
).replace("    return Evidence(measured=1 + 1", "    _log('one')\n    return Evidence(measured=1 + 1")


@pytest.fixture
def logged_deck(deck_builder, tmp_path, monkeypatch):
    deck_builder.card()
    deck_builder.module(text=LOGGED_MODULE)
    log = tmp_path / "runs.log"
    log.touch()
    monkeypatch.setenv("RUN_LOG", str(log))
    deck_builder.runs = lambda: log.read_text().split()
    return deck_builder


def quiz(deck, *args: str):
    where = ["--questions", str(deck.questions), "--answers", str(deck.answers), "--trust-answers"]
    return CliRunner().invoke(main, [*args, *where], catch_exceptions=False)


def test_second_verify_answers_from_the_cache_and_says_so(logged_deck):
    first = quiz(logged_deck, "verify")
    assert first.exit_code == 0 and "cached" not in first.stdout
    second = quiz(logged_deck, "verify")
    assert second.exit_code == 0
    assert second.stdout.lstrip().startswith("Evidence (cached)")
    text = " ".join(second.stdout.split())
    # The time is the machine's (0.1 s on a loaded one); the words around it are the claim.
    assert re.search(
        r"2 proved, 0 failed \(\d+\.\d s; cached: all cards unchanged since their claims passed; --fresh runs", text
    )
    assert logged_deck.runs() == ["one"], "the second verify ran no claim"
    rows = json.loads(quiz(logged_deck, "verify", "--json").stdout)
    assert [(r["passed"], r["cached"], r["measured"]) for r in rows] == [(True, True, 2), (True, True, 4)]


def test_fresh_runs_every_claim_again(logged_deck):
    quiz(logged_deck, "verify")
    result = quiz(logged_deck, "verify", "--fresh")
    assert "cached" not in result.stdout
    assert logged_deck.runs() == ["one", "one"]


def test_show_answer_reads_the_evidence_verify_cached(logged_deck):
    quiz(logged_deck, "verify")
    result = quiz(logged_deck, "show", "tiny-card", "--answer")
    assert result.exit_code == 0 and "cached" in result.stdout
    assert logged_deck.runs() == ["one"]


def test_editing_the_card_module_proves_it_again(logged_deck):
    quiz(logged_deck, "verify")
    module = logged_deck.answers / "tiny_card.py"
    module.write_text(module.read_text().replace("_log('one')", "_log('one-v2')"))
    result = quiz(logged_deck, "verify")
    assert "cached" not in result.stdout
    assert logged_deck.runs() == ["one", "one-v2"], "the new code ran"


def test_editing_a_shared_module_it_imports_or_reference_changes_the_key(logged_deck, tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    for name in ("evidence.py", "reference.py", "helpers.py", "unused.py"):
        (shared / name).write_text(f"# {name}\n")
    monkeypatch.setattr(proof_key_module, "DEFAULT_ANSWERS", shared)
    module = logged_deck.answers / "tiny_card.py"
    module.write_text("def _later():\n    from answers.helpers import x\n\n\n" + module.read_text())
    card = logged_deck.load().get("tiny-card")
    keys = [proofs.proof_key(card, logged_deck.answers)]
    for name in ("evidence.py", "reference.py", "helpers.py"):  # helpers: imported inside a function
        (shared / name).write_text(f"# {name}, changed\n")
        keys.append(proofs.proof_key(card, logged_deck.answers))
    (shared / "unused.py").write_text("# not imported, changed\n")
    keys.append(proofs.proof_key(card, logged_deck.answers))
    assert len(set(keys)) == 4 and keys[-1] == keys[-2]


def test_a_new_torch_version_changes_the_key(logged_deck, monkeypatch):
    card = logged_deck.load().get("tiny-card")
    before = proofs.proof_key(card, logged_deck.answers)
    monkeypatch.setattr(proof_key_module, "torch_version", lambda: "99.0")
    assert proofs.proof_key(card, logged_deck.answers) != before


def test_a_failing_claim_is_not_cached(logged_deck):
    module = logged_deck.answers / "tiny_card.py"
    module.write_text(module.read_text().replace("measured=1 + 1", "measured=1 + 2"))
    assert quiz(logged_deck, "verify").exit_code == 1
    again = quiz(logged_deck, "verify")
    assert again.exit_code == 1 and "cached" not in again.stdout
    assert logged_deck.runs() == ["one", "one"]


def test_cached_results_still_need_trust_for_a_foreign_folder(logged_deck):
    quiz(logged_deck, "verify")
    where = ["--questions", str(logged_deck.questions), "--answers", str(logged_deck.answers)]
    result = CliRunner().invoke(main, ["verify", *where])
    assert result.exit_code == 1 and "--trust-answers" in result.stderr


def test_a_module_without_a_figure_name_is_known_to_draw_nothing_without_running_it():
    from quiz.proofs.worker import _may_draw

    assert not _may_draw('"""No figures."""\n\ndef claim_x() -> Evidence:\n    ...\n')
    assert _may_draw("def figure_loss_curve():\n    ...\n")
    assert _may_draw(None), "an unreadable module is run, and its error shown"
