"""The per-token latency floor of decoding: the bytes a step must read over the memory bandwidth.

A decode step pushes one new token per sequence through the whole network, so it must read every weight
once (shared by the whole batch) and every cached key and value of every sequence (one cache each). At
about 1 FLOP per byte the arithmetic is free; the floor is bytes / bandwidth. Batching divides the weight
bytes over more tokens but leaves each sequence's cache bytes per token unchanged.
"""

from __future__ import annotations

import functools

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from answers.evidence import Evidence
from answers.formulas.decode_floor import decode_step_bytes, decode_tokens_per_second_ceiling
from answers.formulas.kv_cache import kv_cache_bytes
from answers.reference import (
    DecoderBlock,
    FeedForward,
    KVCache,
    MultiHeadAttention,
    RMSNorm,
    count_parameters,
    randn,
    seeded_module,
)

__all__ = ["decode_step_bytes", "decode_tokens_per_second_ceiling"]

D_MODEL, HEADS, KV_HEADS, LAYERS, D_FF, VOCAB = 32, 4, 2, 2, 64, 50  # toy GQA decoder, d_head 8
CONTEXT = 12  # tokens already cached when the measured step runs
BIG_BATCH = 8

# NVIDIA A100 80GB SXM datasheet, "Specifications": GPU memory bandwidth 2,039 GB/s.
A100_BYTES_PER_S = 2039e9
# Llama-2-7B: 6.74B parameters (model card), 32 layers of 32 MHA heads of 128 (Llama 2 paper, table 1),
# vocabulary 32,000 and d_model 4096 (config.json). The untied input embedding is a lookup: a step reads
# one of its rows, not the 32,000 × 4096 table, so the weights read per step are 6.74B − 131M.
LLAMA2_PARAMETERS, LLAMA2_LAYERS, LLAMA2_HEADS, LLAMA2_HEAD_DIM = 6.74e9, 32, 32, 128
LLAMA2_VOCAB, LLAMA2_D_MODEL, FP16_BYTES, LLAMA2_CONTEXT = 32000, 4096, 2, 4096
LLAMA2_D_FF = 11008  # SwiGLU hidden width (config.json intermediate_size)


class _ToyDecoder(nn.Module):
    """Pre-norm GQA decoder blocks, a final LayerNorm and an LM head, fed embedded vectors (no lookup table,
    so every parameter is a weight the step must read in full)."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(DecoderBlock(D_MODEL, HEADS, D_FF, n_kv_heads=KV_HEADS) for _ in range(LAYERS))
        self.norm = nn.LayerNorm(D_MODEL)
        self.head = nn.Linear(D_MODEL, VOCAB, bias=False)

    def forward(self, x: torch.Tensor, caches: list[KVCache]) -> torch.Tensor:
        for block, cache in zip(self.blocks, caches, strict=True):
            x = block(x, cache=cache)
        return self.head(self.norm(x))


class _Llama2Shaped(nn.Module):
    """Llama-2-7B's layout from the reference parts, on the meta device (shapes only): an untied (V, d)
    embedding table, 32 layers of bias-free MHA and SwiGLU FFN with two RMSNorms each, a final RMSNorm and
    the LM head. RoPE adds no parameters and does not change what is cached, so it is left out."""

    def __init__(self) -> None:
        super().__init__()
        d = LLAMA2_D_MODEL
        self.embed = nn.Parameter(torch.empty(LLAMA2_VOCAB, d))
        self.attn = nn.ModuleList(MultiHeadAttention(d, LLAMA2_HEADS, bias=False) for _ in range(LLAMA2_LAYERS))
        self.ffn = nn.ModuleList(FeedForward(d, LLAMA2_D_FF, "swiglu", bias=False) for _ in range(LLAMA2_LAYERS))
        self.norms = nn.ModuleList(RMSNorm(d) for _ in range(2 * LLAMA2_LAYERS + 1))
        self.head = nn.Linear(d, LLAMA2_VOCAB, bias=False)

    def cache_bytes(self, tokens: int) -> int:
        """Bytes the caches hold after ``tokens`` tokens: each layer keeps its K and V projections' outputs,
        in the weights' dtype. Read off the instantiated layers, not the published shape constants."""
        return tokens * sum((a.w_k.out_features + a.w_v.out_features) * a.w_k.weight.element_size() for a in self.attn)


