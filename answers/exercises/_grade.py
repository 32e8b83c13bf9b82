"""Grade a learner's function against an exercise: run its checks, and name the mistake when one fails.

``python -m answers.exercises._grade ID FILE FD MEMORY_MB`` is the separate process ``quiz code check``
starts: it computes every expected value and every misconception's output first, then refuses the forbidden
functions, imports the learner's file, runs the checks and writes one JSON record to the pipe ``FD``. Only that
record is believed: whatever the learner's code prints goes to stdout, and a process that dies, hangs or exits
before writing it has not passed.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import resource
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from answers.exercises._claims import prepare, run_claims
from answers.exercises._kit import Case, agrees, clone, same, show


class ForbiddenCall(Exception):
    """Raised by a function the exercise asks you to write yourself."""


def exercise_module(exercise_id: str) -> ModuleType:
    return importlib.import_module(f"answers.exercises.{exercise_id.replace('-', '_')}")


def _call(fn: Callable[..., Any], case: Case) -> Any:
    """The function's output on the case, or the exception it raised (SystemExit included)."""
    try:
        return fn(*clone(case.args), **clone(case.kwargs))
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        return exc


def _problem(case: Case, output: Any) -> str | None:
    """None when ``output`` passes ``case``; else what is wrong."""
    if case.raises is not None:
        if isinstance(output, case.raises):
            return None
        if isinstance(output, BaseException):
            return f"raised {type(output).__name__}: {output}; expected {case.raises.__name__}"
        return f"returned instead of raising {case.raises.__name__}"
    if isinstance(output, SystemExit):
        return f"called sys.exit({output.code!r}) instead of returning"
    if isinstance(output, BaseException):
        return f"raised {type(output).__name__}: {output}"
    if case.post is not None:
        try:
            output = case.post(output)
        except Exception as exc:
            return f"{case.post_label} failed on your output: {type(exc).__name__}: {exc}"
    return same(output, case.expected, case.atol, case.rtol)


