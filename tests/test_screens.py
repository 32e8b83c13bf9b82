"""Screens that fit (issue 12, item 7): a revealed answer fits 80×24 with the question still on screen, the
evidence table is one readable row per claim at 80 columns, and `quiz list` never cuts an id (plain
tab-separated lines in a pipe). The terminal cases run in a real tmux pane of 80×24."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.cells import cell_len
from rich.console import Console

from answers.evidence import EvidenceText
from quiz.cache import load_index
from quiz.cli import main
from quiz.cli.views import _markdown, evidence_table, reveal_view
from quiz.paths import DEFAULT_QUESTIONS
from quiz.proofs.run import ClaimResult

PROJECT = Path(__file__).resolve().parent.parent


def lines(renderable, width: int = 80) -> list[str]:
    console = Console(width=width, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    with console.capture() as capture:
        console.print(renderable)
    return capture.get().splitlines()


def test_every_revealed_answer_fits_an_80x24_terminal_with_its_prompt():
    too_tall = {}
    for card in load_index(DEFAULT_QUESTIONS):
        shown = lines(reveal_view(card, 80, 24))
        if len(shown) + 1 > 24:  # + the grade prompt
            too_tall[card.id] = len(shown) + 1
        assert max(cell_len(line) for line in shown) <= 80  # terminal cells: v̂ is one, not two
        first_line = lines(_markdown(card.answer))[0].strip()
        assert any(first_line in line for line in shown), card.id
    assert too_tall == {}


def test_a_long_question_gives_way_to_its_title_so_the_answer_still_fits():
    card = max(load_index(DEFAULT_QUESTIONS), key=lambda c: len(c.question) + len(c.answer))
    assert len(lines(reveal_view(card, 80, 24))) < 24
    assert len(lines(reveal_view(card, 80, 60))) > len(lines(reveal_view(card, 80, 24)))  # full when room


def claim(card: str, name: str, cf_holds: bool = False) -> ClaimResult:
    text = EvidenceText("0.2389", "within ±1e-12 of 0", "", "no mask", "0.8877", True, cf_holds, {})
    return ClaimResult(card, name, "statement", 0.1, text=text)


def test_the_evidence_table_is_one_readable_row_per_claim_at_80_columns():
    names = ["strictly_upper_triangular_minus_infinity_matches_torch_is_causal", "future_tokens_cannot_change"]
    shown = lines(evidence_table([claim("causal-masking", n) for n in names], show_card=False))
    assert max(len(line) for line in shown) <= 80
    for name in names:  # each name whole, on its own line, behind its mark
        assert any(line.startswith("✓") and line.split()[-1] == name for line in shown), shown
    assert "causal-masking" not in "\n".join(shown)  # one card: no card column
    assert sum("rejected ✓" in line for line in shown) == 2
    broken = lines(evidence_table([claim("causal-masking", names[1], cf_holds=True)]))
    assert "causal-masking · future_tokens_cannot_change" in "\n".join(broken) and "ALSO HOLDS ✗" in "\n".join(broken)


def test_list_in_a_pipe_prints_tab_separated_lines_with_whole_ids():
    result = CliRunner().invoke(main, ["list"])
    ids = {c.id for c in load_index(DEFAULT_QUESTIONS)}
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert all(len(row) == 4 for row in rows)
    assert {row[0] for row in rows} == ids


def test_the_stats_table_lines_up_its_columns_and_wraps_a_long_topic_within_the_width():
    from quiz.cli.stats import _table
    from quiz.stats import compute

    result = compute(load_index(DEFAULT_QUESTIONS), {}, [], datetime(2026, 3, 2, 12, tzinfo=UTC))
    for width in (100, 80, 60):
        shown = lines(_table(result, width), width)
        assert max(cell_len(line) for line in shown) <= width
        header = shown[1]
        assert header.split() == ["topic", "seen", "reviews", "accuracy", "retention", "mastery"]
        rows = [line for line in shown[2:-1] if "/" in line]  # a topic's first line (the rest wrap); not All
        # every number sits right-aligned under its header: a row ends where the header's last column ends
        assert all(len(line.rstrip()) == len(header.rstrip()) for line in rows), shown
        assert len(rows) == len(result.topics)
        # wrapped or not, every title is on screen whole, in its column (before the two spaces that end it)
        column = "".join(re.split(r"\s{2,}", line.strip())[0] for line in shown[2:]).replace(" ", "")
        assert all(topic.title.replace(" ", "") in column for topic in result.topics), shown
    assert len(lines(_table(result, 100), 100)) == len(result.topics) + 3  # title, header, topics, All: no wrap


# ---------------------------------------------------------------------------------------------- a real tmux pane

tmux = pytest.mark.skipif(not shutil.which("tmux"), reason="needs tmux")


class Pane:
    def __init__(self, name: str, command: str, env: dict[str, str]) -> None:
        self.name = name
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                "80",
                "-y",
                "24",
                f"cd {PROJECT} && env {exports} {command}; sleep 30",
            ],
            check=True,
        )

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True).stdout

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared:\n{self.screen()}")

    def send(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def pane(tmp_path):
    panes = []
    env = {"QUIZ_DB": str(tmp_path / "p.sqlite3"), "QUIZ_CACHE_DIR": str(tmp_path / "cache"), "TERM": "xterm"}

    def open_pane(*args: str) -> Pane:
        command = " ".join([str(Path(sys.executable).parent / "quiz"), *args])
        p = Pane(f"quiz-test-{os.getpid()}-{tmp_path.name}-{len(panes)}", command, env)  # unique across runs
        panes.append(p)
        return p

    yield open_pane
    for p in panes:
        p.close()


@tmux
def test_at_80x24_grading_shows_the_question_and_the_answer_and_m_shows_the_rest(pane):
    card = max(load_index(DEFAULT_QUESTIONS), key=lambda c: len(c.question) + len(c.answer))
    for c in (card,):
        p = pane("take", c.id, "--type", "recall")
        p.wait_for("Enter to reveal")
        p.send("Enter")
        screen = p.wait_for("How well did you know it")
        flat = " ".join(screen.split())
        assert c.title[:20] in flat  # the question (or, when it cannot fit, its title) is still on screen
        assert "Answer" in flat and lines(_markdown(c.answer))[0].strip() in screen
        assert "Explanation" not in flat
        p.send("m", "Enter")  # the rest, paged from its first line
        assert p.wait_for("Explanation").splitlines()[0].strip() == "Explanation"
        p.send("q")
        p.wait_for("How well did you know it")
        p.send("4", "Enter")
        p.wait_for("Next review")


@tmux
def test_at_80_columns_quiz_list_shows_every_id_whole(pane):
    p = pane("list", "--topic", "efficient-attention")
    ids = [c.id for c in load_index(DEFAULT_QUESTIONS) if c.topic == "efficient-attention"]

    def every_id_whole(screen: str) -> bool:
        return all(any(line.startswith(i + " ") for line in screen.splitlines()) for i in ids)

    # The footer goes to stderr and can reach the pane before the rows: wait for the rows themselves.
    end = time.monotonic() + 20
    while not every_id_whole(screen := p.screen()) and time.monotonic() < end:
        time.sleep(0.1)
    assert ids and every_id_whole(screen), screen
