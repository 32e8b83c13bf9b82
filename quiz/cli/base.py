"""What every command shares: the ``main`` group (which turns a QuizError into ``Error:`` lines, once for
every command), the consoles, and the deck and filter options."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from rich.console import Console

from quiz.errors import QuizError
from quiz.paths import DEFAULT_ANSWERS, DEFAULT_QUESTIONS, is_own_answers
from quiz.vocab import Difficulty, Topic

if TYPE_CHECKING:
    from quiz.deck import Deck
    from quiz.store import Store

# quiz.deck (yaml, pydantic models) is imported by the commands that load the deck, not here: `quiz take`
# reads a cached index and must show its first question within 150 ms.

# Card text is data from whatever deck was given: it reaches the terminal through these two consoles only.
# Every C0/C1 control character but newline and tab (ESC starts the sequences that set the clipboard, retitle
# the window or hide text; rich itself strips only BEL, BS, VT, FF and CR) and the bidirectional overrides
# that reorder what is shown are removed from the text of every segment as it is written, whatever built the
# renderable. The segments rich makes for its own cursor control are marked as control and pass.
_UNSAFE = dict.fromkeys(
    [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)


def printable(text: str) -> str:
    """``text`` without the characters a terminal would act on rather than show (see ``_UNSAFE``)."""
    return text.translate(_UNSAFE)


class SafeConsole(Console):
    """A rich Console that never parses markup in a plain string (a title like ``Costs [/] and benefits`` is
    text, not a closing tag) and never writes a control character that came from text."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(markup=False, highlight=False, **kwargs)

    def render(self, renderable: Any, options: Any = None) -> Any:
        for segment in super().render(renderable, options):
            if segment.control or segment.text.isprintable():
                yield segment
            else:
                yield segment._replace(text=printable(segment.text))


out = SafeConsole()
err = SafeConsole(stderr=True)


def fail(error: QuizError) -> NoReturn:
    """Say what is wrong, one ``Error:`` line per problem, and exit 1."""
    for line in error.lines():
        click.echo(printable(f"Error: {line}"), err=True)
    sys.exit(1)


def load_deck(*args: Any, **kwargs: Any) -> Deck:
    """``quiz.deck.load_deck``, imported on first use: see the note on the imports above."""
    from quiz.deck import load_deck as load

    return load(*args, **kwargs)


@dataclass(frozen=True)
class DeckSource:
    """Where the cards and their proofs come from, and whether those proofs may be run."""

    questions: Path
    answers: Path
    trust_answers: bool = False

    @property
    def trusted(self) -> bool:
        """The project's own proofs always; a deck's own answers folder only when the user says so."""
        return self.trust_answers or is_own_answers(self.answers)

    def load(self) -> Deck:
        return load_deck(self.questions, self.answers, trust_answers=self.trust_answers)


