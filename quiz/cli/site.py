"""The study site: ``quiz site build`` and ``quiz site serve``, thin over ``quiz.site``."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.text import Text

from quiz.cli.base import DeckSource, deck_source, err, main

if TYPE_CHECKING:
    from quiz.site import Options


def _options(source: DeckSource, cache: Path | None, workers: int) -> Options:
    from quiz.paths import cache_dir
    from quiz.site import Options

    return Options(source.questions, source.answers, cache or cache_dir(), workers, source.trust_answers)


def site_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--workers", type=click.IntRange(1, 16), default=2, show_default=True, help="Processes running the proofs."
    )(command)
    command = click.option(
        "--cache",
        type=click.Path(path_type=Path, file_okay=False),
        default=None,
        help="Where evidence and figures are cached.  [default: the user cache folder, shared with quiz verify]",
    )(command)
    return deck_source(command)


@main.group()
def site() -> None:
    """Build or serve the static study site generated from the cards."""


@site.command("build")
@site_options
@click.option(
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the built site goes.  [default: site/build/]",
)
@click.option("--no-strict", is_flag=True, help="Let MkDocs warnings pass.")
def build_command(
    source: DeckSource,
    cache: Path | None,
    workers: int,
    output: Path | None,
    no_strict: bool,
) -> None:
    """Prove every card (cached by module hash) and build the site.

    Example: quiz site build && python -m http.server -d site/build
    """
    from quiz.site import DEFAULT_OUTPUT, build_site

    start = time.perf_counter()
    report = build_site(output or DEFAULT_OUTPUT, options=_options(source, cache, workers), strict=not no_strict)
    err.print(
        f"{report.cards} cards, {report.proved} of {report.claims} claims proved, "
        f"{report.figures} figures; proofs run for {report.stats.cards_proved} cards, "
        f"{report.stats.cards_cached} from cache; built in {time.perf_counter() - start:.1f} s"
    )
    if not report.mkdocs:
        err.print("nothing changed since the last build: the site on disk is up to date")
    if report.stats.proved_ids:
        err.print(f"proved again (new or changed): {', '.join(report.stats.proved_ids)}")
    for failure in report.failures:
        err.print(Text.assemble(("not proved:", "yellow"), f" {failure}"))
    click.echo(str((output or DEFAULT_OUTPUT).resolve()))


@site.command("serve")
@site_options
@click.option("--address", default="127.0.0.1:8000", show_default=True, help="Host and port to serve on.")
def serve_command(source: DeckSource, cache: Path | None, workers: int, address: str) -> None:
    """Serve the site locally, rebuilding when a card or a proof changes.

    Example: quiz site serve --address 127.0.0.1:8001
    """
    import logging

    from quiz.site import serve_site

    # MkDocs reports rebuilds and broken links through logging; its own CLI shows them, so ours does too.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)-7s %(message)s"))
    logging.getLogger("mkdocs").addHandler(handler)
    logging.getLogger("mkdocs").setLevel(logging.INFO)
    err.print(f"serving on http://{address}/ (Ctrl-C stops); edits to cards and proofs rebuild the site")
    serve_site(address, options=_options(source, cache, workers))
