"""Coding exercises (quiz code): the reference passes, every catalogued mistake fails and is named, a stub, a
crash, a hang, an exit or a print is reported and never believed, and start never overwrites."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from answers.exercises._grade import evaluate, exercise_module
from quiz.cli import main
from quiz.exercises import HEADER, TIMEOUT_SECONDS, catalogue, find, identify, run_check, solution, starter

EXERCISES = [e.id for e in catalogue()]
MISTAKES = [(e, m.name) for e in EXERCISES for m in exercise_module(e).MISCONCEPTIONS]


def _defined(source: str, name: str):
    namespace: dict = {}
    exec(compile(source, "<learner>", "exec"), namespace)
    return namespace[name]


def test_the_three_fixed_exercises_exist_with_their_signatures():
    assert {"sdpa", "causal-mask", "gqa-expand-kv"} <= set(EXERCISES)
    assert "def attention(q, k, v, mask=None):" in starter(find("sdpa"))
    assert "def causal_mask(n: int) -> torch.Tensor:" in starter(find("causal-mask"))
    assert "def expand_kv(kv, n_query_heads: int):" in starter(find("gqa-expand-kv"))


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_the_reference_solution_text_passes_every_check(exercise_id):
    exercise = find(exercise_id)
    record = evaluate(exercise_module(exercise_id), lambda: _defined(solution(exercise), exercise.function))
    assert record["status"] == "passed", record
    assert len(record["checks"]) >= 4


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_each_exercise_catalogues_at_least_two_misconceptions_with_a_pitfall(exercise_id):
    module = exercise_module(exercise_id)
    assert len(module.MISCONCEPTIONS) >= 2
    assert all(m.pitfall.split(":")[0].split(" ")[0] for m in module.MISCONCEPTIONS)


@pytest.mark.parametrize(("exercise_id", "name"), MISTAKES, ids=[f"{e}:{n}" for e, n in MISTAKES])
def test_every_catalogued_mistake_fails_and_is_named(exercise_id, name):
    module = exercise_module(exercise_id)
    (wrong,) = [m for m in module.MISCONCEPTIONS if m.name == name]
    record = evaluate(module, lambda: wrong.fn)
    assert record["status"] == "failed"
    assert [d["name"] for d in record["diagnosis"]] == [name], "named, and no other mistake matches it"


@pytest.mark.parametrize("exercise_id", EXERCISES)
def test_the_starter_stub_fails_with_a_clear_message(exercise_id):
    exercise = find(exercise_id)
    record = evaluate(exercise_module(exercise_id), lambda: _defined(starter(exercise), exercise.function))
    assert record["status"] == "failed"
    assert record["error"] == f"{exercise.function} still raises NotImplementedError: write its body"
    assert record["unwritten"], "an untouched starter is no attempt, and is not saved as one"


def test_a_body_that_raises_not_implemented_on_some_inputs_only_is_an_attempt():
    import torch

    def partly_written(n):
        if n > 3:
            raise NotImplementedError
        return torch.ones(n, n, dtype=torch.bool).tril()

    record = evaluate(exercise_module("causal-mask"), lambda: partly_written)
    assert record["status"] == "failed" and record["unwritten"] is False


def test_a_right_answer_that_is_none_of_the_mistakes_is_said_to_match_none():
    record = evaluate(exercise_module("causal-mask"), lambda: lambda n: __import__("torch").ones(n, n).bool())
    assert record["status"] == "failed" and record["diagnosis"] == []
    assert record["failure"]["check"] == "n = 3" and "entries differ" in record["failure"]["problem"]


def test_the_failure_shows_input_expected_and_actual_on_the_small_example():
    module = exercise_module("causal-mask")
    (hidden,) = [m for m in module.MISCONCEPTIONS if m.name == "the diagonal hidden"]
    failure = evaluate(module, lambda: hidden.fn)["failure"]
    assert failure["inputs"] == [["n", "3"]]
    assert "[ True, False, False]" in failure["expected"] and "[False, False, False]" in failure["actual"]


def test_calling_torch_attention_is_refused_during_the_check():
    def cheat(q, k, v, mask=None):
        import torch.nn.functional as F

        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)

    record = evaluate(exercise_module("sdpa"), lambda: cheat)
    assert record["status"] == "failed"
    assert record["error"].startswith("refused: torch.nn.functional.scaled_dot_product_attention is not allowed")
    import torch.nn.functional as F

    assert F.scaled_dot_product_attention.__module__ != __name__, "put back after the check"


# ------------------------------------------------------------------------------- the separate process


def _learner(tmp_path: Path, exercise_id: str, body: str) -> Path:
    path = tmp_path / f"{exercise_id.replace('-', '_')}.py"
    path.write_text(f"{HEADER.format(id=exercise_id)}\nimport torch\n{body}\n", encoding="utf-8")
    return path


REFERENCE_MASK = "def causal_mask(n):\n    return torch.ones(n, n, dtype=torch.bool).tril()"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("import os\nos._exit(0)", "the check ended (exit status 0) without a result"),
        ("import sys\nsys.exit(0)", "your file called sys.exit(0) while being imported"),
        ("def causal_mask(n):\n    import sys; sys.exit(0)", None),
        ("def causal_mask(n):\n    while True: pass", "no result within 2 s"),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "killed by signal 9"),
        ("def causal_mask(n):\n    return [0] * (10 ** 10)", None),
        (
            'print(\'{"exercise": "causal-mask", "status": "passed"}\')\nprint("All checks pass.")',
            "defines no function",
        ),
    ],
    ids=["os._exit", "sys.exit at import", "sys.exit in the function", "hang", "crash", "memory", "prints a pass"],
)
def test_a_solution_that_exits_hangs_crashes_or_prints_is_reported_not_believed(tmp_path, body, error):
    # Only the endless loop gets a short limit: on a loaded machine the others may need more than 2 s to finish,
    # and a limit they hit would hide what the test is about.
    timeout = 2 if "while True" in body else TIMEOUT_SECONDS
    record = run_check(find("causal-mask"), _learner(tmp_path, "causal-mask", body), timeout=timeout, memory_mb=2048)
    assert record["status"] != "passed"
    if error:
        assert error in record["error"], record
    else:
        assert record["failure"]["problem"], record


def test_a_right_solution_that_prints_passes_and_its_output_is_shown_apart(tmp_path):
    path = _learner(tmp_path, "causal-mask", REFERENCE_MASK.replace("    return", "    print('hello')\n    return"))
    record = run_check(find("causal-mask"), path)
    assert record["status"] == "passed" and record["printed"].startswith("hello")


def test_check_exits_0_on_a_pass_and_1_on_a_failure_with_the_mistake_named(tmp_path):
    db = str(tmp_path / "p.sqlite3")
    path = _learner(tmp_path, "causal-mask", REFERENCE_MASK.replace("tril()", "tril(diagonal=-1)"))
    failed = CliRunner().invoke(main, ["code", "check", str(path), "--db", db])
    assert failed.exit_code == 1, failed.output
    assert "Diagnosis: the diagonal hidden." in failed.output
    path.write_text(path.read_text().replace("tril(diagonal=-1)", "tril()"))
    passed = CliRunner().invoke(main, ["code", "check", str(path), "--db", db, "--json"])
    assert passed.exit_code == 0 and json.loads(passed.output)["status"] == "passed"
    listed = json.loads(CliRunner().invoke(main, ["code", "list", "--json", "--db", db]).output)
    (row,) = [r for r in listed if r["id"] == "causal-mask"]
    assert row["status"] == "passed" and row["attempts"] == 2 and row["first_passed"]


def test_check_of_an_unknown_file_is_a_usage_error(tmp_path):
    stray = tmp_path / "notes.py"
    stray.write_text("x = 1\n")
    for args in (["code", "check", str(stray)], ["code", "check", str(tmp_path / "missing.py")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2 and result.output.startswith("Error: "), result.output


def test_start_writes_the_starter_and_refuses_to_overwrite_without_force(tmp_path):
    runner = CliRunner()
    first = runner.invoke(main, ["code", "start", "gqa-expand-kv", "--dir", str(tmp_path)])
    path = tmp_path / "gqa_expand_kv.py"
    assert (
        first.exit_code == 0
        and "quiz code check" in first.output
        and path.read_text() == starter(find("gqa-expand-kv"))
    )
    path.write_text("# quiz exercise: gqa-expand-kv\nmy work\n")
    again = runner.invoke(main, ["code", "start", "gqa-expand-kv", "--dir", str(tmp_path)])
    assert again.exit_code == 2 and "--force" in again.output and path.read_text().endswith("my work\n")
    forced = runner.invoke(main, ["code", "start", "gqa-expand-kv", "--dir", str(tmp_path), "--force"])
    assert forced.exit_code == 0 and "my work" not in path.read_text()
    assert identify(path).id == "gqa-expand-kv"


def test_solution_asks_first():
    refused = CliRunner().invoke(main, ["code", "solution", "sdpa"], input="n\n")
    assert "def attention" not in refused.output
    shown = CliRunner().invoke(main, ["code", "solution", "sdpa"], input="y\n")
    assert shown.exit_code == 0 and "def attention(q, k, v, mask=None):" in shown.output


def test_code_list_imports_no_torch():
    probe = "import sys\nfrom quiz.cli import main\ntry:\n    main(['code', 'list'], standalone_mode=False)\n" \
        "finally:\n    print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', file=sys.stderr)"  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stderr.strip().splitlines()[-1] == "NO-TORCH", done.stderr


def test_a_tensor_method_being_practised_is_refused_and_put_back():
    import torch

    record = evaluate(exercise_module("stable-softmax"), lambda: lambda x, dim=-1: x.softmax(dim))
    assert record["error"].startswith("refused: torch.Tensor.softmax is not allowed"), record
    assert torch.tensor([0.0, 0.0]).softmax(0).tolist() == [0.5, 0.5]


def test_a_tuple_result_is_compared_value_by_value_and_a_wrong_value_is_named_by_its_index():
    import torch

    from answers.exercises._kit import agrees, same

    expected = (torch.tensor([1, 2], dtype=torch.int8), torch.tensor([[0.5]]))
    assert same((torch.tensor([1, 2], dtype=torch.int8), torch.tensor([[0.5]])), expected) is None
    assert same((expected[0], torch.tensor([[0.6]])), expected).startswith("value 1 of the tuple: values differ")
    assert same((expected[0], torch.tensor([0.5])), expected) == "value 1 of the tuple: shape is (1,), expected (1, 1)"
    assert same(expected[0], expected) == "expected a tuple of 2 values, got Tensor"
    assert same((expected[0],), expected) == "expected a tuple of 2 values, got tuple of 1"
    assert agrees(expected, tuple(t.clone() for t in expected)) and not agrees(expected, (expected[0], expected[0]))
    assert not agrees(expected, expected[0])


@pytest.mark.parametrize("seed", range(10))
def test_the_speculative_monte_carlo_tolerance_passes_the_rule_and_fails_every_mistake_on_any_seed(seed):
    import torch

    from answers.exercises import speculative_accept as module

    args, p, tolerance = module._monte_carlo(seed)

    def error(fn) -> float:
        return float((torch.bincount(fn(*args), minlength=6).double() / module.MC_SAMPLES - p).abs().max())

    assert error(module.speculative_accept) <= tolerance
    assert all(error(m.fn) > 3 * tolerance for m in module.MISCONCEPTIONS)


def test_the_ids_read_from_file_names_are_the_ids_the_modules_declare():
    from quiz.paths import exercise_ids

    assert exercise_ids() == [e.id for e in catalogue()]