@functools.cache
def _llama2() -> _Llama2Shaped:
    with torch.device("meta"):
        return _Llama2Shaped().half()


def _tensors(obj) -> list[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, list | tuple):
        return [t for item in obj for t in _tensors(item)]
    if isinstance(obj, dict):
        return [t for item in obj.values() for t in _tensors(item)]
    return []


class _StorageReads(TorchFunctionMode):
    """Records every storage any torch function takes as an input, keyed by its address."""

    def __init__(self) -> None:
        super().__init__()
        self.read: dict[int, int] = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        for t in _tensors(args) + _tensors(kwargs):
            storage = t.untyped_storage()
            self.read[storage.data_ptr()] = storage.nbytes()
        return func(*args, **kwargs)


def _storages(tensors) -> dict[int, int]:
    return {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in tensors}


def _bytes_read_by_one_step(batch: int, seed: int) -> tuple[int, int]:
    """Prefill CONTEXT tokens, then trace one decode step: bytes of the weights and of the caches that
    existed before the step and that the step read (storages created during the step are not reads)."""
    model = seeded_module(_ToyDecoder, seed=seed)
    caches = [KVCache() for _ in range(LAYERS)]
    with torch.no_grad():
        model(randn(batch, CONTEXT, D_MODEL, seed=seed + 1), caches)
        weights = _storages(model.parameters())
        cached = _storages(t for c in caches for t in (c.keys, c.values))
        tracer = _StorageReads()
        with tracer:
            model(randn(batch, 1, D_MODEL, seed=seed + 2), caches)
    weight_read = sum(n for ptr, n in weights.items() if ptr in tracer.read)
    cache_read = sum(n for ptr, n in cached.items() if ptr in tracer.read)
    return weight_read, cache_read


