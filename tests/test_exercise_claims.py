"""The card's own claims, run on the learner's function: the reference passes them, a catalogued mistake fails a
named one (measuring what the claim's counterfactual measures when it is that very mistake), and a function that
crashes inside a claim is reported, never believed."""

from __future__ import annotations

import re
import time

import pytest
from click.testing import CliRunner

from answers.exercises._claims import claim_function, claim_targets, statements, takes_the_mechanism
from answers.exercises._grade import evaluate, exercise_module
from quiz.cli import main
from quiz.exercises import catalogue, find, run_check

WIRED = [e.id for e in catalogue() if claim_targets(exercise_module(e.id))]

# For each wired exercise, one catalogued misconception and a card claim it fails. Where the claim's
# counterfactual is exactly that mistake, the learner's code measures what the counterfactual measures.
FAILS = {
    "sdpa": ("no scale", "hand_written_attention_matches_torch_sdpa", True),
    "causal-mask": ("the diagonal hidden", "each_position_attends_to_itself_and_the_past", True),
    "rmsnorm": ("the weight forgotten", "rmsnorm_matches_torch_rmsnorm", False),
    "layernorm": ("unbiased variance (n − 1)", "layernorm_formula_matches_torch", True),
    "stable-softmax": ("exp without the maximum", "the_shifted_softmax_survives_logits_that_overflow_exp", True),
    "gqa-expand-kv": ("repeat instead of repeat_interleave", "grouped_heads_match_torch_enable_gqa", True),
    "apply-rope": ("half-split pairs (rotate_half)", "complex_multiplication_is_the_same_rotation", True),
    "kv-cache-decode-step": ("attend, then append", "the_new_token_attends_to_its_own_key_and_value", True),
}


def test_every_wired_exercise_names_a_mistake_its_cards_claims_catch():
    assert set(FAILS) == set(WIRED)


def _claims(record: dict) -> dict[str, dict]:
    return {c["proof"]: c for c in record["claims"]}


def test_at_least_six_exercises_run_their_cards_claims():
    assert len(WIRED) >= 6, WIRED


@pytest.mark.parametrize("exercise_id", WIRED)
def test_every_listed_claim_is_on_its_card_and_takes_the_mechanism_with_a_default(exercise_id):
    module = exercise_module(exercise_id)
    for card, proof in claim_targets(module):
        assert proof in statements(card), f"{card} has no claim {proof}"
        assert takes_the_mechanism(card, proof, module.CLAIM_PARAMETER), f"{card}:{proof}"
        # called with nothing, as quiz verify calls it, it proves the card's claim on the reference
        assert claim_function(card, proof)().proved


@pytest.mark.parametrize("exercise_id", WIRED)
def test_the_reference_solution_passes_its_cards_claims(exercise_id):
    module = exercise_module(exercise_id)
    record = evaluate(module, lambda: getattr(module, module.FUNCTION))
    assert record["status"] == "passed", record
    assert len(record["claims"]) == len(module.CARD_CLAIMS)
    assert all(c["status"] == "passed" and c["counterfactual"] is None for c in record["claims"]), record["claims"]


@pytest.mark.parametrize("exercise_id", sorted(FAILS))
def test_a_catalogued_mistake_fails_a_named_card_claim(exercise_id):
    mistake, proof, is_the_counterfactual = FAILS[exercise_id]
    module = exercise_module(exercise_id)
    (wrong,) = [m for m in module.MISCONCEPTIONS if m.name == mistake]
    verdict = _claims(evaluate(module, lambda: wrong.fn))[proof]
    assert verdict["status"] == "failed", verdict
    assert verdict["statement"] == statements(module.CARD)[proof]
    assert (verdict["counterfactual"] is not None) == is_the_counterfactual, verdict


def test_a_learner_function_that_crashes_inside_a_claim_is_reported_not_believed():
    module = exercise_module("sdpa")
    calls, n_cases = {"n": 0}, len(module.cases())

    def crashes_after_the_cases(q, k, v, mask=None):
        calls["n"] += 1
        if calls["n"] > n_cases:
            raise RuntimeError("boom in the learner's code")
        return module.attention(q, k, v, mask)

    record = evaluate(module, lambda: crashes_after_the_cases)
    assert all(c["problem"] is None for c in record["checks"]), "the cases pass: only the claims see the crash"
    assert record["status"] == "failed"
    verdicts = record["claims"]
    assert verdicts and all(c["status"] == "error" for c in verdicts)
    assert "RuntimeError: boom in the learner's code" in verdicts[0]["error"]


