"""The study site: ``quiz site build`` and ``quiz site serve``."""

from __future__ import annotations

from quiz.cli import main


@main.group()
def site() -> None:
    """Build or serve the static study site generated from the cards."""
