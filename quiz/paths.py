"""Where the project's own deck lives, where caches go, and how a path is shown. A module of its own so the
command line can name the defaults without importing quiz.deck (yaml, pydantic)."""

from __future__ import annotations

import os
from pathlib import Path

# `quiz` and `answers` sit side by side, in a checkout and in site-packages alike.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# A wheel carries the cards and the site's config inside the package (pyproject's force-include); a checkout
# (or an editable install of it) has them at the top level, where the owner's layout puts them. For a package
# installed as files, importlib.resources.files("quiz") is exactly this folder, and importing importlib.resources
# would add ~60 ms to every start-up.
_WHEEL_BANK = Path(__file__).resolve().parent / "_bank"
INSTALLED_FROM_WHEEL = _WHEEL_BANK.is_dir()
BANK_ROOT = _WHEEL_BANK if INSTALLED_FROM_WHEEL else PROJECT_ROOT
DEFAULT_QUESTIONS = BANK_ROOT / "questions"
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