def _resolve(dotted: str) -> Any:
    """The object a dotted name names: the longest importable module prefix, then attributes (torch.Tensor)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise ModuleNotFoundError(dotted)


@contextmanager
def forbidden(names: dict[str, str]) -> Iterator[None]:
    """Replace each dotted name (``torch.nn.functional.scaled_dot_product_attention``) with one that raises."""
    saved = []
    for dotted, why in names.items():
        owner_name, _, attr = dotted.rpartition(".")
        owner = _resolve(owner_name)
        saved.append((owner, attr, getattr(owner, attr)))

        def refuse(*args: Any, _dotted: str = dotted, _why: str = why, **kwargs: Any) -> Any:
            raise ForbiddenCall(f"{_dotted} is not allowed in this exercise: {_why}")

        setattr(owner, attr, refuse)
    try:
        yield
    finally:
        for owner, attr, original in saved:
            setattr(owner, attr, original)


def evaluate(
    exercise: ModuleType, load: Callable[[], Callable[..., Any]], ready: Callable[[], None] = lambda: None
) -> dict[str, Any]:
    """The result record of the function ``load()`` returns, checked against ``exercise``.

    Expected values and the misconceptions' outputs are computed before the forbidden functions are
    replaced, since the independent references use them (torch's own attention, say)."""
    cases: list[Case] = exercise.cases()
    wrong = [(m, [_call(m.fn, c) for c in cases]) for m in exercise.MISCONCEPTIONS]
    record: dict[str, Any] = {"exercise": exercise.ID, "function": exercise.FUNCTION, "checks": []}
    prepare(exercise)
    ready()  # the learner's time starts now
    with forbidden(getattr(exercise, "FORBIDDEN", {})):
        try:
            fn = load()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            return record | {"status": "error", "error": _load_error(exc)}
        outputs = [_call(fn, c) for c in cases]
    problems = [_problem(c, o) for c, o in zip(cases, outputs, strict=True)]
    record["checks"] = [{"name": c.name, "problem": p} for c, p in zip(cases, problems, strict=True)]
    failing = [i for i, p in enumerate(problems) if p is not None]
    stub = any(isinstance(o, NotImplementedError | ForbiddenCall) for o in outputs)
    # The card's claims run on the learner's function too; only its own calls are refused the forbidden
    # functions, since a claim's independent reference may be torch's own implementation.
    record["claims"] = [] if stub else run_claims(exercise, _guarded(fn, getattr(exercise, "FORBIDDEN", {})))
    if not failing and all(c["status"] == "passed" for c in record["claims"]):
        return record | {"status": "passed"}
    if not failing:
        return record | {"status": "failed"}
    first = failing[0]
    case, output = cases[first], outputs[first]
    record["status"] = "failed"
    if isinstance(output, NotImplementedError):
        record["error"] = f"{exercise.FUNCTION} still raises NotImplementedError: write its body"
        # Every check stopped at the starter's raise: nothing was attempted, so it is no review of the exercise.
        record["unwritten"] = all(isinstance(o, NotImplementedError) for o in outputs)
    elif isinstance(output, ForbiddenCall):
        record["error"] = f"refused: {output}"
    shown_actual = output
    if case.post is not None and not isinstance(output, BaseException):
        try:
            shown_actual = case.post(output)
        except Exception as exc:
            shown_actual = exc
    names = case.arg_names or tuple(f"arg {i}" for i in range(len(case.args)))
    record["failure"] = {
        "check": case.name,
        "why": case.why,
        "problem": problems[first],
        "inputs": [[n, show(a)] for n, a in zip(names, case.args, strict=False)]
        + [[k, show(v)] for k, v in case.kwargs.items()],
        "expected": f"raises {case.raises.__name__}" if case.raises else show(case.expected),
        "actual": show(shown_actual),
        "label": case.post_label,
    }
    matches = [m for m, theirs in wrong if all(_agree(o, t) for o, t in zip(outputs, theirs, strict=True))]
    record["diagnosis"] = [{"name": m.name, "explanation": m.explanation, "pitfall": m.pitfall} for m in matches]
    return record


def _guarded(fn: Callable[..., Any], names: dict[str, str]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        with forbidden(names):
            return fn(*args, **kwargs)

    return call


def _agree(a: Any, b: Any) -> bool:
    if isinstance(a, BaseException) or isinstance(b, BaseException):
        return type(a) is type(b)
    return agrees(a, b)


def _load_error(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"your file called sys.exit({exc.code!r}) while being imported"
    return f"your file could not be loaded: {type(exc).__name__}: {exc}"


def learner_function(path: Path, name: str) -> Callable[..., Any]:
    """Import the learner's file as a module of its own and return its function ``name``."""
    sys.path.insert(0, str(path.parent))  # so the learner's file may import its neighbours
    spec = importlib.util.spec_from_file_location("learner_solution", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules["learner_solution"] = module
    spec.loader.exec_module(module)
    fn = getattr(module, name, None)
    if not callable(fn):
        raise NameError(f"your file defines no function named {name}")
    return fn


def main(argv: list[str]) -> None:
    exercise_id, file, fd, memory_mb = argv[0], Path(argv[1]), int(argv[2]), int(argv[3])
    limit = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    pipe = os.fdopen(fd, "w")
    exercise = exercise_module(exercise_id)

    def ready() -> None:
        pipe.write("ready\n")
        pipe.flush()

    try:
        record = evaluate(exercise, lambda: learner_function(file, exercise.FUNCTION), ready)
    except MemoryError:
        record = {"exercise": exercise_id, "status": "error", "error": f"ran out of memory (limit {memory_mb} MB)"}
    pipe.write(json.dumps(record))
    pipe.close()


if __name__ == "__main__":
    main(sys.argv[1:])
