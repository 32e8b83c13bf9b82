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


def _glu_gap(silu_on_gate: bool, seed: int = 0) -> float:
    """Largest difference between the reference SwiGLU FFN and Shazeer's definition written with torch's own
    gated linear unit, F.glu([a, b]) = a ⊙ σ(b): SwiGLU(x) = (xW_gate ⊙ xW_up ⊙ σ(xW_gate))·W_down. No F.silu."""
    ffn = seeded_module(lambda: FeedForward(D, 8 * D // 3, "swiglu", bias=False), seed=seed)
    x = randn(1, N, D, seed=1000 + seed)
    gate, up = x @ ffn.gate.weight.T, x @ ffn.up.weight.T  # (1, N, d_ff) each
    gated, sigmoid_of = (gate, gate) if silu_on_gate else (up, up)
    hidden = F.glu(torch.cat([gated * (up if silu_on_gate else gate), sigmoid_of], dim=-1), dim=-1)
    with torch.no_grad():
        return (ffn(x) - hidden @ ffn.down.weight.T).abs().max().item()


def swiglu_is_silu_gate_times_up_projection(seed: int = 0) -> Evidence:
    """The reference SwiGLU FFN is exactly (SiLU(x·W_gate) ⊙ x·W_up)·W_down, checked against the definition
    written with torch's F.glu (Swish-1 gate, Shazeer 2020); putting the SiLU on the other branch gives a
    different function."""
    return Evidence(
        measured=_glu_gap(silu_on_gate=True, seed=seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding only
        derivation="Shazeer (2020), eq. 6, via torch's own F.glu: z·σ(z) = SiLU(z)",
        counterfactual="SiLU applied to the up branch instead of the gate (w1 and w3 swapped when loading)",
        counterfactual_measured=_glu_gap(silu_on_gate=False, seed=seed),
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
        details={"Llama-7B FFN (d=4096, d_ff=11008)": swiglu_ffn_parameters(4096, 11008)},
    )


# The numeric questions' configurations: TinyLlama-1.1B, Llama-7B, Llama-13B and Llama-2-70B (d_model, d_ff).
LLAMA_FFNS = ((2048, 5632), (4096, 11008), (5120, 13824), (8192, 28672))


def _instantiated(d_model: int, d_ff: int) -> int:
    with torch.device("meta"):  # shapes only: no memory for 0.7B parameters
        return count_parameters(FeedForward(d_model, d_ff, "swiglu", bias=False))


def the_parameter_formula_matches_instantiated_llama_ffns() -> Evidence:
    """swiglu_ffn_parameters(d, d_ff) = 3·d·d_ff equals the parameter count of an instantiated bias-free SwiGLU
    FFN at TinyLlama's, Llama-7B's, Llama-13B's and Llama-2-70B's sizes; the two-matrix FFN count does not."""
    return Evidence(
        measured=tuple(swiglu_ffn_parameters(d, d_ff) for d, d_ff in LLAMA_FFNS),
        expected=tuple(_instantiated(d, d_ff) for d, d_ff in LLAMA_FFNS),
        comparison="equal",
        unit="parameters",
        derivation="count_parameters on FeedForward(d, d_ff, 'swiglu', bias=False) built on the meta device",
        counterfactual="the two-matrix FFN count 2·d·d_ff (forgetting the gate)",
        counterfactual_measured=tuple(ffn_parameters(d, d_ff, bias=False) for d, d_ff in LLAMA_FFNS),
        details={"8/3 · 4096, rounded up to a multiple of 256": -(-(8 * 4096 // 3) // 256) * 256},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
