"""`quiz take` in a real pseudo-terminal: a full session, a kill -9 in the middle of one, and the recovery."""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest
from test_practice_support import write_deck

pexpect = pytest.importorskip("pexpect")

QUIZ = str(Path(sys.executable).with_name("quiz"))


def _as_in_a_terminal() -> None:
    """Ctrl-C delivered as a terminal delivers it. A test run started in the background by a script (``make test &``)
    inherits SIGINT ignored, and Python then leaves it ignored: the quiz would never see the key this file presses."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def terminal(tmp_path):
    deck = write_deck(tmp_path / "deck")
    env = {
        **os.environ,
        "QUIZ_DB": str(tmp_path / "progress.sqlite3"),
        "QUIZ_CACHE_DIR": str(tmp_path / "cache"),
        "QUIZ_NOW": "2026-03-02T18:00:00+00:00",
        "TERM": "xterm-256color",
        "COLUMNS": "100",
        "LINES": "40",
    }

    def spawn(*args: str):
        child = pexpect.spawn(
            QUIZ,
            ["take", "--questions", str(deck), "--type", "recall", *args],
            env=env,
            encoding="utf-8",
            timeout=30,
            preexec_fn=_as_in_a_terminal,
        )
        child.setwinsize(40, 100)
        return child

    spawn.db = tmp_path / "progress.sqlite3"
    return spawn


def count_reviews(db: Path) -> int:
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return con.execute("SELECT count(*) FROM reviews").fetchone()[0]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a POSIX pseudo-terminal")
def test_a_session_killed_with_sigkill_keeps_every_answer_given_and_the_next_one_resumes(terminal):
    child = terminal("--seed", "4")
    child.expect("1/2")
    child.expect(r"Enter to reveal")
    child.sendline("")
    child.expect("How well did you know it")
    child.sendline("4")  # Easy: the card graduates at once (Good would ask it again in this session)
    child.expect("2/2")
    child.expect(r"Enter to reveal")
    child.sendline("")
    child.expect("How well did you know it")
    child.send("4")  # typed but not yet entered: this answer may be lost, no other
    child.kill(signal.SIGKILL)
    child.wait()
    assert count_reviews(terminal.db) == 1

    resumed = terminal("--seed", "4")  # the answered card is due in days: only the other one is asked
    resumed.expect("1/1")
    resumed.expect(r"Enter to reveal")
    resumed.sendline("")
    resumed.expect("How well did you know it")
    resumed.sendline("4")
    resumed.expect("Enter to finish")
    resumed.sendline("")
    resumed.expect("Answered 1 of 1")
    resumed.expect(pexpect.EOF)
    resumed.close()
    assert resumed.exitstatus == 0
    assert count_reviews(terminal.db) == 2

    done = terminal()
    done.expect("Nothing due")
    done.expect(pexpect.EOF)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a POSIX pseudo-terminal")
def test_ctrl_c_at_a_prompt_leaves_cleanly_without_a_traceback(terminal):
    child = terminal()
    child.expect("Enter to reveal")
    child.sendline("")
    child.expect("How well did you know it")
    child.sendline("2")
    child.expect("Enter to reveal")
    child.sendintr()
    child.expect("Interrupted. Every answer you gave is saved.")
    child.expect(pexpect.EOF)
    child.close()
    assert "Traceback" not in (child.before or "")
    assert child.exitstatus == 130
    assert count_reviews(terminal.db) == 1
