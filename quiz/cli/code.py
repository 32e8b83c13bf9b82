"""``quiz code``: write the mechanism yourself (attention, a causal mask, GQA…) and have it graded by the proofs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from quiz.cli.base import db_option, main, open_store, out
from quiz.errors import QuizError
from quiz.exercises import MEMORY_MB, TIMEOUT_SECONDS, catalogue, find, identify, run_check, solution, starter
from quiz.paths import shown_path


def _usage(error: QuizError) -> None:
    """A file or id the user got wrong: exit 2, as the issue's contract says (1 means a check failed)."""
    for line in error.lines():
        click.echo(f"Error: {line}", err=True)
    sys.exit(2)


@main.group()
def code() -> None:
    """Coding exercises: write attention, a causal mask, GQA… yourself; the proofs grade it and name the mistake.

    \b
    quiz code list                 the exercises and how you did
    quiz code start sdpa           write sdpa.py, a starter with the signature and specification
    quiz code check sdpa.py        run the checks (exit 0 all pass, 1 a check fails, 2 usage)
    quiz code solution sdpa        the reference solution, after a confirmation
    """


def _status(progress: Any) -> str:
    if progress is None:
        return "not started"
    when = progress.last_at.astimezone().strftime("%Y-%m-%d %H:%M")
    return f"passed {when}" if progress.last_passed else f"failing ({progress.attempts} tries, last {when})"


@code.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@db_option
def list_(as_json: bool, db: Path | None) -> None:
    """Every exercise: its id, the card it practises, difficulty, and your status."""
    from quiz.store import exercise_progress

    with open_store(db) as store:
        progress = exercise_progress(store)
    exercises = catalogue()
    if as_json:
        rows = []
        for e in exercises:
            p = progress.get(e.id)
            rows.append(
                {
                    "id": e.id,
                    "card": e.card,
                    "difficulty": e.difficulty,
                    "title": e.title,
                    "function": e.function,
                    "status": "not started" if p is None else "passed" if p.last_passed else "failing",
                    "attempts": p.attempts if p else 0,
                    "last_attempt": p.last_at.isoformat() if p else None,
                    "first_passed": p.first_passed_at.isoformat() if p and p.first_passed_at else None,
                }
            )
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from rich.table import Table

    table = Table(title=f"{len(exercises)} exercises · quiz code start ID", title_justify="left")
    for column in ("id", "card", "difficulty", "status"):
        table.add_column(column)
    for e in exercises:
        table.add_row(e.id, e.card, e.difficulty, _status(progress.get(e.id)))
    out.print(table)