def test_sys_exit_inside_a_claim_is_an_error_not_a_pass():
    module = exercise_module("layernorm")
    calls, n_cases = {"n": 0}, len(module.cases())

    def exits_after_the_cases(x, weight, bias, eps=1e-5):
        calls["n"] += 1
        if calls["n"] > n_cases:
            raise SystemExit(0)
        return module.layer_norm(x, weight, bias, eps)

    record = evaluate(module, lambda: exits_after_the_cases)
    assert record["status"] == "failed"
    assert {c["status"] for c in record["claims"]} == {"error"}
    assert "sys.exit(0)" in record["claims"][0]["error"]


def test_a_claims_torch_reference_still_runs_while_the_learners_calls_are_refused_it():
    """sdpa forbids F.scaled_dot_product_attention to the learner; the card's claim uses it as its reference."""
    import torch.nn.functional as F

    def cheat(q, k, v, mask=None):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)

    module = exercise_module("sdpa")
    record = evaluate(module, lambda: cheat)
    assert record["error"].startswith("refused:") and record["claims"] == []  # a refused solution runs no claim
    verdict = _claims(evaluate(module, lambda: module.attention))["hand_written_attention_matches_torch_sdpa"]
    assert verdict["status"] == "passed" and "F.scaled_dot_product_attention" in verdict["derivation"]


def test_a_stub_runs_no_claim():
    module = exercise_module("rmsnorm")

    def stub(x, weight, eps=1e-6):
        raise NotImplementedError

    record = evaluate(module, lambda: stub)
    assert record["claims"] == [] and "NotImplementedError" in record["error"]


def test_check_prints_each_claims_verdict_under_its_card_statement_and_names_the_counterfactual(tmp_path):
    """The whole path: the separate process, the record over the pipe, the terminal output."""
    path = tmp_path / "causal_mask.py"
    path.write_text(
        "import torch\ndef causal_mask(n):\n    return torch.ones(n, n, dtype=torch.bool).tril(diagonal=-1)\n"
    )
    result = CliRunner().invoke(main, ["code", "check", str(path), "--db", str(tmp_path / "p.sqlite3")])
    assert result.exit_code == 1, result.output
    # rich wraps long lines; the markup tags are printed as they are by the quiz's console (markup=False)
    text = re.sub(r"\[/?[a-z ]*\]", "", " ".join(result.output.split()))
    statement = statements("causal-masking")["each_position_attends_to_itself_and_the_past"]
    assert f"✗ causal-masking: {statement}" in text
    assert "measured 6, expected = 0" in text
    assert "yours measures what the card's broken mechanism does: mask that hides the diagonal" in text
    assert "✓ causal-masking: " + statements("causal-masking")["future_tokens_cannot_change_past_outputs"] in text
    assert "2 of 3 card claims do not hold for your code." in text


@pytest.mark.parametrize("exercise_id", WIRED)
def test_the_claims_add_well_under_a_second_of_cpu_to_a_check(exercise_id):
    module = exercise_module(exercise_id)
    evaluate(module, lambda: getattr(module, module.FUNCTION))  # imports and caches warmed
    start = time.process_time()
    evaluate(module, lambda: getattr(module, module.FUNCTION))
    assert time.process_time() - start < 1.0


def test_in_the_separate_process_a_crash_inside_a_claim_is_an_error_and_the_check_fails(tmp_path):
    module = exercise_module("gqa-expand-kv")
    path = tmp_path / "gqa_expand_kv.py"
    path.write_text(
        "# quiz exercise: gqa-expand-kv\nCALLS = [0]\n"
        "def expand_kv(kv, n_query_heads):\n"
        "    CALLS[0] += 1\n"
        f"    if CALLS[0] > {len(module.cases())}:\n"
        "        raise ValueError('only the cases work')\n"
        "    if n_query_heads % kv.shape[1]:\n        raise ValueError('uneven')\n"
        "    return kv.repeat_interleave(n_query_heads // kv.shape[1], dim=1)\n"
    )
    record = run_check(find("gqa-expand-kv"), path)
    assert all(c["problem"] is None for c in record["checks"]), record["checks"]
    assert record["status"] == "failed"
    (verdict,) = record["claims"]
    assert verdict["status"] == "error" and "ValueError: only the cases work" in verdict["error"]
