"""Exercise padding-causal-mask: one boolean mask for a padded batch in a decoder, causal and padding together."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from answers.exercises._kit import Case, Misconception, randn

ID = "padding-causal-mask"
CARD = "padding-masks-and-batching"
DIFFICULTY = "easy"
TITLE = "Combine a key padding mask with the causal mask"
FUNCTION = "padding_causal_mask"
IMPORTS = "import torch\n"
FORBIDDEN: dict[str, str] = {}

_torch_sdpa = F.scaled_dot_product_attention


def padding_causal_mask(attention_mask):
    """The attention mask of a padded batch in a decoder: bool (batch, 1, n, n), True where query i of
    sequence b may attend key j.

    attention_mask: (batch, n), bool or 0/1 integers, True/1 at real tokens and False/0 at pads (the
    Hugging Face tokenizer's ``attention_mask``). Pads may be on the right or on the left.
    Query i may attend key j when j ≤ i (causal) AND key j is a real token (padding). Only keys are
    masked: a pad query's row is not cleared for being a pad (its output is discarded later), though
    under left padding it may have no key left at all. The size-1 dim is the heads, so the result
    broadcasts against scores (batch, heads, n, n), as F.scaled_dot_product_attention's attn_mask.

    Example: attention_mask = [[1, 1, 0]]  (one sequence of 2 real tokens and a pad)
        result[0, 0] = [[True, False, False],
                        [True, True,  False],
                        [True, True,  False]]   (the pad query sees the real tokens; nobody sees the pad)
    """
    real = attention_mask.bool()  # (batch, n)
    n = real.shape[-1]
    causal = torch.ones(n, n, dtype=torch.bool).tril()  # (n, n)
    return causal[None, None] & real[:, None, None, :]


def _loop(attention_mask: Tensor) -> Tensor:
    """The rule written out, one entry at a time: j ≤ i and token j of sequence b is real."""
    batch, n = attention_mask.shape
    rows = [[[bool(j <= i and attention_mask[b, j]) for j in range(n)] for i in range(n)] for b in range(batch)]
    return torch.tensor(rows, dtype=torch.bool).unsqueeze(1)


def _right_padded(lengths: list[int], n: int) -> Tensor:
    return torch.tensor([[j < length for j in range(n)] for length in lengths])


def _attention_of_real_tokens(q: Tensor, k: Tensor, v: Tensor, real: Tensor, mask: Tensor) -> Tensor:
    """Attention over the padded batch with ``mask``, the real tokens' rows only, stacked: (n_real, heads, d_v)."""
    out = _torch_sdpa(q, k, v, attn_mask=mask)  # (batch, heads, n, d_v)
    return out.transpose(1, 2)[real]


def _unpadded_runs(q: Tensor, k: Tensor, v: Tensor, real: Tensor) -> Tensor:
    """Each sequence run on its own, without its pads, with plain causal attention: what padding must not change."""
    rows = []
    for b in range(q.shape[0]):
        keep = real[b]
        out = _torch_sdpa(q[b : b + 1, :, keep], k[b : b + 1, :, keep], v[b : b + 1, :, keep], is_causal=True)
        rows.append(out[0].transpose(0, 1))  # (length, heads, d_v)
    return torch.cat(rows)


def cases() -> list[Case]:
    names = ("attention_mask",)
    right = _right_padded([5, 3, 1], 5)
    left = torch.tensor([[0, 0, 1, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1]])
    # Left pads are where the padding mask matters: under right padding the causal mask already hides the pads.
    left5 = torch.tensor([[0, 0, 1, 1, 1], [0, 0, 0, 0, 1], [1, 1, 1, 1, 1]])
    q, k, v = randn(3, 2, 5, 4, seed=1), randn(3, 2, 5, 4, seed=2), randn(3, 2, 5, 3, seed=3)
    return [
        Case("the worked example: [[1, 1, 0]]", (torch.tensor([[1, 1, 0]]),), _loop(torch.tensor([[1, 1, 0]])),
             "causal and padding together", arg_names=names),
        Case("right padding, lengths 5, 3, 1 (bool)", (right,), _loop(right), "each sequence has its own pads",
             arg_names=names),
        Case("left padding, n = 7 (0/1 integers)", (left,), _loop(left),
             "left pads hide the first keys; the pad queries' rows are then empty", arg_names=names),
        Case("no padding at all", (torch.ones(2, 4, dtype=torch.long),), _loop(torch.ones(2, 4, dtype=torch.long)),
             "then the mask is the causal mask in every row of the batch", arg_names=names),
        Case("left-padded attention with your mask = each sequence run alone", (left5,),
             _unpadded_runs(q, k, v, left5.bool()),
             "the real tokens' outputs must not change because of the batch's pads", arg_names=names,
             post=lambda mask: _attention_of_real_tokens(q, k, v, left5.bool(), mask),
             post_label="F.scaled_dot_product_attention with your mask, real tokens"),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def _causal(n: int) -> Tensor:
    return torch.ones(n, n, dtype=torch.bool).tril()


def padding_ignored(attention_mask):
    batch, n = attention_mask.shape
    return _causal(n).expand(batch, 1, n, n).clone()


def pads_as_queries(attention_mask):
    real = attention_mask.bool()
    return _causal(real.shape[-1])[None, None] & real[:, None, :, None]


def pad_queries_cleared_too(attention_mask):
    real = attention_mask.bool()
    return _causal(real.shape[-1])[None, None] & real[:, None, None, :] & real[:, None, :, None]


def either_allows(attention_mask):
    real = attention_mask.bool()
    return _causal(real.shape[-1])[None, None] | real[:, None, None, :]


def true_read_as_pad(attention_mask):
    pads = attention_mask.bool()
    return _causal(pads.shape[-1])[None, None] & ~pads[:, None, None, :]


MISCONCEPTIONS = [
    Misconception("padding ignored (causal only)", padding_ignored,
                  "your mask is the causal mask alone. Under right padding that happens to hide the pads from the "
                  "real tokens; under left padding every real token puts weight on the pads before it, so its "
                  "output depends on the batch it is in",
                  "padding-masks-and-batching: “Padding tokens are harmless as long as they are excluded from the "
                  "loss.”"),
    Misconception("pads masked as queries, not keys", pads_as_queries,
                  "you put the padding on the queries' dim: real[:, None, :, None] hides the pad *rows* and "
                  "leaves the pad *keys* visible. The key padding mask indexes the last dim, j",
                  "padding-masks-and-batching: padded_batch_matches_unpadded_sequences"),
    Misconception("pad queries cleared too", pad_queries_cleared_too,
                  "you also clear the pad queries' rows: real tokens are right, but every pad row is now empty, "
                  "a NaN row in a hand-written softmax that a later layer spreads (0 · NaN = NaN). Mask the keys "
                  "only, and drop the pad outputs", "padding-masks-and-batching: masked_nan_still_poisons_real_tokens"),
    Misconception("OR instead of AND", either_allows,
                  "you combine the masks with |: a key is visible when either mask allows it, so real tokens see "
                  "the future. A key must be allowed by both: &",
                  "causal-masking: each_position_attends_to_itself_and_the_past"),
    Misconception("True read as a pad", true_read_as_pad,
                  "you treat True/1 as 'pad' (nn.MultiheadAttention's key_padding_mask convention); the tokenizer's "
                  "attention_mask is 1 at real tokens", "nn-transformer-api-pitfalls (the two mask conventions)"),
]  # fmt: skip
