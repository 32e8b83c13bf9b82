"""Where the project's own deck lives. A module of its own so the command line can name the defaults
without importing quiz.deck (yaml, pydantic)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_QUESTIONS = PROJECT_ROOT / "questions"
DEFAULT_ANSWERS = PROJECT_ROOT / "answers"
