"""``quiz code``: write the mechanism yourself (attention, a causal mask, GQA…) and have it graded by the proofs."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from quiz.cli.base import db_option, main, open_store, out, printable
from quiz.errors import QuizError
from quiz.exercises import MEMORY_MB, TIMEOUT_SECONDS, catalogue, find, identify, run_check, solution, starter
from quiz.paths import shown_path

if TYPE_CHECKING:
    from quiz.store import Checked


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


def _due_in(progress: Any, now: datetime) -> int | None:
    """Study days until the exercise is due (0: due now), None when it was never checked."""
    from quiz.days import days_until

    if progress is None:
        return None
    return 0 if progress.is_due(now) else days_until(progress.due, progress.failing, now)


def _json_row(e: Any, p: Any, due_in: int | None) -> dict[str, Any]:
    return {
        "id": e.id,
        "card": e.card,
        "difficulty": e.difficulty,
        "title": e.title,
        "function": e.function,
        "status": "not started" if p is None else "passed" if p.last_passed else "failing",
        "attempts": p.attempts if p else 0,
        "last_attempt": p.last_at.isoformat() if p else None,
        "first_passed": p.first_passed_at.isoformat() if p and p.first_passed_at else None,
        "due": None if p is None or p.due is None else p.due.isoformat(),
        "due_in_days": due_in,  # 0: due now; null: never checked
        "reviews": p.reviews if p else 0,
        "lapses": p.lapses if p else 0,
    }


@code.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
@click.option("--due", "due_only", is_flag=True, help="Only the exercises due now.")
@db_option
def list_(as_json: bool, due_only: bool, db: Path | None) -> None:
    """Every exercise: its id, the card it practises, difficulty, your status and when it is due again.

    When the output is not a terminal, one tab-separated line per exercise: id, card, difficulty, status, due.
    """
    from quiz.days import in_days
    from quiz.store import exercise_progress, now_utc

    with open_store(db) as store:
        progress = exercise_progress(store)
    now = now_utc()
    rows = []
    for e in catalogue():
        p = progress.get(e.id)
        due_in = _due_in(p, now)
        if due_only and due_in != 0:
            continue
        rows.append((e, p, due_in))
    if as_json:
        listed = [_json_row(e, p, due_in) for e, p, due_in in rows]
        click.echo(json.dumps(listed, indent=2, ensure_ascii=False))
        return
    cells = [
        (e.id, e.card, e.difficulty, _status(p), "" if due_in is None else in_days(due_in)) for e, p, due_in in rows
    ]
    if not out.is_terminal:  # a pipe or a file: whole ids, one line each, for grep and cut
        for row in cells:
            click.echo(printable("\t".join(row)))
        return
    from rich.table import Table

    what = "exercises due now" if due_only else "exercises"
    table = Table(title=f"{len(cells)} {what} · quiz code start ID", title_justify="left")
    for column in ("id", "card", "difficulty", "status", "due"):
        table.add_column(column, no_wrap=column == "id", overflow="fold")
    for row in cells:
        table.add_row(*row)
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

    Each check is one review of the exercise, saved in the progress database: failing, it stays due until it
    passes; passing while due, it comes back in days (sooner after a failure that day). --json adds "schedule".

    Exit status 0 when every check passes, 1 when one fails, 2 for a usage error.
    """
    try:
        exercise = identify(file)
    except QuizError as error:
        _usage(error)
    record = run_check(exercise, file, timeout=timeout, memory_mb=memory_mb)
    passed = record["status"] == "passed"
    # The untouched starter is not an attempt: saving it would count a lapse on an exercise once passed.
    checked = None if record.get("unwritten") else _save(db, exercise.id, record)
    if as_json:
        schedule = None if checked is None else {"grade": checked.grade_name, "due": checked.due.isoformat()}
        click.echo(json.dumps(record | {"schedule": schedule}, indent=2, ensure_ascii=False))
    else:
        _show(record)
        out.print(_UNWRITTEN if checked is None else _schedule_line(checked))
    sys.exit(0 if passed else 1)


_UNWRITTEN = "Not saved: the function is still the starter's, so this check is not a review of the exercise."


def _save(db: Path | None, exercise_id: str, record: dict[str, Any]) -> Checked:
    from quiz.store import now_utc, record_attempt

    failure = record.get("failure") or {}
    diagnosis = record.get("diagnosis") or []
    detail = None if record["status"] == "passed" else json.dumps(
        {"check": failure.get("check"), "error": record.get("error"), "diagnosis": [d["name"] for d in diagnosis],
         "claims": [c["proof"] for c in record.get("claims") or [] if c["status"] != "passed"]}
    )  # fmt: skip
    with open_store(db) as store:
        return record_attempt(store, exercise_id, record["status"] == "passed", now=now_utc(), detail=detail)


