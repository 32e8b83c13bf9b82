"""Attention weights are not importance scores.

Token j's contribution to query i's output is α_ij·v_j, then mixed by W_O. A large weight on a token
whose value vector is small (or lies where W_O looks away) contributes little; a small weight on a
large value vector can dominate. The weight is only half of the story — the value's size is the other.
"""

from __future__ import annotations

import math

import torch

from answers.evidence import Evidence
from answers.reference import F64, attend, attention_weights, randn

# Two keys whose scores are ln 9 and 0 for the query: softmax gives exactly (0.9, 0.1).
_QUERY = torch.tensor([[1.0, 0.0]], dtype=F64)
_KEYS = torch.tensor([[math.log(9.0), 0.0], [0.0, 0.0]], dtype=F64)


def _ablation_effect(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, j: int) -> float:
    """How far query 0's output moves when token j's value vector is zeroed."""
    ablated = v.clone()
    ablated[j] = 0
    return (attend(q, k, v, scale=False) - attend(q, k, ablated, scale=False))[0].norm().item()


def a_ninety_percent_weight_can_contribute_nothing() -> Evidence:
    """Weights (0.9, 0.1) with v₁ = 0 and v₂ = (5, 5): removing the 90 % token leaves the output unchanged."""
    zero_heavy = torch.tensor([[0.0, 0.0], [5.0, 5.0]], dtype=F64)
    equal_norms = torch.tensor([[5.0, -5.0], [5.0, 5.0]], dtype=F64)
    return Evidence(
        measured=_ablation_effect(_QUERY, _KEYS, zero_heavy, j=0),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="theory: out = 0.9·v₁ + 0.1·v₂ = 0.1·v₂ when v₁ = 0",
        counterfactual="both value vectors of equal norm (the case where weight ≈ importance)",
        counterfactual_measured=_ablation_effect(_QUERY, _KEYS, equal_norms, j=0),
        details={
            "weights": tuple(attention_weights(_QUERY, _KEYS, scale=False)[0].tolist()),
            "output": tuple(attend(_QUERY, _KEYS, zero_heavy, scale=False)[0].tolist()),
            "effect of removing the 10 % token": _ablation_effect(_QUERY, _KEYS, zero_heavy, j=1),
        },
    )


def a_tokens_effect_is_its_weight_times_its_value_norm(n: int = 12, d: int = 8) -> Evidence:
    """Removing token j moves the output by exactly α_ij·‖v_j‖ — not by α_ij alone."""
    q, k = randn(1, d, seed=1), randn(n, d, seed=2)
    v = randn(n, d, seed=3) * torch.linspace(0.1, 3.0, n, dtype=F64)[:, None]  # values of varied size
    alpha = attention_weights(q, k)[0]
    effects = torch.tensor([_ablation_effect(q / math.sqrt(d), k, v, j) for j in range(n)], dtype=F64)
    # (q/√d makes the unscaled helper reproduce the scaled weights.)

    def worst(predicted: torch.Tensor) -> float:
        return (effects - predicted).abs().max().item()

    return Evidence(
        measured=worst(alpha * v.norm(dim=-1)),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="theory: out is linear in V, so zeroing v_j removes exactly α_ij·v_j",
        counterfactual="the attention weight α_ij alone taken as the effect",
        counterfactual_measured=worst(alpha),
        details={
            "top-weighted token": int(alpha.argmax()),
            "token whose removal matters most": int(effects.argmax()),
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
