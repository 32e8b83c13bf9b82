"""Where the site's inputs and outputs live, and the options a build takes."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from quiz.errors import QuizError
from quiz.exercises import EXERCISES_DIR
from quiz.paths import BANK_ROOT, DEFAULT_ANSWERS, DEFAULT_QUESTIONS, INSTALLED_FROM_WHEEL, cache_dir

SITE_DIR = BANK_ROOT / "site"
MKDOCS_YML = SITE_DIR / "mkdocs.yml"
HOOK = SITE_DIR / "hooks.py"
STATIC_ASSETS = SITE_DIR / "assets"  # hand-written CSS and JS, copied into every generated docs folder
# A checkout builds into site/docs and site/build, as the README says; an installed package is never written
# to, so there the generated pages and the site go to the user cache folder.
_WORK = cache_dir() / "site" if INSTALLED_FROM_WHEEL else SITE_DIR
DEFAULT_DOCS = _WORK / "docs"
DEFAULT_OUTPUT = _WORK / "build"


class SiteError(QuizError):
    def lines(self) -> list[str]:
        return str(self).splitlines()


@dataclass(frozen=True)
class Options:
    """Where the cards come from and where proofs are cached (by default the cache ``quiz verify`` uses).
    The MkDocs hook reads them from the environment, because MkDocs gives a hook no other way to receive
    arguments."""

    questions: Path = DEFAULT_QUESTIONS
    answers: Path = DEFAULT_ANSWERS
    cache: Path = field(default_factory=cache_dir)
    workers: int = 2
    trust_answers: bool = False  # run proof modules from an answers folder other than the project's
    exercises: Path = EXERCISES_DIR  # the coding exercises, one page each

    ENV: ClassVar[dict[str, str]] = {
        "questions": "QUIZ_QUESTIONS",
        "answers": "QUIZ_ANSWERS",
        "cache": "QUIZ_SITE_CACHE",
        "exercises": "QUIZ_SITE_EXERCISES",
    }

    @classmethod
    def from_env(cls) -> Options:
        values: dict[str, Any] = {name: Path(os.environ[var]) for name, var in cls.ENV.items() if os.environ.get(var)}
        if os.environ.get("QUIZ_SITE_WORKERS"):
            values["workers"] = int(os.environ["QUIZ_SITE_WORKERS"])
        values["trust_answers"] = os.environ.get("QUIZ_TRUST_ANSWERS") == "1"
        return cls(**values)

    def env(self) -> dict[str, str]:
        return {
            **{var: str(Path(getattr(self, name)).resolve()) for name, var in self.ENV.items()},
            "QUIZ_SITE_WORKERS": str(self.workers),
            "QUIZ_TRUST_ANSWERS": "1" if self.trust_answers else "0",
        }
