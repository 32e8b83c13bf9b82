"""Serving arithmetic: paged KV-cache waste, mixture-of-experts parameters, quantised weight bytes,
arithmetic intensity of decoding, the cache rows a chunked prefill reads."""

from __future__ import annotations

from answers.formulas._trace import exp  # math.exp that also records the working


def paged_blocks(tokens: int, block_size: int) -> int:
    """Blocks a sequence of ``tokens`` tokens occupies in a paged KV cache: ⌈tokens / block_size⌉."""
    return -(-tokens // block_size)


def paged_waste_tokens(tokens: int, block_size: int) -> int:
    """Reserved but unused token slots of a paged sequence: ⌈n / B⌉·B − n, always ≤ B − 1."""
    return paged_blocks(tokens, block_size) * block_size - tokens


def contiguous_waste_tokens(tokens: int, max_tokens: int) -> int:
    """Unused slots when every request reserves a contiguous buffer for ``max_tokens`` tokens."""
    return max_tokens - tokens


def moe_parameters(
    layers: int,
    d_model: int,
    d_ff: int,
    experts: int,
    experts_used: int,
    vocab: int,
    n_heads: int,
    kv_heads: int,
) -> int:
    """Parameters of a Mixtral-style decoder (no biases, SwiGLU experts, GQA, RMSNorm, untied embeddings)
    that a token uses when ``experts_used`` experts run; ``experts_used = experts`` gives the total.

    per layer: attention d·d·(2 + 2·kv_heads/n_heads) + router d·E + experts_used·3·d·d_ff + 2 norms·d;
    plus embedding and output matrices 2·V·d and the final norm d.
    """
    head_dim = d_model // n_heads
    attention = 2 * d_model * d_model + 2 * d_model * kv_heads * head_dim
    per_layer = attention + d_model * experts + experts_used * 3 * d_model * d_ff + 2 * d_model
    return layers * per_layer + 2 * vocab * d_model + d_model


def quantized_weight_bytes(rows: int, cols: int, bits: int, scale_bytes: int = 2) -> float:
    """Bytes of a rows×cols weight stored with ``bits`` bits per entry plus one scale per row
    (per-output-channel symmetric quantisation): rows·cols·bits/8 + rows·scale_bytes."""
    return rows * cols * bits / 8 + rows * scale_bytes


def matmul_arithmetic_intensity(tokens: int, d_in: int, d_out: int, bytes_per_element: int = 2) -> float:
    """FLOPs per byte of weights read when ``tokens`` rows go through a d_in×d_out linear layer:
    2·tokens·d_in·d_out / (d_in·d_out·bytes) = 2·tokens / bytes. One token per step (decoding) gives
    1 FLOP per fp16 byte, far below the ~100s a GPU needs to be compute-bound."""
    return 2 * tokens * d_in * d_out / (d_in * d_out * bytes_per_element)


def perplexity(mean_nll_nats: float) -> float:
    """exp(mean negative log-likelihood per token, in nats): the effective number of equally likely
    choices. A uniform model over V tokens has mean NLL ln V and perplexity V."""
    return exp(mean_nll_nats)


def sliding_window_reach(window: int, layers: int) -> int:
    """Tokens a position can draw information from after ``layers`` layers of causal sliding-window
    attention, each seeing itself and the previous window − 1 tokens: layers·(window − 1) + 1."""
    return layers * (window - 1) + 1


def speculative_tokens_per_target_pass(acceptance_rate: float, draft_tokens: int) -> float:
    """Expected tokens produced per target-model pass when the draft proposes ``draft_tokens`` tokens,
    each accepted independently with probability α: (1 − α^(γ+1)) / (1 − α) (Leviathan et al. 2023)."""
    if acceptance_rate == 1:
        return draft_tokens + 1
    return (1 - acceptance_rate ** (draft_tokens + 1)) / (1 - acceptance_rate)


def chunked_prefill_cached_token_reads(prompt_tokens: int, chunk_tokens: int) -> float:
    """Key/value rows one attention layer attends to over a prefill in chunks of ``chunk_tokens``: chunk c
    (from 1) reads the (c − 1)·C cached rows of the earlier chunks and its own, so with k = ⌈n / C⌉ chunks
    the total is C · k(k − 1)/2 + n, against n for one pass."""
    chunks = -(-prompt_tokens // chunk_tokens)
    return chunk_tokens * chunks * (chunks - 1) / 2 + prompt_tokens
