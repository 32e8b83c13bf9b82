"""Errors a user can act on. The CLI prints each as one ``Error: …`` line and exits 1."""

from __future__ import annotations


class QuizError(Exception):
    """A problem with the user's input or data (never a bug): shown as one line, no traceback."""

    def lines(self) -> list[str]:
        return [str(self)]
