"""Where the project's own deck lives, and how a path is shown to the user. A module of its own so the
command line can name the defaults without importing quiz.deck (yaml, pydantic)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_QUESTIONS = PROJECT_ROOT / "questions"
DEFAULT_ANSWERS = PROJECT_ROOT / "answers"


def shown_path(path: Path) -> str:
    """A path as the user should see it: relative to the working directory when it is below it."""
    try:  # abspath, not resolve(): resolving would follow (and choke on) a symlink loop
        relative = str(Path(os.path.abspath(path)).relative_to(Path.cwd()))
    except ValueError:
        return str(path)
    return relative if relative != "." else os.path.abspath(path)