def deck_source(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--questions DIR``, ``--answers DIR`` and ``--trust-answers``; pass them as ``source``, unloaded
    (``quiz take`` reads a cached index instead of the YAML)."""

    @click.option(
        "--trust-answers",
        is_flag=True,
        help="Allow running proof modules from --answers (they are code: only for folders you trust).",
    )
    @click.option(
        "--answers",
        "answers_dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=DEFAULT_ANSWERS,
        show_default="the project's answers/",
        help="Folder of the deck's own proof modules.",
    )
    @click.option(
        "--questions",
        "questions_dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=DEFAULT_QUESTIONS,
        show_default="the project's questions/",
        help="Folder of cards to use (<topic>/<card-id>.yaml).",
    )
    @wraps(command)
    def wrapper(*args: Any, questions_dir: Path, answers_dir: Path, trust_answers: bool, **kwargs: Any) -> Any:
        return command(*args, source=DeckSource(questions_dir, answers_dir, trust_answers), **kwargs)

    return wrapper


def with_deck(command: Callable[..., Any]) -> Callable[..., Any]:
    """The deck options, with the deck loaded and passed as ``deck``."""

    @deck_source
    @wraps(command)
    def wrapper(*args: Any, source: DeckSource, **kwargs: Any) -> Any:
        return command(*args, deck=source.load(), **kwargs)

    return wrapper


def with_cards(command: Callable[..., Any]) -> Callable[..., Any]:
    """The deck options, with the validated cards (from the card cache when no file changed) passed as
    ``cards``: no YAML, no pydantic on a warm start."""

    @deck_source
    @wraps(command)
    def wrapper(*args: Any, source: DeckSource, **kwargs: Any) -> Any:
        from quiz.cache import load_cards

        return command(*args, cards=load_cards(source.questions, source.answers, source.trust_answers), **kwargs)

    return wrapper


def db_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--db",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        help="Progress database (default: $QUIZ_DB, else progress.sqlite3 in your user data folder).",
    )(command)


def open_store(db: Path | None, source: DeckSource | None = None, *, writing: bool = False) -> Store:
    """The progress database, holding ``source``'s deck's progress; ``writing`` refuses one that cannot take
    answers before the first question."""
    from quiz.store import OWN_DECK, Store, deck_key, default_db_path

    return Store(db or default_db_path(), deck=deck_key(source.questions) if source else OWN_DECK, writing=writing)


def filters(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option(
        "--difficulty", type=click.Choice([d.value for d in Difficulty]), help="Only cards of this difficulty."
    )(command)
    command = click.option("--tag", metavar="TAG", help="Only cards with this tag.")(command)
    return click.option("--topic", type=click.Choice([t.value for t in Topic]), help="Only this topic.")(command)


# Which module defines each command. A command's module is imported only when that command runs (or when
# help lists them all): `quiz take` then never pays for the modules of verify, the site or the export.
COMMAND_MODULES = {
    **dict.fromkeys(("list", "show", "verify", "check"), "quiz.cli.cards"),
    "take": "quiz.cli.take",
    **dict.fromkeys(("suspend", "reset"), "quiz.cli.schedule"),
    "interview": "quiz.cli.interview",
    "stats": "quiz.cli.stats",
    "export": "quiz.cli.export",
    "site": "quiz.cli.site",
    "code": "quiz.cli.code",
}


def _tolerate_narrow_encodings() -> None:
    """A latin-1 or ASCII terminal (or PYTHONIOENCODING) cannot show √, — or ·: print '?' for those characters
    rather than crash on the first one, with nothing saved."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
        if not encoding.startswith("utf") and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


class QuizGroup(click.Group):
    """The one place a user error is handled: any QuizError a command raises (or a subcommand's, since
    groups invoke through here) becomes ``Error:`` lines and exit status 1. Commands load lazily."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMAND_MODULES:
            import importlib

            importlib.import_module(COMMAND_MODULES[name])  # its decorators add the command to this group
        return super().get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        for name in COMMAND_MODULES:
            self.get_command(ctx, name)
        return super().list_commands(ctx)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        _tolerate_narrow_encodings()
        return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QuizError as error:
            fail(error)


@click.group(cls=QuizGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="transformer-proofs")
def main() -> None:
    """A Transformer interview question bank whose every answer is proved by running code.

    \b
    Start with:  quiz take          (a quiz in the terminal)
                 quiz show causal-masking --answer
                 quiz verify        (run every proof)

    \b
    Environment:
      QUIZ_DB          progress database (default: progress.sqlite3 in your user data folder)
      QUIZ_NOW         move the clock: an ISO 8601 time, e.g. QUIZ_NOW=2026-12-03T08:00+01:00 quiz take
                       (without an offset it is read as UTC)
      QUIZ_DAY_STARTS  the local hour a study day starts at, 0-23 (default 4, as in Anki)
      TZ               your time zone, for days and due times
      QUIZ_CACHE_DIR   where the card and proof caches live
    """
