"""SwiGLU: the gated feed-forward network of Llama, PaLM and Mistral.

FFN(x) = (SiLU(x·W_gate) ⊙ x·W_up)·W_down, with SiLU(z) = z·σ(z). It has three d × d_ff matrices instead of
two, so models shrink d_ff from 4d to about 8d/3 to keep the parameter count of the ReLU FFN they replace:
3·d·(8d/3) = 8d² = 2·d·4d.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from answers.evidence import Evidence
from answers.formulas.sublayers import ffn_parameters, swiglu_ffn_parameters
from answers.reference import FeedForward, count_parameters, randn, seeded_module

__all__ = ["ffn_parameters", "swiglu_ffn_parameters"]

N, D = 6, 96  # 8·96/3 = 256, a whole number


def _by_hand_gap(silu_on_gate: bool) -> float:
    """Largest difference between the reference SwiGLU FFN and the formula computed by hand with F.silu."""
    ffn = seeded_module(lambda: FeedForward(D, 8 * D // 3, "swiglu", bias=False))
    x = randn(1, N, D, seed=1)
    gate, up = x @ ffn.gate.weight.T, x @ ffn.up.weight.T  # (1, N, d_ff) each
    hidden = F.silu(gate) * up if silu_on_gate else gate * F.silu(up)
    with torch.no_grad():
        return (ffn(x) - hidden @ ffn.down.weight.T).abs().max().item()


def swiglu_is_silu_gate_times_up_projection() -> Evidence:
    """The reference SwiGLU FFN is exactly (SiLU(x·W_gate) ⊙ x·W_up)·W_down computed with torch's F.silu;
    putting the SiLU on the other branch gives a different function."""
    return Evidence(
        measured=_by_hand_gap(silu_on_gate=True),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding only
        derivation="torch's own F.silu(z) = z·σ(z), in the Llama formula",
        counterfactual="SiLU applied to the up branch instead of the gate",
        counterfactual_measured=_by_hand_gap(silu_on_gate=False),
    )


def swiglu_with_8d_over_3_has_the_parameters_of_a_4d_relu_ffn() -> Evidence:
    """With d_ff = 8d/3, a bias-free SwiGLU FFN has exactly as many parameters as a bias-free ReLU FFN with
    d_ff = 4d (8d² each); keeping d_ff = 4d would cost 1.5× as many."""
    relu = count_parameters(FeedForward(D, 4 * D, "relu", bias=False))
    return Evidence(
        measured=count_parameters(FeedForward(D, 8 * D // 3, "swiglu", bias=False)),
        expected=relu,
        comparison="equal",
        unit="parameters",
        derivation="an instantiated d → 4d → d ReLU FFN; theory 3·d·(8d/3) = 2·d·4d = 8d²",
        counterfactual="SwiGLU keeping d_ff = 4d",
        counterfactual_measured=count_parameters(FeedForward(D, 4 * D, "swiglu", bias=False)),
        details={
            "swiglu_ffn_parameters(d, 8d/3)": swiglu_ffn_parameters(D, 8 * D // 3),
            "ffn_parameters(d, 4d, bias=False)": ffn_parameters(D, 4 * D, bias=False),
            "Llama-7B FFN (d=4096, d_ff=11008)": swiglu_ffn_parameters(4096, 11008),
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
