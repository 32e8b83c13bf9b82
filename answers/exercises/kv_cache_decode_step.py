"""Exercise kv-cache-decode-step: one step of cached decoding, append the new token's K/V and attend."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from answers.exercises._kit import Case, Misconception, randn

ID = "kv-cache-decode-step"
CARD = "kv-cache-decoding"
DIFFICULTY = "medium"
TITLE = "One decode step with a KV cache"
FUNCTION = "decode_step"
IMPORTS = "import math\n\nimport torch\n"
# The card's claims run on the learner's function too, passed as this keyword (see _claims.py).
CLAIM_PARAMETER = "step"
CARD_CLAIMS = ("the_new_token_attends_to_its_own_key_and_value",)
FORBIDDEN = {
    "torch.nn.functional.scaled_dot_product_attention": "write the attention of the new token yourself",
    "torch.nn.functional.multi_head_attention_forward": "it computes attention for you",
    "torch.nn.MultiheadAttention": "it computes attention for you",
}

_torch_sdpa = F.scaled_dot_product_attention


def decode_step(q, k, v, k_cache, v_cache):
    """Decode one token with a KV cache: append its key and value, then let its query attend to all of them.

    q, k: (batch, heads, 1, d_k) and v: (batch, heads, 1, d_v), the new token's projections.
    k_cache: (batch, heads, t, d_k), v_cache: (batch, heads, t, d_v), the t tokens before it (t = 0 for the
    first token: empty caches). Returns (out, k_cache, v_cache):
      out (batch, heads, 1, d_v) = softmax(q · [cache keys, k]ᵀ / √d_k) · [cache values, v], the new token
      attending to every earlier token and to itself (no mask is needed: nothing in the cache is in its
      future); the caches with the new key and value appended at the end, (batch, heads, t + 1, ·).
    The result equals the last row of full causal attention over all t + 1 tokens. Floating point; the
    inputs' dtype is kept. Do not call F.scaled_dot_product_attention.

    Example: k_cache = [[[[0., 0.]]]], v_cache = [[[[0.]]]] (t = 1), k = [[[[1., 0.]]]], v = [[[[4.]]]],
        q = [[[[√2·ln 3, 0.]]]]: scores = [0, ln 3], weights = [1/4, 3/4], out = [[[[3.]]]];
        the caches become [[[[0., 0.], [1., 0.]]]] and [[[[0.], [4.]]]].
    """
    k_cache = torch.cat([k_cache, k], dim=-2)
    v_cache = torch.cat([v_cache, v], dim=-2)
    scores = q @ k_cache.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (batch, heads, 1, t + 1)
    return torch.softmax(scores, dim=-1) @ v_cache, k_cache, v_cache


# ------------------------------------------------------------------------------------------ the checks


def _step(seed: int, batch: int, heads: int, t: int, d_k: int, d_v: int, dtype=torch.float64, scale: float = 1.0):
    """A sequence of t + 1 tokens cut into the cache (the first t) and the new token; the expected result is
    full causal attention over the whole sequence (its last row) and the sequence's own keys and values."""
    q = scale * randn(batch, heads, t + 1, d_k, seed=seed, dtype=dtype)
    k = scale * randn(batch, heads, t + 1, d_k, seed=seed + 1, dtype=dtype)
    v = randn(batch, heads, t + 1, d_v, seed=seed + 2, dtype=dtype)
    args = (q[:, :, t:], k[:, :, t:], v[:, :, t:], k[:, :, :t], v[:, :, :t])
    full = _torch_sdpa(q, k, v, is_causal=True)  # (batch, heads, t + 1, d_v)
    return args, (full[:, :, t:], k, v)