@code.command()
@click.argument("exercise_id", metavar="ID")
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(),
    show_default=".",
    help="Folder to write the starter file in (created if missing).",
)
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
def start(exercise_id: str, folder: Path, force: bool) -> None:
    """Write a starter file for exercise ID: the signature, its specification and a worked example.

    Example: quiz code start sdpa --dir ~/practice
    """
    try:
        exercise = find(exercise_id)
    except QuizError as error:
        _usage(error)
    path = folder / exercise.file_name
    if path.exists() and not force:
        _usage(QuizError(f"{shown_path(path)} exists and was left untouched; pass --force to overwrite it"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(starter(exercise), encoding="utf-8")
    except OSError as exc:
        raise QuizError(f"{shown_path(path)}: cannot be written ({exc.strerror})") from None
    out.print(f"Wrote {shown_path(path)}: write {exercise.function}, then check it with:")
    out.print(f"  quiz code check {shown_path(path)}")


@code.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the result record as JSON.")
@click.option("--timeout", type=click.FloatRange(min=1), default=TIMEOUT_SECONDS, show_default=True, help="Seconds.")
@click.option("--memory", "memory_mb", type=click.IntRange(min=512), default=MEMORY_MB, show_default=True, help="MB.")
@db_option
def check(file: Path, as_json: bool, timeout: float, memory_mb: int, db: Path | None) -> None:
    """Run the exercise's checks on your FILE, in a separate process; on a failure, show the first failing check
    side by side and name the mistake if it is a known one.

    Exit status 0 when every check passes, 1 when one fails, 2 for a usage error.
    """
    try:
        exercise = identify(file)
    except QuizError as error:
        _usage(error)
    record = run_check(exercise, file, timeout=timeout, memory_mb=memory_mb)
    passed = record["status"] == "passed"
    _save(db, exercise.id, record)
    if as_json:
        click.echo(json.dumps(record, indent=2, ensure_ascii=False))
    else:
        _show(record)
    sys.exit(0 if passed else 1)


def _save(db: Path | None, exercise_id: str, record: dict[str, Any]) -> None:
    from quiz.store import now_utc, record_attempt

    failure = record.get("failure") or {}
    diagnosis = record.get("diagnosis") or []
    detail = None if record["status"] == "passed" else json.dumps(
        {"check": failure.get("check"), "error": record.get("error"), "diagnosis": [d["name"] for d in diagnosis],
         "claims": [c["proof"] for c in record.get("claims") or [] if c["status"] != "passed"]}
    )  # fmt: skip
    with open_store(db) as store:
        record_attempt(store, exercise_id, record["status"] == "passed", now=now_utc(), detail=detail)


def _show(record: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    checks = record.get("checks", [])
    for c in checks:
        mark = "[green]✓[/]" if c["problem"] is None else "[red]✗[/]"
        out.print(f"{mark} {escape(c['name'])}")
    if record["status"] == "passed":
        claims = f" and {len(record['claims'])} card claims" if record.get("claims") else ""
        out.print(f"[green]All {len(checks)} checks{claims} pass.[/] (quiz code list shows your progress)")
    elif record.get("error"):
        out.print(f"[red]{escape(record['error'])}[/]")
    failure = record.get("failure")
    if failure and not record.get("error"):  # a stub or a refused call: the error line says it all
        out.print(f"\n[bold]First failing check:[/] {escape(failure['check'])} ({escape(failure['why'])})")
        out.print(f"  {escape(failure['problem'])}")
        for name, value in failure["inputs"]:
            out.print(f"[dim]{escape(name)} =[/] {escape(value)}")
        table = Table(show_lines=False)
        table.add_column("expected")
        table.add_column(f"yours: {failure['label']}" if failure["label"] else "yours")
        table.add_row(escape(failure["expected"]), escape(failure["actual"]))
        out.print(table)
        diagnosis = record.get("diagnosis") or []
        if diagnosis:
            for d in diagnosis:
                explanation = d["explanation"][:1].upper() + d["explanation"][1:]
                out.print(f"[bold]Diagnosis: {escape(d['name'])}.[/] {escape(explanation)}.")
                out.print(
                    f"  See {escape(d['pitfall'])}  (quiz show {d['pitfall'].split(':')[0].split(' ')[0]} --answer)"
                )
        else:
            out.print(
                "Diagnosis: no known mistake matches your outputs; compare expected and yours above "
                f"(quiz code solution {record['exercise']} shows the reference)."
            )
    _show_claims(record.get("claims") or [])
    if record.get("printed"):
        out.print("\n[dim]Your code printed (not part of the result):[/]")
        out.print(escape(record["printed"][-2000:]))


def _show_claims(claims: list[dict[str, Any]]) -> None:
    """The card's claims, run on the learner's function: each verdict under the card's statement."""
    from rich.markup import escape

    if not claims:
        return
    out.print("\n[bold]The card's own claims, run on your code:[/]")
    for c in claims:
        mark = "[green]✓[/]" if c["status"] == "passed" else "[red]✗[/]"
        out.print(f"{mark} {escape(c['card'])}: {escape(c['statement'])}")
        if c["status"] == "error":
            out.print(f"    [red]{escape(c['error'])}[/]")
            continue
        out.print(f"    measured {escape(c['measured'])}, expected {escape(c['expected'])} ({escape(c['derivation'])})")
        if c["status"] == "failed" and c.get("counterfactual"):
            broken = escape(c["counterfactual"])
            out.print(f"    [bold]yours measures what the card's broken mechanism does:[/] {broken}")
    failing = [c for c in claims if c["status"] != "passed"]
    if failing:
        cards = " · ".join(f"quiz show {card} --answer" for card in dict.fromkeys(c["card"] for c in failing))
        out.print(f"[red]{len(failing)} of {len(claims)} card claims do not hold for your code.[/] ({cards})")


@code.command("solution")
@click.argument("exercise_id", metavar="ID")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def solution_(exercise_id: str, yes: bool) -> None:
    """Show the reference solution of exercise ID (after a confirmation: try it yourself first)."""
    try:
        exercise = find(exercise_id)
    except QuizError as error:
        _usage(error)
    if not yes and not click.confirm(f"Show the solution of {exercise.id}?", default=False, err=True):
        click.echo("Not shown.", err=True)
        return
    click.echo(solution(exercise), nl=False)
