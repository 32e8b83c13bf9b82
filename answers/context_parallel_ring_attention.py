"""Context parallelism with ring attention: the sequence split over P devices, K/V blocks passed around a ring.

Each device keeps its queries and passes its key/value block to its neighbour; merging the P partial results with
the online softmax (running maximum, normaliser and weighted sum, rescaled whenever the maximum grows) gives
exactly full attention.

Devices are simulated in one process in float64. Each "device" only ever holds its own queries, the K/V block it
is working on and its running statistics, so no (n × n) score matrix exists anywhere.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from answers.evidence import Evidence
from answers.formulas.distributed import causal_context_parallel_imbalance
from answers.reference import F64, generator

__all__ = ["causal_context_parallel_imbalance"]

DEVICES, SEQ, D_HEAD = 4, 64, 16


class _Partial:
    """A device's running softmax state for its queries: max m, normaliser ℓ = Σ e^{s − m}, sum a = Σ e^{s − m}·v."""

    def __init__(self, queries: int, d: int) -> None:
        self.max = torch.full((queries, 1), -math.inf, dtype=F64)
        self.norm = torch.zeros(queries, 1, dtype=F64)
        self.acc = torch.zeros(queries, d, dtype=F64)

    def merge(self, scores: Tensor, v: Tensor, rescale: bool = True) -> None:
        """Fold one K/V block's scores (q, b) into the state. Without ``rescale`` the earlier sums keep the old
        reference maximum while the new terms use the new one (the bug of forgetting e^{m_old − m_new})."""
        new_max = torch.maximum(self.max, scores.amax(-1, keepdim=True))
        correction = torch.exp(self.max - new_max) if rescale else torch.ones_like(new_max)
        weights = torch.exp(scores - new_max).nan_to_num(0.0)  # a fully masked row has no terms yet
        self.norm = self.norm * correction.nan_to_num(1.0) + weights.sum(-1, keepdim=True)
        self.acc = self.acc * correction.nan_to_num(1.0) + weights @ v
        self.max = new_max

    def output(self) -> Tensor:
        return self.acc / self.norm


def _qkv(seed: int) -> tuple[Tensor, Tensor, Tensor]:
    g = generator(seed)
    return tuple(2 * torch.randn(SEQ, D_HEAD, generator=g, dtype=F64) for _ in range(3))  # type: ignore[return-value]


def _ring_attention(q, k, v, chunks: list[list[int]], causal: bool, rescale: bool = True) -> tuple[Tensor, list[int]]:
    """Ring attention over len(chunks) simulated devices. ``chunks[i]`` lists the sequence chunks device i holds
    (its queries and its own K/V); at ring step s device i works on the K/V of device (i − s) mod P, received
    from its neighbour. Returns the output in sequence order and, per device, the number of query-key scores it
    had to compute (blocks entirely in the causal future are skipped)."""
    devices, chunk = len(chunks), SEQ // sum(len(c) for c in chunks)
    positions = [torch.cat([torch.arange(c * chunk, (c + 1) * chunk) for c in held]) for held in chunks]
    partials = [_Partial(len(p), D_HEAD) for p in positions]
    work = [0] * devices
    for step in range(devices):
        for i in range(devices):
            source = positions[(i - step) % devices]  # the K/V block that reached device i at this step
            allowed = positions[i][:, None] >= source[None, :]  # (own queries, received keys)
            if not causal:
                allowed = torch.ones_like(allowed)
            if not allowed.any():
                continue  # entirely in the future: nothing to compute, though the block still passes on
            work[i] += int(allowed.sum()) if causal else allowed.numel()
            scores = q[positions[i]] @ k[source].T / math.sqrt(D_HEAD)
            partials[i].merge(scores.masked_fill(~allowed, -math.inf), v[source], rescale)
    out = torch.empty_like(q)
    for p, partial in zip(positions, partials, strict=True):
        out[p] = partial.output()
    return out, work


def _contiguous(devices: int) -> list[list[int]]:
    return [[i] for i in range(devices)]


def _zigzag(devices: int) -> list[list[int]]:
    """2P chunks; device i holds chunk i and chunk 2P − 1 − i, pairing an early (cheap) with a late (costly) one."""
    return [[i, 2 * devices - 1 - i] for i in range(devices)]


