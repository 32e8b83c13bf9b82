"""Exercise gqa-expand-kv: hand each query head its KV head in grouped-query attention."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from answers.exercises._kit import Case, Misconception, randn

ID = "gqa-expand-kv"
CARD = "gqa-mqa-kv-cache"
DIFFICULTY = "medium"
TITLE = "Expand grouped K/V heads to the query heads (GQA)"
FUNCTION = "expand_kv"
IMPORTS = "import torch\n"
# The card's claims run on the learner's function too, passed as this keyword (see _claims.py).
CLAIM_PARAMETER = "expand"
CARD_CLAIMS = ("grouped_heads_match_torch_enable_gqa",)
FORBIDDEN: dict[str, str] = {}

_torch_sdpa = F.scaled_dot_product_attention


def expand_kv(kv, n_query_heads: int):
    """Expand K (or V) from n_kv_heads to n_query_heads heads, as grouped-query attention reads them.

    kv: (batch, n_kv_heads, seq, d), any dtype. Returns (batch, n_query_heads, seq, d), same dtype, where
    query head h reads KV head h // (n_query_heads // n_kv_heads): consecutive query heads share a KV head.
    n_kv_heads = n_query_heads is multi-head attention (a copy), n_kv_heads = 1 multi-query attention.
    Raises ValueError when n_query_heads is not a multiple of n_kv_heads.

    Example: kv with 2 KV heads holding the values 0 and 1, n_query_heads = 4:
        heads of the result = [0, 0, 1, 1]   (query heads 0, 1 read KV head 0; heads 2, 3 read KV head 1)
    """
    n_kv_heads = kv.shape[1]
    if n_query_heads % n_kv_heads:
        raise ValueError(f"{n_query_heads} query heads cannot share {n_kv_heads} KV heads evenly")
    return kv.repeat_interleave(n_query_heads // n_kv_heads, dim=1)


def _loop(kv: Tensor, n_query_heads: int) -> Tensor:
    """The rule written out: query head h copies KV head h // group."""
    group = n_query_heads // kv.shape[1]
    return torch.stack([kv[:, h // group] for h in range(n_query_heads)], dim=1)


def cases() -> list[Case]:
    names = ("kv", "n_query_heads")
    heads = torch.arange(2.0).view(1, 2, 1, 1).expand(1, 2, 1, 1).clone()
    kv = randn(2, 2, 3, 5, seed=1)
    q, k, v = randn(2, 6, 4, 5, seed=2), randn(2, 2, 4, 5, seed=3), randn(2, 2, 4, 3, seed=4)
    return [
        Case("2 KV heads → 4 query heads, one number per head", (heads, 4), _loop(heads, 4), "the worked example",
             arg_names=names),
        Case("batch 2, 2 KV heads → 6 query heads, seq 3, d 5", (kv, 6), _loop(kv, 6),
             "groups of 3: heads 0-2 read KV head 0", arg_names=names),
        Case("1 KV head → 5 query heads (multi-query)", (randn(3, 1, 2, 3, seed=5), 5),
             _loop(randn(3, 1, 2, 3, seed=5), 5), "every query head reads the one KV head", arg_names=names),
        Case("3 KV heads → 3 query heads (multi-head)", (randn(2, 3, 5, 2, seed=6), 3), randn(2, 3, 5, 2, seed=6),
             "nothing to share: a copy", arg_names=names),
        Case("integer K/V keep their dtype", (torch.arange(24).view(1, 2, 3, 4), 4),
             _loop(torch.arange(24).view(1, 2, 3, 4), 4), "no conversion to float", arg_names=names),
        Case("attention with your expanded K and V = torch's enable_gqa=True", (k, 6),
             _torch_sdpa(q, k, v, enable_gqa=True), "the grouping torch and Llama use", arg_names=names,
             post=lambda out: _torch_sdpa(q, out, expand_kv(v, 6)), post_label="attention(q, your K, V)"),
        Case("6 query heads cannot share 4 KV heads", (randn(1, 4, 2, 2, seed=7), 6), raises=ValueError,
             why="a group size must be a whole number", arg_names=names),
    ]  # fmt: skip


def repeat_tiles(kv, n_query_heads: int):
    return kv.repeat(1, n_query_heads // kv.shape[1], 1, 1)


def interleave_by_query_heads(kv, n_query_heads: int):
    return kv.repeat_interleave(n_query_heads, dim=1)


def interleave_sequence(kv, n_query_heads: int):
    return kv.repeat_interleave(n_query_heads // kv.shape[1], dim=2)


def no_divisibility_check(kv, n_query_heads: int):
    group = max(1, n_query_heads // kv.shape[1])
    return kv.repeat_interleave(group, dim=1)[:, :n_query_heads]


MISCONCEPTIONS = [
    Misconception("repeat instead of repeat_interleave", repeat_tiles,
                  "kv.repeat tiles the heads: query head h reads KV head h mod n_kv_heads (0, 1, 0, 1 …) instead of "
                  "h // group (0, 0, 1, 1 …), a different model from the one that was trained",
                  "gqa-mqa-kv-cache: “Implement GQA by tiling the K/V heads: k.repeat(1, h // h_kv, 1, 1).”"),
    Misconception("repeat_interleave by n_query_heads", interleave_by_query_heads,
                  "you repeat each KV head n_query_heads times, giving n_kv_heads × n_query_heads heads; repeat it "
                  "n_query_heads // n_kv_heads times", "gqa-mqa-kv-cache: grouped_heads_match_torch_enable_gqa"),
    Misconception("repeated along the sequence", interleave_sequence,
                  "you repeat along dim 2 (the positions) instead of dim 1 (the heads)",
                  "gqa-mqa-kv-cache: grouped_heads_match_torch_enable_gqa"),
    Misconception("uneven groups accepted", no_divisibility_check,
                  "the grouping is right, but a head count that does not divide evenly is silently accepted; raise "
                  "ValueError", "gqa-mqa-kv-cache: grouped_heads_match_torch_enable_gqa"),
]  # fmt: skip
