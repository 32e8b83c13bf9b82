"""Multi-head latent attention (DeepSeek-V2): cache one small latent per token instead of K and V.

Every token's keys and values are reconstructed from a shared latent c_KV = x·W_DKV of size d_c,
so the cache holds d_c numbers (plus a small decoupled RoPE key of size d_R) per token and layer,
instead of 2·h·d_h. The up-projections never need to run at inference: q·(c·W_UK,i) = (q·W_UK,iᵀ)·c, so
W_UK is absorbed into the query and W_UV into W_O, and attention runs directly over the cached latents.
That identity only holds because position (RoPE) is carried by a separate key: rotating the
reconstructed keys would put a position-dependent rotation between W_UK and the query.
"""

from __future__ import annotations

import math

import torch

from answers.evidence import Evidence
from answers.formulas.heads import mla_cache_bytes
from answers.formulas.kv_cache import kv_cache_bytes
from answers.reference import KVCache, MultiHeadAttention, apply_rope, causal_mask, randn, seeded_module

__all__ = ["mla_cache_bytes"]

D_MODEL, N_HEADS, D_HEAD, D_LATENT, D_QLATENT, D_ROPE, N_TOKENS = 32, 4, 8, 12, 16, 4, 9


def _weights(seed: int = 0) -> dict[str, torch.Tensor]:
    """Down-projections to the latents, per-head up-projections, the decoupled RoPE projections, W_O."""
    shapes = {
        "dkv": (D_MODEL, D_LATENT),  # x → c_KV, the only thing cached (with k_R)
        "uk": (D_LATENT, N_HEADS * D_HEAD),
        "uv": (D_LATENT, N_HEADS * D_HEAD),
        "kr": (D_MODEL, D_ROPE),  # one RoPE key shared by all heads
        "dq": (D_MODEL, D_QLATENT),
        "uq": (D_QLATENT, N_HEADS * D_HEAD),
        "qr": (D_QLATENT, N_HEADS * D_ROPE),
        "o": (N_HEADS * D_HEAD, D_MODEL),
    }
    return {name: randn(*s, seed=seed + i) / math.sqrt(s[0]) for i, (name, s) in enumerate(shapes.items())}


def _per_head(t: torch.Tensor, size: int) -> torch.Tensor:
    return t.view(t.shape[0], N_HEADS, size).transpose(0, 1)  # (n, h·size) → (h, n, size)


