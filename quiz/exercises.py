"""Coding exercises without torch: the catalogue (read from the exercise modules with ``ast``, not imported), the
starter and solution texts, and the check, run in a separate process with a time and a memory limit."""

from __future__ import annotations

import ast
import functools
import json
import os
import re
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quiz.errors import QuizError
from quiz.paths import EXERCISES_DIR, PROJECT_ROOT

HEADER = "# quiz exercise: {id}"
_HEADER_RE = re.compile(r"^#\s*quiz exercise:\s*([a-z0-9][a-z0-9-]*)", re.MULTILINE)
# The learner's code gets TIMEOUT_SECONDS, counted from when the check process is ready (torch imported, the
# expected values computed): that start-up takes 1.5 s on a quiet 2-core machine but 10 s on a busy one.
TIMEOUT_SECONDS = 10.0
STARTUP_SECONDS = 120.0
MEMORY_MB = 4096


class ExerciseError(QuizError):
    pass


@dataclass(frozen=True)
class Exercise:
    id: str
    card: str
    difficulty: str
    title: str
    function: str
    imports: str
    path: Path

    @property
    def file_name(self) -> str:
        return self.id.replace("-", "_") + ".py"


def _literals(tree: ast.Module) -> dict[str, Any]:
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return found


@functools.lru_cache(maxsize=64)
def parsed(source: str) -> ast.Module:
    """An exercise module's syntax tree, keyed by its text (an edited module is parsed again): a site build reads
    each of the 25 modules four times, and parsing them was a tenth of a one-card rebuild. Read it, never change it."""
    return ast.parse(source)


def _read(path: Path) -> tuple[Exercise, ast.Module, str]:
    source = path.read_text(encoding="utf-8")
    tree = parsed(source)
    values = _literals(tree)
    keys = ("ID", "CARD", "DIFFICULTY", "TITLE", "FUNCTION", "IMPORTS")
    missing = [k for k in keys if not isinstance(values.get(k), str)]
    if missing:
        raise ExerciseError(f"{path}: no {', '.join(missing)} (a module-level string each)")
    exercise = Exercise(*(values[k] for k in keys), path=path)  # type: ignore[arg-type]
    return exercise, tree, source


def catalogue(folder: Path = EXERCISES_DIR) -> list[Exercise]:
    """Every exercise, in file-name order."""
    return [_read(path)[0] for path in sorted(folder.glob("*.py")) if not path.name.startswith("_")]


def find(exercise_id: str, folder: Path = EXERCISES_DIR) -> Exercise:
    for exercise in catalogue(folder):
        if exercise.id == exercise_id:
            return exercise
    known = ", ".join(e.id for e in catalogue(folder))
    raise ExerciseError(f"no exercise '{exercise_id}'; the exercises are: {known} (quiz code list)")


def _function(exercise: Exercise) -> tuple[ast.FunctionDef, str]:
    _, tree, source = _read(exercise.path)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == exercise.function:
            return node, source
    raise ExerciseError(f"{exercise.path}: no reference function {exercise.function}")


def starter(exercise: Exercise) -> str:
    """The file the learner starts from: a header naming the exercise, the signature, the specification and a
    body that raises NotImplementedError."""
    node, source = _function(exercise)
    lines = source.splitlines()
    docstring = node.body[0]
    signature_and_doc = "\n".join(lines[node.lineno - 1 : docstring.end_lineno])
    return (
        f"{HEADER.format(id=exercise.id)}   ({exercise.title}; practises the card {exercise.card})\n"
        f"# Check it with:  quiz code check {exercise.file_name}\n"
        f"{exercise.imports}\n\n{signature_and_doc}\n"
        f'    raise NotImplementedError("write {exercise.function}")\n'
    )


def solution(exercise: Exercise) -> str:
    """The reference solution: the imports and the function, with its docstring."""
    node, source = _function(exercise)
    return f"{exercise.imports}\n\n{ast.get_source_segment(source, node)}\n"


def identify(file: Path, folder: Path = EXERCISES_DIR) -> Exercise:
    """The exercise a learner's file is for: its header line, else its name (sdpa.py, gqa_expand_kv.py)."""
    try:
        head = file.read_text(encoding="utf-8", errors="replace")[:2000]
    except FileNotFoundError:
        raise ExerciseError(f"{file}: no such file; start one with: quiz code start ID") from None
    except OSError as exc:
        raise ExerciseError(f"{file}: cannot be read ({exc.strerror})") from None
    if match := _HEADER_RE.search(head):
        return find(match.group(1), folder)
    by_name = file.stem.replace("_", "-")
    if by_name in {e.id for e in catalogue(folder)}:
        return find(by_name, folder)
    raise ExerciseError(
        f"{file}: cannot tell which exercise this is: no '{HEADER.format(id='ID')}' line and the name is no "
        "exercise's (quiz code list)"
    )


def run_check(
    exercise: Exercise, file: Path, *, timeout: float = TIMEOUT_SECONDS, memory_mb: int = MEMORY_MB
) -> dict[str, Any]:
    """Check ``file`` in a separate process; the result record it sends back over a pipe, with what the learner's
    code printed. A process that dies, hangs or exits without sending a record has not passed."""
    read_end, write_end = os.pipe()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])))
    command = [sys.executable, "-m", "answers.exercises._grade", exercise.id, str(file.resolve()), str(write_end)]
    process = subprocess.Popen(
        [*command, str(memory_mb)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        pass_fds=(write_end,),
        env=env,
        cwd=file.resolve().parent,
        start_new_session=True,  # a hang is killed with everything it started
    )
    os.close(write_end)
    received: list[bytes] = []
    ready = threading.Event()
    reader = threading.Thread(target=_read_record, args=(read_end, received, ready), daemon=True)
    reader.start()
    ready.wait(STARTUP_SECONDS)  # set as well when the process dies before it is ready (the pipe closes)
    try:
        out, errors = process.communicate(timeout=timeout)
        hung = False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        out, errors = process.communicate()
        hung = True
    reader.join(timeout=5)
    printed = (out.decode(errors="replace") + errors.decode(errors="replace")).strip()
    base = {"exercise": exercise.id, "function": exercise.function, "card": exercise.card, "printed": printed}
    if hung:
        return base | {"status": "error", "error": f"no result within {timeout:g} s: stopped (an endless loop?)"}
    try:
        record = json.loads(received[0]) if received and received[0] else None
    except json.JSONDecodeError:
        record = None
    if not isinstance(record, dict) or record.get("exercise") != exercise.id:
        last = printed.splitlines()[-1] if printed else "nothing printed"
        why = (
            f"killed by signal {-process.returncode}" if process.returncode < 0 else f"exit status {process.returncode}"
        )
        return base | {"status": "error", "error": f"the check ended ({why}) without a result: {last}"}
    return record | base


def _read_record(fd: int, received: list[bytes], ready: threading.Event) -> None:
    """Read the pipe to its end: a first line saying the process is ready, then the record."""
    chunks = []
    with os.fdopen(fd, "rb") as pipe:
        while chunk := pipe.read1(65536):
            chunks.append(chunk)
            if b"\n" in chunk:
                ready.set()
    ready.set()
    received.append(b"".join(chunks).partition(b"\n")[2])
