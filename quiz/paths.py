"""Where the project's own deck lives, where caches go, and how a path is shown. A module of its own so the
command line can name the defaults without importing quiz.deck (yaml, pydantic)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_QUESTIONS = PROJECT_ROOT / "questions"
DEFAULT_ANSWERS = PROJECT_ROOT / "answers"
APP_NAME = "transformer-proofs"
CACHE_ENV = "QUIZ_CACHE_DIR"


def cache_dir() -> Path:
    """The user cache folder (``$QUIZ_CACHE_DIR`` if set): the card index and the proof records live here."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME, appauthor=False))


def is_own_answers(answers_dir: Path) -> bool:
    """Whether ``answers_dir`` is the project's own proof package: its code may always run; any other
    folder's only when the user trusts it (``--trust-answers``)."""
    return Path(answers_dir).resolve() == DEFAULT_ANSWERS.resolve()


def shown_path(path: Path) -> str:
    """A path as the user should see it: relative to the working directory when it is below it."""
    try:  # abspath, not resolve(): resolving would follow (and choke on) a symlink loop
        relative = str(Path(os.path.abspath(path)).relative_to(Path.cwd()))
    except ValueError:
        return str(path)
    return relative if relative != "." else os.path.abspath(path)
