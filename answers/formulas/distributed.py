"""Distributed-training arithmetic: ZeRO's memory per data-parallel GPU."""

from __future__ import annotations


def zero_memory_per_gpu(params: float, stage: int, gpus: int, optimizer_bytes: int = 12) -> float:
    """Bytes of model states per GPU under ZeRO-DP (Rajbhandari et al. 2020, section 5 and figure 1):
    2Ψ fp16/bf16 weights + 2Ψ gradients + KΨ optimiser state (K = 12 for mixed-precision Adam: fp32 master,
    m and v). Stage 1 shards the optimiser state over the N_d GPUs, stage 2 the gradients too, stage 3 the
    weights too; stage 0 is plain data parallelism."""
    weights, gradients, states = 2 * params, 2 * params, optimizer_bytes * params
    if stage >= 1:
        states = states / gpus
    if stage >= 2:
        gradients = gradients / gpus
    if stage >= 3:
        weights = weights / gpus
    return weights + gradients + states


def causal_context_parallel_imbalance(devices: int, tokens_per_device: int) -> float:
    """Busiest device's causal attention work over the mean, with the sequence cut into P contiguous blocks of c
    tokens. Device i scores i full blocks (c² each) and its own diagonal block, c(c + 1)/2 with the diagonal; the
    last device does (P − 1)c² + c(c + 1)/2, the mean is (P − 1)c²/2 + c(c + 1)/2. For large c the ratio tends to
    (2P − 1)/P, almost 2. A zigzag split (chunks i and 2P − 1 − i) makes it 1."""
    block = tokens_per_device * tokens_per_device
    diagonal = tokens_per_device * (tokens_per_device + 1) / 2
    return ((devices - 1) * block + diagonal) / ((devices - 1) * block / 2 + diagonal)
