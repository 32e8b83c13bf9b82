"""``quiz``: the command line. A thin layer over the library; the only package that prints.

Commands live in one module per group: ``cards`` (list, show, verify, check), ``practice`` (take) and
``site`` (site build, site serve).

Data goes to stdout, progress and errors to stderr. A user error is one ``Error: …`` line per problem and
exit status 1; a usage error (bad option) is click's message and exit status 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from quiz.errors import QuizError
from quiz.paths import DEFAULT_ANSWERS, DEFAULT_QUESTIONS
from quiz.vocab import Difficulty, Topic

# quiz.deck (yaml, pydantic models) is imported by the commands that load the deck, not here: `quiz take`
# reads a cached index and must show its first question within 150 ms.

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def fail(error: QuizError) -> None:
    for line in error.lines():
        click.echo(f"Error: {line}", err=True)
    sys.exit(1)


def load_deck(*args: Any, **kwargs: Any):
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
        return self.trust_answers or self.answers.resolve() == DEFAULT_ANSWERS.resolve()

    def load(self):
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
    """The deck options, with the deck loaded and passed as ``deck``; any QuizError becomes ``Error:`` lines."""

    @deck_source
    @wraps(command)
    def wrapper(*args: Any, source: DeckSource, **kwargs: Any) -> Any:
        try:
            return command(*args, deck=source.load(), **kwargs)
        except QuizError as error:
            fail(error)

    return wrapper


def filters(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option("--difficulty", type=click.Choice([d.value for d in Difficulty]))(command)
    command = click.option("--tag", metavar="TAG", help="Only cards with this tag.")(command)
    return click.option("--topic", type=click.Choice([t.value for t in Topic]), help="Only this topic.")(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="transformer-proofs")
def main() -> None:
    """A Transformer interview question bank whose every answer is proved by running code.

    \b
    Start with:  quiz take          (a quiz in the terminal)
                 quiz show causal-masking --answer
                 quiz verify        (run every proof)
    """


def register() -> None:
    from quiz.cli import cards, practice, site  # noqa: F401  (each module adds its commands to `main`)


register()
