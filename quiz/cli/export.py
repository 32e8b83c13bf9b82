"""Exporting the cards to other study tools: ``quiz export anki``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from quiz.cli.base import err, main, with_deck
from quiz.errors import QuizError

if TYPE_CHECKING:
    from quiz.deck import Deck


@main.group()
def export() -> None:
    """Export the cards to other study tools."""


@export.command("anki")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@with_deck
def export_anki(deck: Deck, path: Path) -> None:
    """Write an Anki deck (.apkg); importing a newer export updates the same notes.

    Example: quiz export anki transformer.apkg
    """
    from quiz.anki import export as write_apkg
    from quiz.proofs import ProofCache

    if path.suffix != ".apkg":
        raise QuizError(f"{path} should end in .apkg, which is what Anki imports")
    try:
        written = write_apkg(list(deck), path, ProofCache(), deck.answers_dir)
    except OSError as exc:
        raise QuizError(f"cannot write {path}: {exc.strerror}") from None
    err.print(f"Wrote {written} cards to {path}")
