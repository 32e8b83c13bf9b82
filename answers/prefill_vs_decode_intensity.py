"""Prefill versus decode: how many FLOPs each byte of weights buys, and why decoding is memory-bound.

A linear layer reads its d_in × d_out weights once per forward call and does 2 FLOPs per weight per
token. Prefill pushes hundreds of prompt tokens through each weight read; decoding pushes one token per
sequence, so the GPU mostly waits for memory: 1 FLOP per fp16 byte against the ~150 it could sustain.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from answers.evidence import Evidence
from answers.formulas.serving import matmul_arithmetic_intensity
from answers.reference import randn, seeded_module

__all__ = ["matmul_arithmetic_intensity"]

D_IN, D_OUT, TOKENS = 256, 512, (1, 8, 512)
# NVIDIA A100 SXM datasheet: 312 TFLOP/s dense fp16/bf16 tensor-core math, 2,039 GB/s HBM bandwidth.
A100_FLOPS_PER_BYTE = 312e12 / 2039e9


def _intensity(tokens: int, seed: int, count_macs: bool = False) -> float:
    """FlopCounterMode FLOPs of one bf16 linear layer over ``tokens`` rows, per byte of its weights."""
    layer = seeded_module(lambda: nn.Linear(D_IN, D_OUT, bias=False), seed=seed, dtype=torch.bfloat16)
    x = randn(tokens, D_IN, seed=seed + 1, dtype=torch.bfloat16)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        layer(x)
    flops = counter.get_total_flops() // (2 if count_macs else 1)
    return flops / (layer.weight.numel() * layer.weight.element_size())


def intensity_formula_matches_counted_flops(seed: int = 0) -> Evidence:
    """Counted FLOPs per weight byte for 1, 8 and 512 tokens equal 2·tokens/bytes (bf16: 1, 8, 512);
    counting multiply-adds as one operation halves them."""
    return Evidence(
        measured=tuple(_intensity(t, seed) for t in TOKENS),
        expected=tuple(matmul_arithmetic_intensity(t, D_IN, D_OUT, 2) for t in TOKENS),
        comparison="equal",
        derivation="formula matmul_arithmetic_intensity: 2·tokens·d_in·d_out / (d_in·d_out·bytes)",
        counterfactual="a multiply-add counted as one FLOP",
        counterfactual_measured=tuple(_intensity(t, seed, count_macs=True) for t in TOKENS),
        unit="FLOPs/byte",
    )


LLM_D = 4096  # a Llama-2-7B-sized square projection (d_model 4096)


def _step_intensity(batch: int, weights_only: bool) -> float:
    """FlopCounterMode FLOPs of one decode step of ``batch`` sequences through a 4096×4096 bf16 linear
    layer, per byte it moves: the weights, plus the input and output activations unless ``weights_only``.
    Meta tensors: shapes only, nothing is allocated."""
    w = torch.empty(LLM_D, LLM_D, device="meta", dtype=torch.bfloat16)
    x = torch.empty(batch, LLM_D, device="meta", dtype=torch.bfloat16)  # one new token per sequence
    with FlopCounterMode(display=False) as counter:
        y = F.linear(x, w)
    moved = [w] if weights_only else [w, x, y]
    return counter.get_total_flops() / sum(t.numel() * t.element_size() for t in moved)


def _batch_reaching_the_ridge(weights_only: bool = False) -> int:
    """Smallest decode batch whose counted intensity reaches the A100 ridge (bisection: intensity grows
    with the batch)."""
    low, high = 1, 4096
    while low < high:
        mid = (low + high) // 2
        low, high = (mid + 1, high) if _step_intensity(mid, weights_only) < A100_FLOPS_PER_BYTE else (low, mid)
    return low


def decode_stays_memory_bound_until_a_batch_of_about_165() -> Evidence:
    """A decode step through a 4096×4096 bf16 layer does 2·B·d² FLOPs on 2·(d² + 2·B·d) bytes. Counted
    with FlopCounterMode, it first reaches an A100's ridge (≈ 153 FLOP/B) at a batch of 166 sequences,
    the root of 2Bd² = R·b·(d² + 2Bd); one sequence (intensity ≈ 1) is 150× below it. Counting the
    weight bytes only (intensity 2B/b) puts the crossing at 154."""
    r, b, d2, s = A100_FLOPS_PER_BYTE, 2, LLM_D * LLM_D, 2 * LLM_D
    return Evidence(
        measured=_batch_reaching_the_ridge(),
        expected=math.ceil(r * b * d2 / (2 * d2 - r * b * s)),
        comparison="equal",
        derivation="theory: smallest B with 2·B·d² / (b·(d² + 2·B·d)) ≥ 312e12 / 2.039e12 (A100 datasheet)",
        counterfactual="intensity per byte of weights only (2B/b), ignoring the activations read and written",
        counterfactual_measured=_batch_reaching_the_ridge(weights_only=True),
        unit="sequences",
        details={
            "batch-1 decode intensity (FLOP/B)": _step_intensity(1, weights_only=False),
            "A100 ridge (FLOP/B)": A100_FLOPS_PER_BYTE,
            "7B fp16 decode floor on an A100 (ms/token)": 6.74e9 * 2 / 2039e9 * 1e3,
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
