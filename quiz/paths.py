"""Where the project's own deck lives, where caches go, and how a path is shown. A module of its own so the
command line can name the defaults without importing quiz.deck (yaml, pydantic)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import ModuleType

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
EXERCISES_DIR = DEFAULT_ANSWERS / "exercises"
APP_NAME = "transformer-proofs"
CACHE_ENV = "QUIZ_CACHE_DIR"
MAX_MODULE_KIB = 512  # the largest real proof module is ~17 KiB; reading (or importing) a huge one costs its size twice


def cache_dir() -> Path:
    """The user cache folder (``$QUIZ_CACHE_DIR`` if set): the card index and the proof records live here."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME, appauthor=False))


def exercise_ids(folder: Path = EXERCISES_DIR) -> list[str]:
    """Every coding exercise's id, from its file name alone (``<id with - as _>.py``): for `quiz stats`, which
    counts them and must pay neither for quiz.exercises (ast, subprocess) nor for parsing 25 modules."""
    return [path.stem.replace("_", "-") for path in sorted(folder.glob("*.py")) if not path.name.startswith("_")]


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


def module_too_big(path: Path) -> str | None:
    """Why the proof module at ``path`` is not read, if it is too big to be (rule PROOF006): checked before
    anything reads or imports it."""
    try:
        size = path.stat().st_size
    except OSError:
        return None
    if size > MAX_MODULE_KIB * 1024:
        limit = f"a proof module must be under {MAX_MODULE_KIB} KiB"
        return f"proof module {shown_path(path)} is {size // 1024} KiB; {limit}"
    return None


def bind_own_answers() -> ModuleType:
    """Bind the name ``answers`` to the project's proof package, loaded from its real location.

    Imported by name, ``answers`` would be whatever comes first on ``sys.path``: with an empty ``PYTHONPATH``
    entry (``PYTHONPATH=$PYTHONPATH:/x`` when it was unset) that is the working folder, so a deck's own
    ``answers/__init__.py`` would run just because the quiz was started inside the deck. Once the package is
    in ``sys.modules`` with its ``__path__`` set, every ``answers.<module>`` is looked up in that folder only."""
    init = DEFAULT_ANSWERS / "__init__.py"
    module = sys.modules.get("answers")
    if module is not None and is_own_package(module):
        return module
    for name in [n for n in sys.modules if n == "answers" or n.startswith("answers.")]:
        del sys.modules[name]  # someone else's package of that name: never used for a proof
    import importlib.util

    spec = importlib.util.spec_from_file_location("answers", init, submodule_search_locations=[str(DEFAULT_ANSWERS)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["answers"] = module
    spec.loader.exec_module(module)
    return module


def is_own_package(module: ModuleType) -> bool:
    """Whether ``module`` (the ``answers`` package) was loaded from the project's proof folder."""
    try:
        return Path(module.__file__ or "").resolve() == (DEFAULT_ANSWERS / "__init__.py").resolve()
    except (AttributeError, TypeError, OSError):
        return False
