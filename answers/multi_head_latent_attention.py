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
from torch.utils._pytree import tree_leaves

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


State = tuple[torch.Tensor | None, torch.Tensor | None]


def _append(cached: torch.Tensor | None, new: torch.Tensor, dim: int) -> torch.Tensor:
    return new if cached is None else torch.cat([cached, new], dim=dim)


def _absorbed_decode_step(w: dict, x_t: torch.Tensor, t: int, state: State, *, keep_rope_key: bool = True):
    """One decoding step of MLA with absorption. Its only memory of earlier tokens is ``state`` = the
    cached (c_KV, k_R); with ``keep_rope_key`` off the RoPE key is neither cached nor used."""
    latents, k_ropes = state
    position = torch.tensor([t])
    latents = _append(latents, x_t @ w["dkv"], 0)  # (n, d_c)
    if keep_rope_key:
        k_ropes = _append(k_ropes, apply_rope(x_t @ w["kr"], position), 0)  # (n, d_R)
    q, q_rope = _queries(x_t, w, position)
    return _absorbed_step(q, q_rope, latents, k_ropes, w, with_rope=keep_rope_key), (latents, k_ropes)


def _reconstructing_decode_step(w: dict, x_t: torch.Tensor, t: int, state: State):
    """One decoding step without absorption, as implementations that treat MLA like MHA do: rebuild this
    token's per-head keys (content part and the shared RoPE part, copied into every head) and values
    from c_KV, and cache those."""
    keys, values = state
    position = torch.tensor([t])
    latent = x_t @ w["dkv"]
    k_rope = apply_rope(x_t @ w["kr"], position).expand(N_HEADS, -1, -1)  # (h, 1, d_R)
    keys = _append(keys, torch.cat([_per_head(latent @ w["uk"], D_HEAD), k_rope], dim=-1), 1)  # (h, n, d_h + d_R)
    values = _append(values, _per_head(latent @ w["uv"], D_HEAD), 1)  # (h, n, d_h)
    q, q_rope = _queries(x_t, w, position)
    scores = torch.cat([q, q_rope], dim=-1) @ keys.transpose(-2, -1) / math.sqrt(D_HEAD + D_ROPE)
    heads = scores.softmax(-1) @ values  # only past and current tokens are cached: no mask needed
    return heads.transpose(0, 1).reshape(1, -1) @ w["o"], (keys, values)


def _decode(w: dict, x: torch.Tensor, step=_absorbed_decode_step, **options) -> tuple[torch.Tensor, State]:
    """Token-by-token decoding. ``step`` sees the weights, the new token, its position and the state the
    previous step returned, nothing else, so the state is everything the decoder keeps: its cache."""
    state: State = (None, None)
    outputs = []
    for t in range(x.shape[0]):
        out, state = step(w, x[t : t + 1], t, state, **options)
        outputs.append(out)
    return torch.cat(outputs), state


def _state_bytes(state: State) -> int:
    """Bytes of every tensor the decoder carries between steps, found by walking the state, not by name."""
    return sum(leaf.numel() * leaf.element_size() for leaf in tree_leaves(state) if isinstance(leaf, torch.Tensor))


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
    """A decoder whose only memory between steps is its cache reproduces the full causal pass while
    keeping (d_c + d_R) numbers per token: the state it carries, measured by walking it, against the
    count of DeepSeek-V2's Table 1. Decoding without absorption, caching the reconstructed per-head keys
    and values, reproduces the pass too but keeps h·(2d_h + d_R) numbers, more than MHA's 2·h·d_h."""
    w, x = _weights(seed), randn(N_TOKENS, D_MODEL, seed=seed + 20)
    full = _reconstructed_attention(x, w)

    def kept_and_exact(step) -> tuple[int, bool]:
        outputs, state = _decode(w, x, step)
        return _state_bytes(state), (outputs - full).abs().max().item() <= 1e-12  # float64 rounding

    mha, cache = seeded_module(lambda: MultiHeadAttention(N_HEADS * D_HEAD, N_HEADS), seed=seed), KVCache()
    with torch.no_grad():
        for t in range(N_TOKENS):
            mha(randn(1, 1, N_HEADS * D_HEAD, seed=seed + 100 + t), cache=cache)
    bytes_per_element = x.element_size()  # float64 here; the numeric question takes 2 for fp16
    return Evidence(
        measured=kept_and_exact(_absorbed_decode_step),
        expected=(mla_cache_bytes(1, D_LATENT, D_ROPE, N_TOKENS, bytes_per_element), True),
        comparison="equal",
        derivation="DeepSeek-V2 Table 1: (d_c + d_R)·l numbers per token, times tokens and bytes; and the "
        "decoded outputs equal the full pass",
        counterfactual="decoding without absorption: the reconstructed per-head keys (with the RoPE part) and "
        "values cached, as when MLA is served like MHA",
        counterfactual_measured=kept_and_exact(_reconstructing_decode_step),
        details={
            f"MHA cache measured, {N_HEADS} heads of {D_HEAD} (bytes)": cache.nbytes(),
            "MHA formula (bytes)": kv_cache_bytes(1, N_HEADS, D_HEAD, N_TOKENS, 1, bytes_per_element),
            "DeepSeek-V2 shape, fp16, per token (60 layers, d_c 512, d_R 64)": mla_cache_bytes(60, 512, 64, 1, 2),
            "MHA, 60 layers, 128 heads of 128, fp16, per token": kv_cache_bytes(60, 128, 128, 1, 1, 2),
            "DeepSeek-V2 numbers per token and layer over d_h (Table 1: 9/2)": (512 + 64) / 128,
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
