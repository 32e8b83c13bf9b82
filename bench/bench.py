"""The project's one benchmark: every speed and memory target, each beside a baseline measured in the same run.

    python bench/bench.py [--runs 11] [--json PATH] [--skip-site]     (or: make bench)

Rows, each the median of --runs runs (interleaved, so machine noise hits a row and its baseline alike)
unless marked "one run", with the peak resident memory of the process tree's largest process:

- time to the first question of `quiz take` (warm index; and one run with the index rebuilt), and to the
  end of `quiz list`, `quiz show ID` and `quiz stats` (warm card cache), beside `python -c pass` and a bare
  click hello-world (target ≤ 150 ms each, issue 12);
- loading and validating the whole deck from YAML;
- `quiz verify` over the whole bank, beside a bare `import torch`, with its slowest claim;
- `quiz site build`, cold (empty cache), warm (nothing changed), and warm after editing one card's title or its
  answer (an incremental build: quiz.site.incremental), beside building a one-page MkDocs site.

Everything runs in a temp folder with its own database, caches and a copy of the bank: nothing of yours is
read or written. Targets (issues 3, 4 and 5): first question ≤ 150 ms; verify ≤ 20 s, no claim over 2 s,
peak < 2 GB; site build cold ≤ 30 s, warm ≤ 5 s, one card's text
edited ≤ 2 s (issue 13).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
# What the installed `quiz` script runs (pyproject's [project.scripts]), with this interpreter.
QUIZ = [sys.executable, "-c", "import sys; sys.argv[0] = 'quiz'; from quiz.cli import run; run()"]
HELLO = "import click\n\n@click.command()\ndef hello():\n    click.echo('hello')\n\nhello()\n"
ONE_PAGE_SITE = "site_name: baseline\ntheme:\n  name: material\n  font: false\n"
# The prompt under the first question: output is a pipe, so the question is plain text, then this prompt.
FIRST_QUESTION_SHOWN = b"[Enter to reveal"


@dataclass
class Row:
    name: str
    seconds: float
    peak_mb: float
    runs: int
    baseline: str | None = None
    note: str = ""


def run_once(argv: list[str], env: dict[str, str], cwd: Path, until: bytes | None = None) -> tuple[float, float]:
    """Seconds from spawn to exit (or to ``until`` on stdout), and the child's peak RSS in MB."""
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE if until else subprocess.DEVNULL,
            stderr=errors,
        )
        if until:
            seen = b""
            while until not in seen:
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                seen += chunk
            elapsed = time.perf_counter() - start
            proc.kill()
        proc.stdin.close()
        _, status, usage = os.wait4(proc.pid, 0)  # reaps this child and gives its own peak memory
        elapsed = elapsed if until else time.perf_counter() - start
        errors.seek(0)
        if (until and until not in seen) or (not until and os.waitstatus_to_exitcode(status) != 0):
            raise SystemExit(f"{' '.join(argv[-4:])} failed: {errors.read().decode()[-2000:]}")
        return elapsed, usage.ru_maxrss / 1024


def median_of(runs: int, argv: list[str], env: dict[str, str], cwd: Path, until: bytes | None = None) -> tuple:
    results = [run_once(argv, env, cwd, until) for _ in range(runs)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="runs per timed row (median)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON to this file")
    parser.add_argument("--skip-site", action="store_true", help="leave out the site build rows")
    parser.add_argument("--site-only", action="store_true", help="only the site build rows and their baseline")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="quiz-bench-"))
    try:
        rows = measure(tmp, args.runs, with_site=not args.skip_site, only_site=args.site_only)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_table(rows, args.runs)
    if args.json:
        meta = {"python": platform.python_version(), "cores": os.cpu_count(), "runs": args.runs}
        args.json.write_text(json.dumps({"machine": meta, "rows": [asdict(r) for r in rows]}, indent=2) + "\n")