def _schedule_line(checked: Checked) -> str:
    from quiz.days import days_until, in_days
    from quiz.store import now_utc

    if checked.grade is None:
        days = days_until(checked.due, False, now_utc())
        return f"Saved. It was not due yet, so its schedule stays: due {in_days(days)}."
    if checked.grade_name == "again":
        return "Saved. It stays due until it passes: fix it and check again."
    days = days_until(checked.due, False, now_utc())
    return (
        f"Saved as {checked.grade_name.capitalize()}: due again {in_days(days)} ({checked.due.astimezone():%Y-%m-%d})."
    )


def _show(record: dict[str, Any]) -> None:
    # Our words are styled with rich Text spans; every piece of the learner's or the exercise's text is a plain
    # span, never markup (out is a SafeConsole: a "[/]" in a check name or in printed output stays text).
    from rich.table import Table
    from rich.text import Text

    checks = record.get("checks", [])
    for c in checks:
        mark = Text("✓", "green") if c["problem"] is None else Text("✗", "red")
        out.print(Text.assemble(mark, " ", c["name"]))
    if record["status"] == "passed":
        claims = f" and {len(record['claims'])} card claims" if record.get("claims") else ""
        out.print(
            Text.assemble((f"All {len(checks)} checks{claims} pass.", "green"), " (quiz code list shows your progress)")
        )
    elif record.get("error"):
        out.print(Text(record["error"], "red"))
    failure = record.get("failure")
    if failure and not record.get("error"):  # a stub or a refused call: the error line says it all
        out.print()
        out.print(Text.assemble(("First failing check:", "bold"), f" {failure['check']} ({failure['why']})"))
        out.print(Text(f"  {failure['problem']}"))
        for name, value in failure["inputs"]:
            out.print(Text.assemble((f"{name} =", "dim"), f" {value}"))
        table = Table(show_lines=False)
        table.add_column("expected")
        table.add_column(Text(f"yours: {failure['label']}" if failure["label"] else "yours"))
        table.add_row(Text(failure["expected"]), Text(failure["actual"]))
        out.print(table)
        diagnosis = record.get("diagnosis") or []
        if diagnosis:
            for d in diagnosis:
                explanation = d["explanation"][:1].upper() + d["explanation"][1:]
                out.print(Text.assemble((f"Diagnosis: {d['name']}.", "bold"), f" {explanation}."))
                card = d["pitfall"].split(":")[0].split(" ")[0]
                out.print(Text(f"  See {d['pitfall']}  (quiz show {card} --answer)"))
        else:
            out.print(
                Text(
                    "Diagnosis: no known mistake matches your outputs; compare expected and yours above "
                    f"(quiz code solution {record['exercise']} shows the reference)."
                )
            )
    _show_claims(record.get("claims") or [])
    if record.get("printed"):
        out.print()
        out.print(Text("Your code printed (not part of the result):", "dim"))
        out.print(Text(record["printed"][-2000:]))


def _show_claims(claims: list[dict[str, Any]]) -> None:
    """The card's claims, run on the learner's function: each verdict under the card's statement."""
    from rich.text import Text

    if not claims:
        return
    out.print()
    out.print(Text("The card's own claims, run on your code:", "bold"))
    for c in claims:
        mark = Text("✓", "green") if c["status"] == "passed" else Text("✗", "red")
        out.print(Text.assemble(mark, f" {c['card']}: {c['statement']}"))
        if c["status"] == "error":
            out.print(Text(f"    {c['error']}", "red"))
            continue
        out.print(Text(f"    measured {c['measured']}, expected {c['expected']} ({c['derivation']})"))
        if c["status"] == "failed" and c.get("counterfactual"):
            said = ("    yours measures what the card's broken mechanism does:", "bold")
            out.print(Text.assemble(said, f" {c['counterfactual']}"))
    failing = [c for c in claims if c["status"] != "passed"]
    if failing:
        cards = " · ".join(f"quiz show {card} --answer" for card in dict.fromkeys(c["card"] for c in failing))
        verdict = (f"{len(failing)} of {len(claims)} card claims do not hold for your code.", "red")
        out.print(Text.assemble(verdict, f" ({cards})"))


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
