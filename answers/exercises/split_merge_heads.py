"""Exercise split-merge-heads: cut the model dimension into heads, the layout multi-head attention computes in."""

from __future__ import annotations

import torch
from torch import Tensor

from answers.exercises._kit import Case, Misconception, randn

ID = "split-merge-heads"
CARD = "multi-head-attention-implementation"
DIFFICULTY = "easy"
TITLE = "Split the model dimension into heads (merging is its inverse)"
FUNCTION = "split_heads"
IMPORTS = "import torch\n"
FORBIDDEN: dict[str, str] = {}


def split_heads(x, n_heads: int):
    """Split (batch, n, d_model) into n_heads heads: (batch, n_heads, n, d_head), d_head = d_model // n_heads.

    Head h is the contiguous block of columns h·d_head … (h+1)·d_head − 1 of every token:
    out[b, h, t, c] = x[b, t, h·d_head + c]. The heads dim comes before the tokens, so that attention's
    matmuls run over (n, d_head) for each (batch, head). d_model is a multiple of n_heads; any dtype,
    kept. Merging the heads back is the inverse, out.transpose(1, 2).reshape(batch, n, d_model), and must
    return x: the checks merge your output that way.

    Example: x = [[[0, 1, 2, 3], [4, 5, 6, 7]]]  (batch 1, n = 2 tokens, d_model = 4), n_heads = 2
        out[0, 0] = [[0, 1], [4, 5]]    (head 0: columns 0, 1 of each token)
        out[0, 1] = [[2, 3], [6, 7]]    (head 1: columns 2, 3)
    """
    batch, n, d_model = x.shape
    return x.reshape(batch, n, n_heads, d_model // n_heads).transpose(1, 2)


def _loop(x: Tensor, n_heads: int) -> Tensor:
    """The rule written out: head h, token t, column c is x[b, t, h·d_head + c]."""
    batch, n, d_model = x.shape
    d_head = d_model // n_heads
    out = torch.empty(batch, n_heads, n, d_head, dtype=x.dtype)
    for b in range(batch):
        for h in range(n_heads):
            for t in range(n):
                for c in range(d_head):
                    out[b, h, t, c] = x[b, t, h * d_head + c]
    return out


def _merged(out: Tensor) -> Tensor:
    batch, n_heads, n, d_head = out.shape
    return out.transpose(1, 2).reshape(batch, n, n_heads * d_head)


def cases() -> list[Case]:
    names = ("x", "n_heads")
    example = torch.arange(8).view(1, 2, 4)
    x = randn(2, 5, 12, seed=1)
    return [
        Case("the worked example (integers)", (example, 2), _loop(example, 2), "contiguous blocks of columns",
             arg_names=names),
        Case("batch 2, n = 5, d_model = 12, 3 heads", (x, 3), _loop(x, 3), "d_head = 4; n ≠ n_heads",
             arg_names=names),
        Case("batch 3, n = 7, d_model = 6, 6 heads of width 1", (randn(3, 7, 6, seed=2), 6),
             _loop(randn(3, 7, 6, seed=2), 6), "as many heads as columns", arg_names=names),
        Case("one head", (randn(2, 3, 5, seed=3), 1), _loop(randn(2, 3, 5, seed=3), 1), "(batch, 1, n, d_model)",
             arg_names=names),
        Case("merging your heads back gives x", (x, 4), x, "split and merge are inverses", arg_names=names,
             post=_merged, post_label="out.transpose(1, 2).reshape(batch, n, d_model)"),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def reshape_without_transpose(x, n_heads: int):
    batch, n, d_model = x.shape
    return x.reshape(batch, n_heads, n, d_model // n_heads)


def strided_heads(x, n_heads: int):
    batch, n, d_model = x.shape
    return x.reshape(batch, n, d_model // n_heads, n_heads).permute(0, 3, 1, 2)


def transpose_forgotten(x, n_heads: int):
    batch, n, d_model = x.shape
    return x.reshape(batch, n, n_heads, d_model // n_heads)


def heads_of_the_batch(x, n_heads: int):
    batch, n, d_model = x.shape
    return x.reshape(batch, n, n_heads, d_model // n_heads).permute(2, 0, 1, 3)


MISCONCEPTIONS = [
    Misconception("reshaped to (batch, heads, n, d_head) directly", reshape_without_transpose,
                  "you reshape straight into the target shape: the memory order is still token-major, so a "
                  "'head' gets the columns of several tokens. Reshape to (batch, n, heads, d_head), then "
                  "transpose(1, 2)", "multi-head-attention-implementation: heads_are_contiguous_blocks_of_d_k_columns"),
    Misconception("heads as strided columns", strided_heads,
                  "you reshape to (batch, n, d_head, heads) and take the last axis as the head: head h gets columns "
                  "h, h + heads, h + 2·heads … instead of a contiguous block, not the layout W_Q's rows were "
                  "trained in", "multi-head-attention-implementation: “Reshape the projected tensor to (n, d_k, h) "
                  "and each slice along the last axis is a head.”"),
    Misconception("the transpose forgotten", transpose_forgotten,
                  "you return (batch, n, heads, d_head): the heads are split, but attention needs them before the "
                  "tokens, (batch, heads, n, d_head), or q @ kᵀ multiplies across heads",
                  "multi-head-attention-implementation: hand_written_heads_reproduce_nn_multihead_attention"),
    Misconception("heads moved in front of the batch", heads_of_the_batch,
                  "you return (heads, batch, n, d_head); the batch stays first: (batch, heads, n, d_head)",
                  "multi-head-attention-implementation: hand_written_heads_reproduce_nn_multihead_attention"),
]  # fmt: skip
