"""Commands about the cards themselves: list, show, verify, check."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from quiz.cli.base import err, filters, main, out, printable, with_cards, with_deck

if TYPE_CHECKING:
    from quiz.cache import CardIndex, CardView
    from quiz.deck import Deck
    from quiz.proofs import ClaimResult


@main.command("list")
@filters
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@with_cards
def list_cards(cards: CardIndex, topic: str | None, tag: str | None, difficulty: str | None, as_json: bool) -> None:
    """List the cards.

    Example: quiz list --topic masking
    """
    chosen = cards.select(topic, tag, difficulty)
    if as_json:
        rows = [
            {"id": c.id, "title": c.title, "topic": c.topic, "difficulty": c.difficulty, "tags": list(c.tags)}
            for c in chosen
        ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not out.is_terminal:
        # A pipe gets plain tab-separated lines, no header: `quiz list | cut -f1` gives ids `show` accepts.
        for c in chosen:
            click.echo(printable(f"{c.id}\t{c.topic}\t{c.difficulty}\t{c.title}"))  # a title is the deck's text
        err.print(f"{len(chosen)} of {len(cards)} cards")
        return
    from rich.table import Table

    # The id is what you copy into show, take or verify: never cut. The title gives way instead.
    table = Table(box=None, pad_edge=False)
    table.add_column("id", no_wrap=True, min_width=max((len(c.id) for c in chosen), default=2))
    table.add_column("topic", no_wrap=True)
    table.add_column("difficulty", no_wrap=True)
    table.add_column("title", no_wrap=True, overflow="ellipsis")
    for c in chosen:
        table.add_row(c.id, c.topic, c.difficulty, c.title)
    out.print(table)
    err.print(f"{len(chosen)} of {len(cards)} cards")


@main.command()
@click.argument("card_id")
@click.option("--answer", is_flag=True, help="Also show the answer, explanation, pitfalls and evidence.")
@click.option(
    "--db",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="Also show the card's history from this progress database: every answer, the schedule, lapses.",
)
@with_cards
def show(cards: CardIndex, card_id: str, answer: bool, db: Path | None) -> None:
    """Show a card's question; with --answer, everything, with its proofs' evidence (run unless cached);
    with --db, your history with it (Anki's Card Info).

    Example: quiz show sqrt-dk-scaling --answer
    """
    from quiz.cli.views import answer_view, question_panel

    card = cards.get(card_id)
    out.print(question_panel(card, plain=not out.is_terminal))
    if answer:
        results = _run_with_progress([card], cards)
        out.print(answer_view(card, results))
    if db is not None:
        _print_history(card.id, db, cards)


def _print_history(card_id: str, db: Path, cards: CardIndex) -> None:
    from rich.table import Table

    from quiz.cli.base import DeckSource, open_store
    from quiz.days import due_from
    from quiz.scheduler import is_learning, stability
    from quiz.store import history, suspended

    grades = {1: "again", 2: "hard", 3: "good", 4: "easy"}
    with open_store(db, DeckSource(cards.root, cards.answers_dir)) as store:
        rows = history(store, card_id)
        progress = store.progress().get(card_id)
        held = card_id in suspended(store)
    if not rows and progress is None:
        out.print("No answers to this card yet: it is new.")
        return
    table = Table(title=f"History: {len(rows)} answers", title_justify="left", box=None, pad_edge=False)
    for column in ("when", "kind", "grade", "mode", "answered"):
        table.add_column(column, overflow="fold")
    for when, kind, grade, correct, mode, _seconds, detail in rows:
        mark = "" if correct is None else " ✓" if correct else " ✗"
        table.add_row(f"{when.astimezone():%Y-%m-%d %H:%M}", kind, grades[grade] + mark, mode, detail or "")
    out.print(table)
    if progress is not None:
        step = "in learning steps" if is_learning(progress.state) else "in review"
        when = due_from(progress.due, is_learning(progress.state)).astimezone()
        out.print(
            f"Next review: {when:%a %d %b %Y %H:%M} · {step} · stability {stability(progress.state):.1f} days · "
            f"{progress.reviews} reviews · {progress.lapses} lapses" + (" · suspended" if held else "")
        )
    else:
        out.print("Reset: new again." + (" Suspended." if held else ""))


@main.command()
@click.argument("card_ids", nargs=-1, metavar="[ID]...")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per claim.")
@click.option("--fresh", is_flag=True, help="Run every claim again, even those cached since they last passed.")
@with_cards
def verify(cards: CardIndex, card_ids: tuple[str, ...], as_json: bool, fresh: bool) -> None:
    """Run the proofs: every claim must hold and its counterfactual must fail.

    A card whose proof module (and every module it imports, and torch) is unchanged since its claims last
    passed answers from the cache. Exit status 1 if any claim fails. Example: quiz verify causal-masking
    """
    from quiz.cli.views import evidence_table, verify_summary

    start = time.perf_counter()
    chosen = [cards.get(i) for i in card_ids] if card_ids else list(cards)
    results = _run_with_progress(chosen, cards, fresh)
    if as_json:
        click.echo(json.dumps([{**r.to_json(), "cached": r.cached} for r in results], indent=2, ensure_ascii=False))
    else:
        out.print(evidence_table(results))
        out.print(verify_summary(results, time.perf_counter() - start))
    if not all(r.passed for r in results):
        sys.exit(1)


@main.command()
@with_deck
def check(deck: Deck) -> None:
    """Validate every card and link without running any proof.

    Example: quiz check --questions my-deck/
    """
    claims = sum(len(card.claims) for card in deck)
    click.echo(f"{len(deck)} cards, {claims} claims: all valid")


def _run_with_progress(cards: list[CardView], deck: CardIndex, fresh: bool = False) -> list[ClaimResult]:
    """The cards' claim results, from the proof cache or run, with a progress bar on stderr when it is a
    terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from quiz.proofs import ProofCache, prove

    total = sum(len(card.claims) for card in cards)
    with Progress(
        TextColumn("proving", style="bold"),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task("importing torch…", total=total)

        def advance(result: ClaimResult) -> None:
            progress.update(task, advance=1, description=f"{result.card} · {result.claim}")

        return prove(cards, deck.answers_dir, trusted=deck.trusted, cache=ProofCache(), fresh=fresh, on_result=advance)