def _queries(x: torch.Tensor, w: dict, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    c_q = x @ w["dq"]
    q_rope = apply_rope(_per_head(c_q @ w["qr"], D_ROPE), positions)  # (h, n, d_R)
    return _per_head(c_q @ w["uq"], D_HEAD), q_rope  # content part (h, n, d_h), RoPE part


def _reconstructed_attention(x: torch.Tensor, w: dict, *, rope_on_keys: bool = False) -> torch.Tensor:
    """MLA as trained: rebuild per-head K and V from c_KV and attend (causal). ``rope_on_keys`` is the
    naive design that rotates the content queries and reconstructed keys instead of a decoupled key."""
    positions = torch.arange(x.shape[0])
    latent = x @ w["dkv"]  # (n, d_c)
    q, q_rope = _queries(x, w, positions)
    k, v = _per_head(latent @ w["uk"], D_HEAD), _per_head(latent @ w["uv"], D_HEAD)
    if rope_on_keys:
        q, k = apply_rope(q, positions), apply_rope(k, positions)
    k_rope = apply_rope(x @ w["kr"], positions).expand(N_HEADS, -1, -1)  # (h, n, d_R), shared
    scores = (q @ k.transpose(-2, -1) + q_rope @ k_rope.transpose(-2, -1)) / math.sqrt(D_HEAD + D_ROPE)
    weights = scores.masked_fill(~causal_mask(x.shape[0]), -math.inf).softmax(-1)
    heads = weights @ v  # (h, n, d_h)
    return heads.transpose(0, 1).reshape(x.shape[0], -1) @ w["o"]


def _absorbed_step(q: torch.Tensor, q_rope: torch.Tensor, latents, k_rope, w: dict, *, with_rope=True):
    """Attention of new queries over cached latents only: W_UK folded into q, W_UV·W_O applied once.

    q (h, m, d_h), q_rope (h, m, d_R), latents (n, d_c), k_rope (n, d_R) → (m, d).
    """
    uk = w["uk"].view(D_LATENT, N_HEADS, D_HEAD).permute(1, 2, 0)  # (h, d_h, d_c)
    w_o = w["o"].view(N_HEADS, D_HEAD, D_MODEL)  # rows of W_O that read head i
    uv_o = w["uv"].view(D_LATENT, N_HEADS, D_HEAD).transpose(0, 1) @ w_o  # (h, d_c, d)
    scores = (q @ uk) @ latents.T  # (h, m, d_c)·(d_c, n): the absorbed query meets the latent directly
    if with_rope:
        scores = scores + q_rope @ k_rope.T
    m, n = q.shape[1], latents.shape[0]
    allowed = torch.ones(m, n, dtype=torch.bool).tril(diagonal=n - m)
    weights = (scores / math.sqrt(D_HEAD + D_ROPE)).masked_fill(~allowed, -math.inf).softmax(-1)
    return ((weights @ latents) @ uv_o).sum(0)  # Σ over heads of (weighted latent)·W_UV,i·W_O,i


def absorbed_attention_over_latents_equals_reconstructed_attention(seed: int = 0) -> Evidence:
    """Folding W_UK into the queries and W_UV into W_O gives exactly the output of attention over the
    reconstructed K and V — with a decoupled RoPE key. Rotating the reconstructed keys breaks it."""
    w, x = _weights(seed), randn(N_TOKENS, D_MODEL, seed=seed + 20)
    positions = torch.arange(N_TOKENS)
    q, q_rope = _queries(x, w, positions)
    latents, k_rope = x @ w["dkv"], apply_rope(x @ w["kr"], positions)
    absorbed = _absorbed_step(q, q_rope, latents, k_rope, w)
    # The naive design rotates q and k = c·W_UK,i; the absorbed form can rotate q but not the cached c.
    naive_absorbed = _absorbed_step(apply_rope(q, positions), q_rope, latents, k_rope, w)
    return Evidence(
        measured=(absorbed - _reconstructed_attention(x, w)).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64: only the association of the matmuls changes
        derivation="algebra: q·(c·W_UK,i) = (q·W_UK,iᵀ)·c and (Σα c)·W_UV,i·W_O,i = Σα (c·W_UV,i)·W_O,i",
        counterfactual="RoPE applied to the reconstructed keys (no decoupled RoPE key)",
        counterfactual_measured=(naive_absorbed - _reconstructed_attention(x, w, rope_on_keys=True)).abs().max().item(),
    )


def _decode(w: dict, x: torch.Tensor, *, keep_rope_key: bool = True) -> tuple[torch.Tensor, int]:
    """Token-by-token decoding that caches only (c_KV, k_R) per token; returns outputs and cache bytes."""
    latents, k_ropes, outputs = [], [], []
    for t in range(x.shape[0]):
        x_t, position = x[t : t + 1], torch.tensor([t])
        latents.append(x_t @ w["dkv"])
        k_ropes.append(apply_rope(x_t @ w["kr"], position))
        q, q_rope = _queries(x_t, w, position)
        cached_c, cached_k = torch.cat(latents), torch.cat(k_ropes)
        outputs.append(_absorbed_step(q, q_rope, cached_c, cached_k, w, with_rope=keep_rope_key))
    cache = cached_c.numel() * cached_c.element_size() + cached_k.numel() * cached_k.element_size()
    return torch.cat(outputs), cache


def decoding_from_the_latent_cache_reproduces_the_full_pass(seed: int = 0) -> Evidence:
    """Generating token by token from a cache of (c_KV, k_R) alone gives the same outputs as the full
    causal pass over reconstructed K and V; a cache that drops the decoupled RoPE key does not."""
    w, x = _weights(seed), randn(N_TOKENS, D_MODEL, seed=seed + 20)
    full = _reconstructed_attention(x, w)
    return Evidence(
        measured=(_decode(w, x)[0] - full).abs().max().item(),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding
        derivation="MLA's own full forward pass (reconstructed K, V, causal mask), float64",
        counterfactual="only c_KV cached: the decoupled RoPE key forgotten",
        counterfactual_measured=(_decode(w, x, keep_rope_key=False)[0] - full).abs().max().item(),
    )


def latent_cache_holds_d_c_plus_d_r_numbers_per_token(seed: int = 0) -> Evidence:
    """After n tokens the MLA cache holds (d_c + d_R)·n numbers; an MHA cache with the same heads holds
    2·h·d_h·n."""
    w, x = _weights(seed), randn(N_TOKENS, D_MODEL, seed=seed + 20)
    mha, cache = seeded_module(lambda: MultiHeadAttention(N_HEADS * D_HEAD, N_HEADS), seed=seed), KVCache()
    with torch.no_grad():
        for t in range(N_TOKENS):
            mha(randn(1, 1, N_HEADS * D_HEAD, seed=seed + 100 + t), cache=cache)
    bytes_per_element = x.element_size()  # float64 here; the formula takes 2 for fp16
    return Evidence(
        measured=_decode(w, x)[1],
        expected=mla_cache_bytes(1, D_LATENT, D_ROPE, N_TOKENS, bytes_per_element),
        comparison="equal",
        derivation="formula: layers·(d_c + d_R)·tokens·bytes",
        counterfactual=f"standard MHA cache, {N_HEADS} heads of {D_HEAD}",
        counterfactual_measured=cache.nbytes(),
        unit="bytes",
        details={
            "MHA formula": kv_cache_bytes(1, N_HEADS, D_HEAD, N_TOKENS, 1, bytes_per_element),
            "DeepSeek-V2 shape, fp16, per token (60 layers, d_c 512, d_R 64)": mla_cache_bytes(60, 512, 64, 1, 2),
            "MHA, 60 layers, 128 heads of 128, fp16, per token": kv_cache_bytes(60, 128, 128, 1, 1, 2),
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
