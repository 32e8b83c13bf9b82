"""A claim cannot lie about the run: whatever a trusted claim does to its process (exits, forks, prints, is
killed, hangs, changes torch's global state, returns numpy values), it alone fails, with its reason, every other
claim's verdict is what it would be alone, and ``--json`` stays one document. No timing assertions: the limits
are checked by what is reported, not by how long it took."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from quiz.cli import main
from quiz.proofs import Job, prove_in_workers

OK = """
def _ok(measured=1):
    return Evidence(measured=measured, expected=1, comparison="equal", derivation="d", counterfactual="c",
                    counterfactual_measured=0)
"""

# name → (body of the claim, the reason it fails: None if it passes)
CLAIMS = {
    "exits": ("    sys.exit(0)", "called sys.exit(0); a claim returns its Evidence and never exits"),
    "hard_exit": ("    os._exit(3)", "exited with status 3 before it returned its evidence (os._exit?)"),
    "forks": ("    os.fork()\n    return _ok()", "left a child process behind; a claim must not fork"),
    "prints": (
        "    print('loading weights... done')\n    return _ok()",
        "printed to stdout ('loading weights... done'); a claim returns its evidence and never prints",
    ),
    "killed": (
        "    os.kill(os.getpid(), signal.SIGKILL)",
        "was killed by SIGKILL (out of memory, or killed from outside) before it returned its evidence",
    ),
    "hogs_memory": (
        "    torch.empty(64 * 2**30, dtype=torch.uint8).fill_(1)\n    return _ok()",
        "can't allocate memory",
    ),
    "returns_a_tensor": (
        "    return _ok(torch.tensor(1))",
        "returned Evidence whose measured is a torch.Tensor, not a number, string or tuple; call .item() on it",
    ),
    "changes_the_default_dtype": ("    torch.set_default_dtype(torch.float64)\n    return _ok()", None),
    "returns_numpy_scalars": ("    return _ok(numpy.int64(1))", None),
    "sums_in_float32": ("    return _ok(int(torch.ones(2).sum().dtype == torch.float32))", None),
}


def _deck(deck_builder, claims: dict[str, tuple[str, str | None]]) -> None:
    listed = "".join(f"  - statement: It {name}.\n    proof: {name}\n" for name in claims)
    deck_builder.card(
        "id: tiny-card\ntitle: A tiny card\ntopic: scale\ndifficulty: easy\ntags: [demo]\n"
        "question: What?\nanswer: That.\nexplanation: Because.\nclaims:\n" + listed
    )
    functions = "".join(f"\n\ndef {name}() -> Evidence:\n{body}\n" for name, (body, _) in claims.items())
    deck_builder.module(
        text="import os\nimport signal\nimport sys\n\nimport numpy\nimport torch\n\nfrom answers.evidence import "
        "Evidence\n" + OK + functions
    )


def _verify(deck_builder, *args: str):
    where = ["--questions", str(deck_builder.questions), "--answers", str(deck_builder.answers), "--trust-answers"]
    return CliRunner().invoke(main, ["verify", *args, *where], catch_exceptions=False)


def test_each_misbehaving_claim_fails_alone_with_its_reason_and_json_stays_one_document(deck_builder):
    _deck(deck_builder, CLAIMS)
    result = _verify(deck_builder, "--json")
    rows = {row["claim"]: row for row in json.loads(result.stdout)}  # one document, whatever the claims did
    assert result.exit_code == 1
    assert list(rows) == list(CLAIMS), "every claim has its verdict, also those after a claim that killed its process"
    for name, (_, reason) in CLAIMS.items():
        if reason is None:
            assert rows[name]["passed"] is True, (name, rows[name]["error"])
        else:
            assert rows[name]["passed"] is False and reason in rows[name]["error"], (name, rows[name]["error"])
    assert rows["returns_numpy_scalars"]["measured"] == 1 and rows["returns_numpy_scalars"]["holds"] is True


def test_a_claim_after_one_that_changed_torchs_default_dtype_gets_the_verdict_it_gets_alone(deck_builder):
    claims = {name: CLAIMS[name] for name in ("changes_the_default_dtype", "sums_in_float32")}
    _deck(deck_builder, claims)
    rows = json.loads(_verify(deck_builder, "--json", "--fresh").stdout)
    assert [row["passed"] for row in rows] == [True, True]


def test_a_claim_that_swallows_the_timeout_is_stopped_by_the_worker(deck_builder):
    swallows = "\n".join(
        [
            "    while True:",
            "        try:",
            "            time.sleep(60)",
            "        except BaseException:",
            "            pass",
        ]
    )
    _deck(deck_builder, {"hangs": (swallows, None), "sums_in_float32": CLAIMS["sums_in_float32"]})
    module = deck_builder.answers / "tiny_card.py"
    module.write_text("import time\n" + module.read_text())
    card = deck_builder.load().get("tiny-card")
    [(_, results, _)] = prove_in_workers([Job(card, deck_builder.answers, True)], 1, timeout=1.0)
    assert results[0].error == "ran past the 1 s limit and was stopped" and not results[0].passed
    assert results[1].passed, results[1].error


def test_a_worker_silent_past_its_watchdog_is_given_up_on_and_every_claim_left_fails(deck_builder, monkeypatch):
    """The pool's own limit, beyond the child's: a worker that sends nothing for that long is killed, and each
    claim without a record fails with the reason (here the watchdog is made shorter than the claim's sleep)."""
    import quiz.proofs.workers as workers

    _deck(
        deck_builder,
        {"sleeps": ("    time.sleep(30)\n    return _ok()", None), "sums_in_float32": CLAIMS["sums_in_float32"]},
    )
    module = deck_builder.answers / "tiny_card.py"
    module.write_text("import time\n" + module.read_text())
    card = deck_builder.load().get("tiny-card")
    monkeypatch.setattr(workers, "FIGURES_TIMEOUT", 0.0)
    monkeypatch.setattr(workers, "_WATCHDOG", -9.5)  # the pool waits 0.5 s past its last message, not 70 s
    [(_, results, _)] = prove_in_workers([Job(card, deck_builder.answers, True)], 1, timeout=10.0)
    assert [r.error for r in results] == ["the proof worker stopped answering"] * 2


def test_the_project_answers_package_is_used_even_with_the_working_folder_on_the_path(deck_builder, tmp_path):
    """Finding #7: an empty PYTHONPATH entry puts the working folder on sys.path; a deck's own answers/__init__.py
    there must never run (here: neither for check nor for an untrusted verify)."""
    deck_builder.card()
    deck_builder.module()
    marker = tmp_path / "PWNED"
    (deck_builder.answers / "__init__.py").write_text(f"open({str(marker)!r}, 'a').write('ran')\n")
    quiz = Path(sys.executable).with_name("quiz")
    environment = {**os.environ, "PYTHONPATH": ":" + str(tmp_path / "nowhere")}
    for command in (["check"], ["verify"]):
        subprocess.run(
            [str(quiz), *command, "--questions", "questions", "--answers", "answers"],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            timeout=300,
        )
    assert not marker.exists()


@pytest.mark.parametrize(("value", "reason"), [("numpy.float32(1.0)", None), ("[1, 2]", "equal")])
def test_plain_values_are_coerced(deck_builder, value, reason):
    """A numpy float and a list become a float and a tuple: the verdict and the JSON are those of plain values."""
    _deck(deck_builder, {"value": (f"    return _ok({value})", reason)})
    rows = json.loads(_verify(deck_builder, "--json").stdout)
    assert rows[0]["error"] is None
    assert rows[0]["measured"] == (1.0 if reason is None else [1, 2])
