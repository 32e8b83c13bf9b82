"""How long `quiz take` takes to show its first question, beside `python -c pass` and a bare click hello-world,
measured in the same run (median of N runs each, interleaved so machine noise hits all alike).

    python bench/startup.py [--runs 21] [--questions DIR]

Uses a private database and cache dir in a temp folder, never your own. The bank is a snapshot of the
project's questions/ copied to the temp folder.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
HELLO = """\
import click


@click.command()
def hello():
    click.echo("hello")


hello()
"""
LAUNCH = "import sys; sys.argv[0] = 'quiz'; from quiz.cli import main; main()"
# The prompt under the first question (output is a pipe, so the question is plain text, then the prompt).
PANEL_END = b"[Enter to reveal"


def snapshot_bank(source: Path, target: Path) -> int:
    """Copy the cards that validate together into ``target``; returns how many."""
    sys.path.insert(0, str(PROJECT))
    from quiz.deck import DeckError, load_deck

    for path in sorted(source.glob("*/*.yaml")):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"^related:.*(\n[ \t]+-.*)*", "related: []", text, flags=re.M)
        (target / path.parent.name).mkdir(parents=True, exist_ok=True)
        (target / path.parent.name / path.name).write_text(text, encoding="utf-8")
    for _ in range(200):
        try:
            return len(load_deck(target))
        except DeckError as error:
            bad = {Path(p.path).name for p in error.problems}
            removed = [p for p in target.glob("*/*.yaml") if p.name in bad]
            if not removed:  # a problem in an answer module: drop the card that owns it
                stems = {Path(p.path).stem.replace("_", "-") for p in error.problems}
                removed = [p for p in target.glob("*/*.yaml") if p.stem in stems]
            if not removed:
                raise
            for path in removed:
                path.unlink()
    raise SystemExit("could not find a valid subset of the bank")


def time_command(argv: list[str], env: dict[str, str], until: bytes | None = None) -> float:
    """Seconds from spawn to exit, or to the first appearance of ``until`` on stdout. Runs in the temp dir
    so `python -c` does not pick the package up from the working directory."""
    cwd = env["BENCH_CWD"]
    start = time.perf_counter()
    if until is None:
        subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start
    proc = subprocess.Popen(
        argv, env=env, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    seen = b""
    while until not in seen:
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            proc.wait()
            raise SystemExit(f"quiz take ended before a question: {proc.stderr.read().decode()[-2000:]}")
        seen += chunk
    elapsed = time.perf_counter() - start
    proc.kill()
    proc.wait()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--questions", type=Path, default=PROJECT / "questions")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="quiz-bench-"))
    try:
        bank = tmp / "bank"
        count = snapshot_bank(args.questions, bank)
        env = {
            **os.environ,
            "QUIZ_DB": str(tmp / "progress.sqlite3"),
            "QUIZ_CACHE_DIR": str(tmp / "cache"),
            "COLUMNS": "100",
            "BENCH_CWD": str(tmp),
        }
        hello = tmp / "hello.py"
        hello.write_text(HELLO)
        take = ["take", "--questions", str(bank), "--type", "recall"]  # every card has a recall question
        commands = {
            "python -c pass": ([sys.executable, "-c", "pass"], env, None),
            "click hello-world": ([sys.executable, str(hello)], env, None),
            "quiz take (first question)": ([sys.executable, "-c", LAUNCH, *take], env, PANEL_END),
        }
        shutil.rmtree(tmp / "cache", ignore_errors=True)
        cold = time_command(commands["quiz take (first question)"][0], env, PANEL_END)
        for argv, run_env, until in commands.values():  # warm the OS cache, the .pyc files and the index
            time_command(argv, run_env, until)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, (argv, run_env, until) in commands.items():
                times[name].append(time_command(argv, run_env, until))

        print(f"{count} cards · {args.runs} runs each · {os.cpu_count()} cores · Python {sys.version.split()[0]}")
        print(f"{'command':40} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
        for name, values in times.items():
            print(
                f"{name:40} {statistics.median(values) * 1000:10.1f} "
                f"{min(values) * 1000:8.1f} {max(values) * 1000:8.1f}"
            )
        print(f"{'quiz take, index rebuilt (one cold run)':40} {cold * 1000:10.1f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
