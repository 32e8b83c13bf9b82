"""Attention weights are not importance scores, and "removing a token" has two meanings.

Token j's contribution to query i's output is α_ij·v_j, then mixed by W_O. Zeroing v_j (keeping the
weights) moves the output by exactly α_ij·‖v_j‖, so a large weight on a small value vector adds little.
Masking token j (attention knockout) is a different intervention: the softmax renormalises over the other
tokens and the output moves by α_ij·(o_i − v_j)/(1 − α_ij). A 90 % weight on a zero value vector adds no
vector, yet masking that token multiplies the output tenfold: the token is a sink that dilutes the others.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from answers.evidence import Evidence
from answers.reference import F64, attend, attention_weights, generator

# Two keys whose scores are ln 9 and 0 for the query: softmax gives exactly (0.9, 0.1).
_QUERY = torch.tensor([[1.0, 0.0]], dtype=F64)
_KEYS = torch.tensor([[math.log(9.0), 0.0], [0.0, 0.0]], dtype=F64)
_ZERO_HEAVY = torch.tensor([[0.0, 0.0], [5.0, 5.0]], dtype=F64)  # v₁ = 0 under the 90 % weight, v₂ = (5, 5)


def _value_zeroed(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, j: int) -> torch.Tensor:
    """Output when token j's value vector is zeroed: the weights stay as they were."""
    ablated = v.clone()
    ablated[j] = 0
    return attend(q, k, ablated, scale=False)


def _masked(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, j: int) -> torch.Tensor:
    """Output when token j is masked out (attention knockout), computed by torch's own SDPA: the softmax
    renormalises over the remaining tokens. scale=1 because q already carries any scaling."""
    allowed = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool)
    allowed[:, j] = False
    return F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, scale=1.0)


def masking_the_ninety_percent_token_multiplies_the_output_tenfold() -> Evidence:
    """Weights (0.9, 0.1), v₁ = 0, v₂ = (5, 5): the output is (0.5, 0.5). Masking the 90 % token moves it
    to v₂ = (5, 5), ten times larger, while zeroing its value vector changes nothing: the token is a sink."""
    out = attend(_QUERY, _KEYS, _ZERO_HEAVY, scale=False)[0]
    masked = _masked(_QUERY, _KEYS, _ZERO_HEAVY, j=0)[0]
    zeroed = _value_zeroed(_QUERY, _KEYS, _ZERO_HEAVY, j=0)[0]
    return Evidence(
        measured=(masked.norm() / out.norm()).item(),
        expected=10.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="theory: masked output = v₂ = (5, 5) and out = 0.1·v₂, a ratio of 1/0.1 = 10",
        counterfactual="zeroing the 90 % token's value vector instead of masking the token",
        counterfactual_measured=(zeroed.norm() / out.norm()).item(),
        unit="ratio",
        details={
            "weights": tuple(attention_weights(_QUERY, _KEYS, scale=False)[0].tolist()),
            "output": tuple(out.tolist()),
            "output with token 1 masked": tuple(masked.tolist()),
            "output with v₁ zeroed": tuple(zeroed.tolist()),
        },
    )


def _random_example(seed: int, n: int, d: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One query (already divided by √d) and n keys and values; the values have sizes from 0.1 to 3."""
    g = generator(seed)
    q = torch.randn(1, d, generator=g, dtype=F64) / math.sqrt(d)
    k = torch.randn(n, d, generator=g, dtype=F64)
    v = torch.randn(n, d, generator=g, dtype=F64) * torch.linspace(0.1, 3.0, n, dtype=F64)[:, None]
    return q, k, v


def zeroing_a_value_moves_the_output_by_its_weight_times_its_norm(seed: int = 0, n: int = 12, d: int = 8) -> Evidence:
    """Zeroing v_j moves query i's output by exactly α_ij·‖v_j‖ — not by α_ij alone."""
    q, k, v = _random_example(seed, n, d)
    alpha = attention_weights(q, k, scale=False)[0]
    out = attend(q, k, v, scale=False)[0]
    effects = torch.stack([(out - _value_zeroed(q, k, v, j)[0]).norm() for j in range(n)])

    def worst(predicted: torch.Tensor) -> float:
        return (effects - predicted).abs().max().item()

    return Evidence(
        measured=worst(alpha * v.norm(dim=-1)),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="theory: the output is linear in V, so zeroing v_j removes exactly α_ij·v_j",
        counterfactual="the attention weight α_ij alone taken as the effect",
        counterfactual_measured=worst(alpha),
    )


def masking_a_token_moves_the_output_by_the_renormalised_amount(seed: int = 0, n: int = 12, d: int = 8) -> Evidence:
    """Masking token j (torch's SDPA with j hidden) moves the output by α_ij·(o_i − v_j)/(1 − α_ij):
    the other weights are rescaled by 1/(1 − α_ij). The value-zeroing prediction −α_ij·v_j does not match."""
    q, k, v = _random_example(seed, n, d)
    alpha = attention_weights(q, k, scale=False)[0]
    out = attend(q, k, v, scale=False)[0]
    shifts = torch.stack([_masked(q, k, v, j)[0] - out for j in range(n)])  # (n, d)
    renormalised = alpha[:, None] * (out - v) / (1 - alpha[:, None])
    return Evidence(
        measured=(shifts - renormalised).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="theory: o' = (o − α_j v_j)/(1 − α_j), so o' − o = α_j (o − v_j)/(1 − α_j)",
        counterfactual="the value-zeroing shift −α_ij·v_j taken as the effect of removing the token",
        counterfactual_measured=(shifts + alpha[:, None] * v).abs().max().item(),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
