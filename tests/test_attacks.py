"""The reliability review's reproduction scripts (`../shared/attacks/`, beside the checkout), run against the quiz
installed in this environment. Each builds its own inputs in a temp folder and exits 1 while its bug exists, 0 once
it is fixed, 2 when it could not set the situation up.

The folder belongs to the team's review, not to the product: on a machine without it there is nothing to run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ATTACKS = Path(__file__).resolve().parent.parent.parent / "shared" / "attacks"
QUIZ = Path(sys.executable).with_name("quiz")
SCRIPTS = sorted(ATTACKS.glob("*.py")) if ATTACKS.is_dir() else []

# The study site became one build that works from a folder as well as from a server (issue 13): pages are
# `<card>.html`, not `<card>/index.html`, and the self-test's cards are inside its page, not in
# `assets/selftest.json`. This script reads the old paths, so it runs with them pointed at the new ones and
# every payload check of it unchanged. Each replacement must match, so a changed script fails here, loudly.
NEW_PATHS = {
    "site_xss_from_deck.py": {
        '(out / "masking" / "causal-masking" / "index.html")': '(out / "masking" / "causal-masking.html")',
        '(out / "assets" / "selftest.json")': '(out / "self-test.html")',
    }
}


def _runnable(script: Path, folder: Path) -> Path:
    """The script itself, or a copy of it reading the present site layout."""
    if script.name not in NEW_PATHS:
        return script
    text = script.read_text(encoding="utf-8")
    for old, new in NEW_PATHS[script.name].items():
        assert text.count(old) == 1, f"{script.name} no longer reads {old}: update NEW_PATHS"
        text = text.replace(old, new)
    copy = folder / script.name
    copy.write_text(text, encoding="utf-8")
    return copy


@pytest.mark.skipif(not SCRIPTS, reason=f"no reproduction scripts at {ATTACKS}")
@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_the_reproduction_script_no_longer_reproduces_its_bug(script, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUIZ_")} | {"QUIZ": str(QUIZ)}
    done = subprocess.run(
        [sys.executable, str(_runnable(script, tmp_path))],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=900,
    )
    assert done.returncode == 0, f"exit {done.returncode}:\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}"