def cases() -> list[Case]:
    names = ("q", "k", "v", "k_cache", "v_cache")
    f64 = torch.float64
    example = (
        torch.tensor([[[[math.sqrt(2) * math.log(3), 0.0]]]], dtype=f64),
        torch.tensor([[[[1.0, 0.0]]]], dtype=f64),
        torch.tensor([[[[4.0]]]], dtype=f64),
        torch.zeros(1, 1, 1, 2, dtype=f64),
        torch.zeros(1, 1, 1, 1, dtype=f64),
    )
    example_expected = (
        torch.tensor([[[[3.0]]]], dtype=f64),
        torch.tensor([[[[0.0, 0.0], [1.0, 0.0]]]], dtype=f64),
        torch.tensor([[[[0.0], [4.0]]]], dtype=f64),
    )
    shapes = [
        (
            "the first token: an empty cache (t = 0)",
            dict(seed=1, batch=2, heads=2, t=0, d_k=3, d_v=2),
            "the token attends to itself alone: out = v",
        ),
        ("t = 1, batch 1, one head", dict(seed=4, batch=1, heads=1, t=1, d_k=4, d_v=3), "the smallest cache"),
        (
            "t = 6, batch 2 × 3 heads, d_k = 4 ≠ d_v = 5",
            dict(seed=7, batch=2, heads=3, t=6, d_k=4, d_v=5),
            "= the last row of causal attention over 7 tokens",
        ),
        (
            "large scores, t = 4",
            dict(seed=10, batch=1, heads=2, t=4, d_k=8, d_v=3, scale=30.0),
            "scores in the thousands: exp overflows unless each row's maximum is subtracted",
        ),
        (
            "float32, t = 5",
            dict(seed=13, batch=2, heads=1, t=5, d_k=6, d_v=4, dtype=torch.float32),
            "the dtype is kept",
        ),
    ]
    checks = [Case("the worked example", example, example_expected, "the definition", arg_names=names)]
    for name, shape, why in shapes:
        args, expected = _step(**shape)
        tolerance = dict(atol=1e-5, rtol=1e-4) if shape.get("dtype") is torch.float32 else {}
        checks.append(Case(name, args, expected, why, arg_names=names, **tolerance))
    return checks  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def _attend(q: Tensor, keys: Tensor, values: Tensor, allowed: Tensor | None = None) -> Tensor:
    scores = q @ keys.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if allowed is not None:
        scores = scores.masked_fill(~allowed, -math.inf)
    return torch.softmax(scores, dim=-1) @ values


def attend_then_append(q, k, v, k_cache, v_cache):
    out = _attend(q, k_cache, v_cache)
    return out, torch.cat([k_cache, k], dim=-2), torch.cat([v_cache, v], dim=-2)


def prepended(q, k, v, k_cache, v_cache):
    keys, values = torch.cat([k, k_cache], dim=-2), torch.cat([v, v_cache], dim=-2)
    return _attend(q, keys, values), keys, values


def causal_mask_without_offset(q, k, v, k_cache, v_cache):
    keys, values = torch.cat([k_cache, k], dim=-2), torch.cat([v_cache, v], dim=-2)
    allowed = torch.ones(1, keys.shape[-2], dtype=torch.bool).tril()  # query 0 of a (1, t+1) mask sees key 0 only
    return _attend(q, keys, values, allowed), keys, values


def cache_overwritten(q, k, v, k_cache, v_cache):
    return _attend(q, k, v), k, v


MISCONCEPTIONS = [
    Misconception("attend, then append", attend_then_append,
                  "you attend over the cache before adding the new token's key and value, so the token never sees "
                  "itself (and the first token has nothing at all to attend to). Append first, then attend",
                  "kv-cache-decoding: “At each step, attend over the cache, then append the new token's K/V.”"),
    Misconception("prepended instead of appended", prepended,
                  "you put the new key and value at the front of the cache. This step's output is unchanged "
                  "(attention does not care about key order), but the cache no longer lists tokens in order, "
                  "which breaks whatever reads it by position: a sliding window that keeps the last w entries "
                  "would keep the oldest ones", "kv-cache-decoding: cached_decoding_reproduces_the_full_forward"),
    Misconception("a causal mask without the cache offset", causal_mask_without_offset,
                  "you build the causal mask for (1, t + 1) with tril(): its one query row is query 0, which sees "
                  "only key 0. The new query is at position t and sees every key; with a cache the causal mask "
                  "is tril(diagonal=t), or none at all for one query",
                  "kv-cache-decoding: cached_decoding_reproduces_the_full_forward"),
    Misconception("the cache overwritten", cache_overwritten,
                  "you return the new key and value as the cache instead of appending them: every step forgets "
                  "the past, and the token attends only to itself",
                  "kv-cache-decoding: cache_grows_by_a_fixed_amount_per_token"),
]  # fmt: skip