def _toy_step_bytes(batch: int, context: int = CONTEXT) -> int:
    element = torch.zeros((), dtype=torch.float64).element_size()
    weight_bytes = count_parameters(seeded_module(_ToyDecoder)) * element
    return decode_step_bytes(weight_bytes, LAYERS, KV_HEADS, D_MODEL // HEADS, context, batch, element)


def a_step_reads_every_weight_and_the_whole_cache(seed: int = 0) -> Evidence:
    """A traced decode step of a toy GQA decoder with 12 cached tokens reads exactly
    P·b + 2·L·h_kv·d_head·n·b bytes of pre-existing weights and cache; the weights-only estimate misses the cache."""
    weight_read, cache_read = _bytes_read_by_one_step(1, seed)
    return Evidence(
        measured=weight_read + cache_read,
        expected=_toy_step_bytes(1),
        comparison="equal",
        derivation="formula decode_step_bytes: parameters·bytes + kv_cache_bytes(L, h_kv, d_head, n, batch, bytes)",
        counterfactual="the weights-only estimate (parameters · bytes, cache ignored)",
        counterfactual_measured=_toy_step_bytes(1, context=0),
        unit="bytes",
        details={"weights read": weight_read, "cache read": cache_read},
    )


def batching_shares_the_weights_but_not_the_cache(seed: int = 0) -> Evidence:
    """At a batch of 8 a traced step reads the weights once and 8 caches: P·b + 8·cache, not 8 × the
    one-sequence step (which would mean batching buys no throughput)."""
    weight_read, cache_read = _bytes_read_by_one_step(BIG_BATCH, seed)
    one_weight, one_cache = _bytes_read_by_one_step(1, seed)
    return Evidence(
        measured=weight_read + cache_read,
        expected=_toy_step_bytes(BIG_BATCH),
        comparison="equal",
        derivation="formula decode_step_bytes with batch 8: the weight bytes once, the cache term times 8",
        counterfactual="8 × the bytes of a one-sequence step (each sequence re-reading the weights)",
        counterfactual_measured=BIG_BATCH * (one_weight + one_cache),
        unit="bytes",
        details={
            "weights read, batch 1 / batch 8": f"{one_weight} / {weight_read}",
            "cache read, batch 1 / batch 8": f"{one_cache} / {cache_read}",
        },
    )


def _llama2_step_bytes(batch: int, with_cache: bool = True) -> int:
    """Bytes a decode step of the instantiated Llama-2-7B-shaped model reads: every parameter but the input
    embedding table (one row of it), plus the K/V projections' widths × 4096 cached tokens × batch."""
    model = _llama2()
    element = model.embed.element_size()
    weights = (count_parameters(model) - model.embed.numel() + LLAMA2_D_MODEL) * element
    return weights + (batch * model.cache_bytes(LLAMA2_CONTEXT) if with_cache else 0)


def _llama2_evidence(batch: int, counterfactual: str, counterfactual_measured: float) -> Evidence:
    ceiling = decode_tokens_per_second_ceiling(
        LLAMA2_PARAMETERS - LLAMA2_VOCAB * LLAMA2_D_MODEL + LLAMA2_D_MODEL,
        LLAMA2_LAYERS,
        LLAMA2_HEADS,
        LLAMA2_HEAD_DIM,
        LLAMA2_CONTEXT,
        batch,
        A100_BYTES_PER_S,
        FP16_BYTES,
    )
    return Evidence(
        measured=batch * A100_BYTES_PER_S / _llama2_step_bytes(batch),
        expected=ceiling,
        comparison="rel",
        tolerance=0.001,  # the published 6.74B is rounded to 0.01B: ±0.005 / 6.74 ≈ 0.07%
        derivation=f"formula decode_tokens_per_second_ceiling, batch {batch}, published 6.74B parameters, 2,039 GB/s",
        counterfactual=counterfactual,
        counterfactual_measured=counterfactual_measured,
        unit="tokens/s",
        details={
            "bytes per step (GB)": _llama2_step_bytes(batch) / 1e9,
            "ms per step": _llama2_step_bytes(batch) / A100_BYTES_PER_S * 1e3,
            "batch at which the caches outweigh the weights": _llama2_step_bytes(1, with_cache=False)
            / kv_cache_bytes(LLAMA2_LAYERS, LLAMA2_HEADS, LLAMA2_HEAD_DIM, LLAMA2_CONTEXT),
        },
    )


def llama2_7b_decodes_at_most_133_tokens_per_second_on_an_a100() -> Evidence:
    """An fp16 Llama-2-7B-shaped model with a 4096-token context reads 15.4 GB per step: on an A100's
    2,039 GB/s that is at least 7.5 ms per token, at most 133 tokens/s. Leaving out the 2 GiB cache gives 154."""
    return _llama2_evidence(
        1,
        "the same model's weights alone over the bandwidth (the KV cache left out)",
        A100_BYTES_PER_S / _llama2_step_bytes(1, with_cache=False),
    )


def llama2_7b_batch_of_16_reaches_about_690_tokens_per_second_not_16_times_133() -> Evidence:
    """Sixteen 4096-token sequences read 13.2 GB of weights and 16 caches of 2.15 GB, 47.6 GB per step:
    at most 686 tokens/s in total on an A100, 5.2× one sequence for 3.1× its step time. Treating batching
    as sharing all the traffic (the weights-only floor times 16) promises 2,468."""
    return _llama2_evidence(
        16,
        "16 × the weights-only ceiling (as if batching shared the caches too)",
        16 * A100_BYTES_PER_S / _llama2_step_bytes(1, with_cache=False),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