def measure(tmp: Path, runs: int, with_site: bool, only_site: bool = False) -> list[Row]:
    bank, answers = tmp / "questions", tmp / "answers"
    shutil.copytree(PROJECT / "questions", bank)
    answers.symlink_to(PROJECT / "answers")  # proofs stay the project's own (trusted) package
    # As installed: pip compiles a wheel's modules to bytecode, so a user's start-up never compiles source. A
    # shell with PYTHONDONTWRITEBYTECODE set (as some development shells are) would otherwise time the compiler.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(PROJECT / "quiz"), str(PROJECT / "answers")], check=True
    )
    env = {
        **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        "QUIZ_DB": str(tmp / "progress.sqlite3"),
        "QUIZ_CACHE_DIR": str(tmp / "cache"),
        "COLUMNS": "100",
    }
    (tmp / "hello.py").write_text(HELLO)
    take = [*QUIZ, "take", "--questions", str(bank), "--type", "recall"]
    rows: list[Row] = []
    verify_runs = max(1, runs // 4)
    if not only_site:
        rows += _startup_and_verify(tmp, runs, env, take, bank)
    if with_site:
        rows += _site_rows(tmp, verify_runs, env, bank)
    return rows


def _startup_and_verify(tmp: Path, runs: int, env: dict[str, str], take: list[str], bank: Path) -> list[Row]:
    rows: list[Row] = []

    # Start-up, interleaved with its baselines.
    shutil.rmtree(tmp / "cache", ignore_errors=True)
    cold_take = run_once(take, env, tmp, FIRST_QUESTION_SHOWN)
    timed = {
        "python -c pass": ([sys.executable, "-c", "pass"], None),
        "click hello-world": ([sys.executable, str(tmp / "hello.py")], None),
        "quiz take: first question": (take, FIRST_QUESTION_SHOWN),
        "quiz list": ([*QUIZ, "list", "--questions", str(bank)], None),
        "quiz show causal-masking": ([*QUIZ, "show", "causal-masking", "--questions", str(bank)], None),
        "quiz stats": ([*QUIZ, "stats", "--questions", str(bank)], None),
        "load and validate the deck (YAML)": (
            [sys.executable, "-c", f"from quiz.deck import load_deck; load_deck({str(bank)!r})"],
            None,
        ),
    }
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in timed}
    for _ in range(runs):
        for name, (argv, until) in timed.items():
            samples[name].append(run_once(argv, env, tmp, until))
    for name, values in samples.items():
        baseline = {
            "quiz take: first question": "python -c pass",
            "quiz list": "python -c pass",
            "quiz show causal-masking": "python -c pass",
            "quiz stats": "python -c pass",
            "load and validate the deck (YAML)": "python -c pass",
        }
        rows.append(
            Row(name, statistics.median(v[0] for v in values), max(v[1] for v in values), runs, baseline.get(name))
        )
    rows.append(Row("quiz take: first question, index rebuilt", *cold_take, 1, "python -c pass", "one run"))

    # Proofs: the whole bank, beside the torch import every proof run pays once.
    verify_runs = max(1, runs // 4)
    rows.append(
        Row("import torch", *median_of(verify_runs, [sys.executable, "-c", "import torch"], env, tmp), verify_runs)
    )
    # --fresh: every run proves every claim; a plain verify after it answers from the proof cache.
    seconds, peak = median_of(verify_runs, [*QUIZ, "verify", "--fresh", "--questions", str(bank)], env, tmp)
    claims = json.loads(
        subprocess.run(
            [*QUIZ, "verify", "--fresh", "--json", "--questions", str(bank)],
            env=env,
            cwd=tmp,
            capture_output=True,
            check=True,
        ).stdout
    )
    slowest = max(claims, key=lambda c: c["seconds"])
    note = f"{len(claims)} claims; slowest {slowest['seconds']:.2f} s ({slowest['card']})"
    rows.append(Row("quiz verify --fresh: whole bank", seconds, peak, verify_runs, "import torch", note))
    cached = median_of(runs, [*QUIZ, "verify", "--questions", str(bank)], env, tmp)
    rows.append(Row("quiz verify: whole bank, nothing changed", *cached, runs, None, "from the proof cache"))
    rows.append(_code_check_row(tmp, verify_runs, env))
    return rows


def _code_check_row(tmp: Path, runs: int, env: dict[str, str]) -> Row:
    """`quiz code check` of a right sdpa.py: the exercise's cases and the card claims it runs, in their process."""
    from quiz.exercises import HEADER, find, solution

    exercise = find("sdpa")
    learner = tmp / "learner" / exercise.file_name
    learner.parent.mkdir(exist_ok=True)
    learner.write_text(f"{HEADER.format(id=exercise.id)}\n{solution(exercise)}", encoding="utf-8")
    argv = [*QUIZ, "code", "check", str(learner), "--db", str(tmp / "exercises.sqlite3")]
    return Row("quiz code check: sdpa, right", *median_of(runs, argv, env, tmp), runs, "import torch")


def _site_rows(tmp: Path, verify_runs: int, env: dict[str, str], bank: Path) -> list[Row]:
    rows: list[Row] = []
    site = tmp / "baseline-site"
    (site / "docs").mkdir(parents=True)
    (site / "docs" / "index.md").write_text("# Baseline\n")
    (site / "mkdocs.yml").write_text(ONE_PAGE_SITE)
    mkdocs = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "-q",
        "-f",
        str(site / "mkdocs.yml"),
        "-d",
        str(site / "out"),
    ]
    rows.append(Row("mkdocs build: one-page site", *median_of(verify_runs, mkdocs, env, tmp), verify_runs))
    build = [*QUIZ, "site", "build", "--questions", str(bank), "--output", str(tmp / "site-out")]
    build += ["--cache", str(tmp / "site-cache")]  # a fresh cache: the cold row really is cold
    rows.append(
        Row("quiz site build: cold cache", *run_once(build, env, tmp), 1, "mkdocs build: one-page site", "one run")
    )
    rows.append(
        Row(
            "quiz site build: warm, nothing changed",
            *median_of(verify_runs, build, env, tmp),
            verify_runs,
            "mkdocs build: one-page site",
        )
    )
    card = bank / "attention-core" / "softmax-numerical-stability.yaml"
    original = card.read_text(encoding="utf-8")

    def edited(name: str, note: str, edit: Callable[[int], str]) -> Row:
        """A warm build after ``edit(run)`` of the card, a different text each run so every run really rebuilds."""
        edits = []
        for run in range(verify_runs):
            card.write_text(edit(run), encoding="utf-8")
            edits.append(run_once(build, env, tmp))
        card.write_text(original, encoding="utf-8")
        median = statistics.median(e[0] for e in edits)
        return Row(name, median, max(e[1] for e in edits), verify_runs, "mkdocs build: one-page site", note)

    # The common edit: one card's title, proofs cached.
    rows.append(
        edited(
            "quiz site build: warm, one card's title edited",
            "proofs from the cache; renders the pages that show the title",
            lambda run: original.replace("\ntitle: ", f"\ntitle: (edit {run}) ", 1),
        )
    )
    # The edit that touches one page only: a card's answer (shown on its page and in the self-test).
    rows.append(
        edited(
            "quiz site build: warm, one card's answer edited",
            "proofs from the cache; renders that card's page and the self-test",
            lambda run: original.replace("\nanswer: |\n", f"\nanswer: |\n  (edit {run})\n", 1),
        )
    )
    return rows


def print_table(rows: list[Row], runs: int) -> None:
    by_name = {r.name: r for r in rows}
    print(f"Python {platform.python_version()} · {os.cpu_count()} cores · medians of up to {runs} runs")
    print(f"| {'measurement':42} | {'time':>9} | {'peak MB':>7} | {'vs baseline':>22} | note")
    print(f"|{'-' * 44}|{'-' * 11}|{'-' * 9}|{'-' * 24}|------")
    for r in rows:
        shown = f"{r.seconds * 1000:.0f} ms" if r.seconds < 1 else f"{r.seconds:.2f} s"
        versus = ""
        if r.baseline and r.baseline in by_name:
            versus = f"+{(r.seconds - by_name[r.baseline].seconds) * 1000:.0f} ms over {r.baseline}"
            if r.seconds >= 1:
                versus = f"{r.seconds / by_name[r.baseline].seconds:.1f}× {r.baseline}"
        print(f"| {r.name:42} | {shown:>9} | {r.peak_mb:7.0f} | {versus:>22} | {r.note}")


if __name__ == "__main__":
    main()
