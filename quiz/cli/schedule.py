"""``quiz suspend`` and ``quiz reset``: change which cards ``quiz take`` asks, and when."""

from __future__ import annotations

from pathlib import Path

import click

from quiz.cli.base import DeckSource, db_option, deck_source, main, open_store, out


@main.command()
@click.argument("card_ids", nargs=-1, required=True, metavar="ID...")
@click.option("--off", is_flag=True, help="Unsuspend: ask the cards again when due.")
@db_option
@deck_source
def suspend(card_ids: tuple[str, ...], off: bool, db: Path | None, source: DeckSource) -> None:
    """Stop asking these cards (their schedule is kept); --off asks them again.

    Example: quiz suspend causal-masking
    """
    from quiz.cache import load_cards
    from quiz.store import set_suspended

    index = load_cards(source.questions, source.answers)
    ids = [index.get(i).id for i in card_ids]
    with open_store(db, source) as store:
        set_suspended(store, ids, not off)
    out.print(("Unsuspended: " if off else "Suspended: ") + ", ".join(ids))


@main.command()
@click.argument("card_ids", nargs=-1, required=True, metavar="ID...")
@db_option
@deck_source
def reset(card_ids: tuple[str, ...], db: Path | None, source: DeckSource) -> None:
    """Forget the schedule of these cards: they are new again (their past answers stay in the history).

    Example: quiz reset causal-masking
    """
    from quiz.cache import load_cards
    from quiz.store import reset as forget

    index = load_cards(source.questions, source.answers)
    ids = [index.get(i).id for i in card_ids]
    with open_store(db, source) as store:
        n = forget(store, ids)
    out.print(f"Reset {n} of {len(ids)} cards: they are new again.")