def ring_attention_equals_full_attention(seed: int = 0) -> Evidence:
    """Four simulated devices, each with 16 of 64 queries, passing K/V blocks around the ring and merging them
    with the online softmax, produce torch's full scaled_dot_product_attention to 10⁻¹². Merging the blocks
    without rescaling the earlier sums when the running maximum grows does not."""
    q, k, v = _qkv(seed)
    full = F.scaled_dot_product_attention(q[None], k[None], v[None])[0]
    ring, _ = _ring_attention(q, k, v, _contiguous(DEVICES), causal=False)
    broken, _ = _ring_attention(q, k, v, _contiguous(DEVICES), causal=False, rescale=False)
    return Evidence(
        measured=(ring - full).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="torch.nn.functional.scaled_dot_product_attention on the whole sequence (float64)",
        counterfactual="blocks merged without the e^{m_old − m_new} rescale",
        counterfactual_measured=(broken - full).abs().max().item(),
        unit="",
    )


def _within_block_future_visible(q, k, v, chunks):
    """The bug of masking only whole blocks: a device skips K/V blocks from later devices but attends its own
    block (and any block it receives) without the token-level causal mask."""
    devices, chunk = len(chunks), SEQ // sum(len(c) for c in chunks)
    positions = [torch.cat([torch.arange(c * chunk, (c + 1) * chunk) for c in held]) for held in chunks]
    out = torch.empty_like(q)
    for i in range(devices):
        partial = _Partial(len(positions[i]), D_HEAD)
        for step in range(devices):
            source = positions[(i - step) % devices]
            if source.min() > positions[i].max():
                continue
            partial.merge(q[positions[i]] @ k[source].T / math.sqrt(D_HEAD), v[source])
        out[positions[i]] = partial.output()
    return out


def causal_ring_attention_equals_causal_attention(seed: int = 0) -> Evidence:
    """With a token-level causal mask on every block, ring attention equals torch's causal
    scaled_dot_product_attention to 10⁻¹², both with the zigzag split (device i holds chunks i and 7 − i of 8) and
    with contiguous blocks. Masking only whole blocks (on contiguous blocks: skip the blocks of later devices,
    attend the own block unmasked) lets tokens see later tokens of their own block. On the zigzag split no block
    lies wholly in a device's future, so that bug would drop the mask entirely; it is shown on contiguous blocks."""
    q, k, v = _qkv(seed)
    full = F.scaled_dot_product_attention(q[None], k[None], v[None], is_causal=True)[0]
    zigzag, _ = _ring_attention(q, k, v, _zigzag(DEVICES), causal=True)
    contiguous, _ = _ring_attention(q, k, v, _contiguous(DEVICES), causal=True)
    leaky = _within_block_future_visible(q, k, v, _contiguous(DEVICES))
    return Evidence(
        measured=max((zigzag - full).abs().max().item(), (contiguous - full).abs().max().item()),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="torch.nn.functional.scaled_dot_product_attention(is_causal=True) on the whole sequence",
        counterfactual="causality enforced per block only (future blocks skipped, no token-level mask inside a block)",
        counterfactual_measured=(leaky - full).abs().max().item(),
        unit="",
    )


def contiguous_causal_split_overloads_the_last_device(seed: int = 0) -> Evidence:
    """Counting the causal query-key scores each simulated device computes for 64 tokens: with contiguous blocks the
    busiest (last) device does 1.74 times the mean work on 4 devices and 1.86 on 8, the formula's
    ((P − 1)c² + c(c + 1)/2) / ((P − 1)c²/2 + c(c + 1)/2), nearly (2P − 1)/P; the first device idles for most of
    the ring. The zigzag split gives every device the same work, ratio 1. Expecting the contiguous split to be
    balanced too (ratio 1, the naive split) fails."""
    q, k, v = _qkv(seed)

    def imbalance(chunks: list[list[int]]) -> float:
        _, work = _ring_attention(q, k, v, chunks, causal=True)
        return max(work) / (sum(work) / len(work))

    contiguous = {p: imbalance(_contiguous(p)) for p in (4, 8)}
    zigzag = {p: imbalance(_zigzag(p)) for p in (4, 8)}
    formula = {p: causal_context_parallel_imbalance(p, SEQ // p) for p in (4, 8)}

    def worst(balanced_split: dict[int, float]) -> float:
        """Largest deviation: contiguous blocks from the formula, the balanced split from 1."""
        return max(max(abs(contiguous[p] - formula[p]), abs(balanced_split[p] - 1.0)) for p in (4, 8))

    return Evidence(
        measured=worst(zigzag),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,
        derivation="formula causal_context_parallel_imbalance for contiguous blocks; 1 for the zigzag split",
        counterfactual="the naive contiguous split taken as the balanced one",
        counterfactual_measured=worst(contiguous),
        unit="",
        details={
            "contiguous, P = 4": contiguous[4],
            "contiguous, P = 8": contiguous[8],
            "zigzag, P = 4": zigzag[4],
            "zigzag, P = 8": zigzag[8],
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
