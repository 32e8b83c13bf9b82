"""Prefill versus decode: how many FLOPs each byte of weights buys, and why decoding is memory-bound.

A linear layer reads its d_in × d_out weights once per forward call and does 2 FLOPs per weight per
token. Prefill pushes hundreds of prompt tokens through each weight read; decoding pushes one token per
sequence, so the GPU mostly waits for memory: 1 FLOP per fp16 byte against the ~150 it could sustain.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from answers.evidence import Evidence
from answers.formulas.serving import matmul_arithmetic_intensity
from answers.reference import randn, seeded_module

__all__ = ["matmul_arithmetic_intensity"]

D_IN, D_OUT, TOKENS = 256, 512, (1, 8, 512)
# NVIDIA A100 SXM datasheet: 312 TFLOP/s dense fp16/bf16 tensor-core math, 2,039 GB/s HBM bandwidth.
A100_FLOPS_PER_BYTE = 312e12 / 2039e9


def _intensity(tokens: int, count_macs: bool = False) -> float:
    """FlopCounterMode FLOPs of one bf16 linear layer over ``tokens`` rows, per byte of its weights."""
    layer = seeded_module(lambda: nn.Linear(D_IN, D_OUT, bias=False), seed=1, dtype=torch.bfloat16)
    x = randn(tokens, D_IN, seed=2, dtype=torch.bfloat16)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        layer(x)
    flops = counter.get_total_flops() // (2 if count_macs else 1)
    return flops / (layer.weight.numel() * layer.weight.element_size())


def intensity_formula_matches_counted_flops() -> Evidence:
    """Counted FLOPs per weight byte for 1, 8 and 512 tokens equal 2·tokens/bytes (bf16: 1, 8, 512);
    counting multiply-adds as one operation halves them."""
    return Evidence(
        measured=tuple(_intensity(t) for t in TOKENS),
        expected=tuple(matmul_arithmetic_intensity(t, D_IN, D_OUT, 2) for t in TOKENS),
        comparison="equal",
        derivation="formula matmul_arithmetic_intensity: 2·tokens·d_in·d_out / (d_in·d_out·bytes)",
        counterfactual="a multiply-add counted as one FLOP",
        counterfactual_measured=tuple(_intensity(t, count_macs=True) for t in TOKENS),
        unit="FLOPs/byte",
    )


def decoding_one_token_is_memory_bound() -> Evidence:
    """One token per weight read gives 1 FLOP per byte, far below an A100's ≈ 153 FLOPs per byte of
    bandwidth, so decoding waits on memory; a 512-token prefill is above it, compute-bound."""
    return Evidence(
        measured=_intensity(1),
        expected=A100_FLOPS_PER_BYTE,
        comparison="at_most",
        derivation="A100 datasheet ridge point: 312 TFLOP/s ÷ 2,039 GB/s",
        counterfactual="prefill of 512 tokens",
        counterfactual_measured=_intensity(512),
        unit="FLOPs/byte",
        details={"tokens needed to reach the ridge (bf16)": A100_FLOPS_PER_BYTE / 1.0},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
