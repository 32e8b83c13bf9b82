"""Cross-attention: queries from the decoder, keys and values from the encoder's output.

Self-attention reads Q, K and V from one sequence. In cross-attention each target (decoder) position
asks a question of the source: its query meets the keys of the encoder memory, so the weight matrix is
target × source and the output keeps the decoder's length, whatever the source length. The memory is
fixed while decoding, so its keys and values are projected once and cached; padded source positions are
hidden with a memory key-padding mask.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from answers.evidence import Evidence
from answers.reference import DecoderLayer, MultiHeadAttention, attend, attention_weights, randn, seeded_module

D, HEADS, D_FF = 16, 2, 32
TGT, SRC = 3, 7  # decoder tokens, encoder (memory) tokens


def _layer(seed: int = 0) -> MultiHeadAttention:
    return seeded_module(lambda: MultiHeadAttention(D, HEADS), seed=1000 * seed + 1)


def _cross_weights(tgt: torch.Tensor, memory: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """Per-head cross-attention weights (B, h, n_tgt, n_src): queries from ``tgt``, keys from ``memory``."""
    layer = _layer(seed)
    q = layer.split_heads(layer.w_q(tgt), HEADS)
    k = layer.split_heads(layer.w_k(memory), HEADS)
    return attention_weights(q, k)


def _decoder_and_memory(src_len: int = SRC, seed: int = 0, tgt_len: int = TGT) -> tuple[torch.Tensor, torch.Tensor]:
    return randn(1, tgt_len, D, seed=1000 * seed + 2), randn(1, src_len, D, seed=1000 * seed + 3)


def cross_attention_weights_are_target_by_source(seed: int = 0) -> Evidence:
    """The weight matrix has one row per decoder token and one column per encoder token; each row is a
    probability distribution over the source."""
    tgt, memory = _decoder_and_memory(seed=seed)
    with torch.no_grad():
        weights = _cross_weights(tgt, memory, seed)  # (1, h, 3, 7)
        swapped = _cross_weights(memory, tgt, seed)  # queries from the encoder: (1, h, 7, 3)
    return Evidence(
        measured=tuple(weights.shape[-2:]),
        expected=(TGT, SRC),
        comparison="equal",
        derivation="definition: Q (n_tgt × d) times Kᵀ (d × n_src)",
        counterfactual="queries taken from the encoder, keys from the decoder",
        counterfactual_measured=tuple(swapped.shape[-2:]),
        details={"largest |row sum − 1|": (weights.sum(-1) - 1).abs().max().item()},
    )


@torch.no_grad()
def _output_lengths(queries_from_decoder: bool, seed: int) -> tuple[int, ...]:
    layer, lengths = _layer(seed), []
    for src_len in (2, 7, 11):
        tgt, memory = _decoder_and_memory(src_len, seed)
        out = layer(tgt, memory=memory) if queries_from_decoder else layer(memory, memory=tgt)
        lengths.append(out.shape[1])
    return tuple(lengths)


def output_has_the_decoder_length_whatever_the_source_length(seed: int = 0) -> Evidence:
    """For sources of 2, 7 and 11 tokens, the cross-attention output always has the decoder's 3 rows."""
    return Evidence(
        measured=_output_lengths(queries_from_decoder=True, seed=seed),
        expected=(TGT, TGT, TGT),
        comparison="equal",
        derivation="theory: one output row per query, and the queries are the decoder's",
        counterfactual="queries from the encoder (roles swapped)",
        counterfactual_measured=_output_lengths(queries_from_decoder=False, seed=seed),
    )


def _torch_decoder_layer(seed: int = 0) -> nn.TransformerDecoderLayer:
    return seeded_module(
        lambda: nn.TransformerDecoderLayer(D, HEADS, D_FF, dropout=0.0, batch_first=True), seed=1000 * seed + 4
    )


def _causal_tgt_mask(n: int) -> torch.Tensor:
    return nn.Transformer.generate_square_subsequent_mask(n, dtype=torch.float64)  # −∞ above the diagonal


@torch.no_grad()
def _decoder_positions_moved_by_memory(layer: nn.TransformerDecoderLayer, seed: int) -> int:
    """Change encoder token 4 and count the decoder positions whose output changes at all."""
    tgt, memory = _decoder_and_memory(seed=seed)
    bumped = memory.clone()
    bumped[0, 4] += randn(D, seed=1000 * seed + 5)
    mask = _causal_tgt_mask(TGT)
    change = layer(tgt, bumped, tgt_mask=mask) - layer(tgt, memory, tgt_mask=mask)  # (1, 3, d)
    return int((change.abs().amax(-1) > 0).sum())


def every_decoder_output_depends_on_the_memory(seed: int = 0) -> Evidence:
    """In torch's ``nn.TransformerDecoderLayer``, changing one encoder token changes the output at every
    decoder position: each query gives every source key a positive weight."""
    layer = _torch_decoder_layer(seed)
    no_cross = copy.deepcopy(layer)
    with torch.no_grad():  # remove the cross-attention sublayer: its output is exactly zero
        no_cross.multihead_attn.out_proj.weight.zero_()
        no_cross.multihead_attn.out_proj.bias.zero_()
    return Evidence(
        measured=_decoder_positions_moved_by_memory(layer, seed),
        expected=TGT,
        comparison="equal",
        derivation="theory: softmax weights are strictly positive, so every target row mixes every source value",
        counterfactual="cross-attention sublayer removed (output projection zeroed)",
        counterfactual_measured=_decoder_positions_moved_by_memory(no_cross, seed),
    )


class _SelfInsteadOfCross(DecoderLayer):
    """The classic confusion: the second attention reads the decoder's own states, not the memory."""

    def forward(self, x: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self.norm1(x + self.self_attn(x, mask=mask))
        x = self.norm2(x + self.cross_attn(x, mask=mask))
        return self.norm3(x + self.ffn(x))


@torch.no_grad()
def _distance_from_torch(layer_class: type[DecoderLayer], seed: int) -> float:
    theirs = _torch_decoder_layer(seed)
    mine = seeded_module(lambda: layer_class(D, HEADS, D_FF), seed=seed).copy_from(theirs)
    tgt, memory = _decoder_and_memory(seed=seed)
    causal = torch.tril(torch.ones(TGT, TGT, dtype=torch.bool))  # True = may attend
    expected = theirs(tgt, memory, tgt_mask=_causal_tgt_mask(TGT))
    return (mine(tgt, memory, mask=causal) - expected).abs().max().item()


def reference_decoder_layer_matches_torch(seed: int = 0) -> Evidence:
    """The reference decoder layer (masked self-attention, cross-attention to the memory, FFN, each with
    Add & Norm), with weights copied from ``nn.TransformerDecoderLayer``, reproduces torch's output."""
    return Evidence(
        measured=_distance_from_torch(DecoderLayer, seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64: only rounding differences between two orderings of the same sums
        derivation="torch's own nn.TransformerDecoderLayer (post-norm, dropout 0), float64",
        counterfactual="second attention reads the decoder states (self-attention) instead of the memory",
        counterfactual_measured=_distance_from_torch(_SelfInsteadOfCross, seed),
    )


# ---- Decoding: the memory's keys and values are computed once -----------------------------------------------

STEPS = 5  # decode steps, one new target token each


@torch.no_grad()
def _decode_cross_attention(cache_memory_kv: bool, seed: int) -> tuple[int, torch.Tensor, torch.Tensor]:
    """Run cross-attention for STEPS decode steps, one query per step. Returns (memory rows projected by W_K,
    the STEPS outputs, torch's nn.MultiheadAttention on all STEPS queries at once with the same weights)."""
    layer = _layer(seed)
    rows = []
    hook = layer.w_k.register_forward_hook(lambda _m, args, _out: rows.append(args[0].shape[0] * args[0].shape[1]))
    queries, memory = _decoder_and_memory(seed=seed, tgt_len=STEPS)
    if cache_memory_kv:  # the memory is fixed for the whole decode: project it once
        k = layer.split_heads(layer.w_k(memory), HEADS)
        v = layer.split_heads(layer.w_v(memory), HEADS)
    outputs = []
    for t in range(STEPS):
        x = queries[:, t : t + 1]
        if cache_memory_kv:
            heads = attend(layer.split_heads(layer.w_q(x), HEADS), k, v)  # (1, h, 1, d_head)
            outputs.append(layer.w_o(heads.transpose(1, 2).reshape(1, 1, D)))
        else:  # what calling the decoder again every step does: re-project the memory each time
            outputs.append(layer(x, memory=memory))
    hook.remove()
    torch_mha = nn.MultiheadAttention(D, HEADS, batch_first=True, dtype=torch.float64)
    torch_mha.in_proj_weight.copy_(torch.cat([layer.w_q.weight, layer.w_k.weight, layer.w_v.weight]))
    torch_mha.in_proj_bias.copy_(torch.cat([layer.w_q.bias, layer.w_k.bias, layer.w_v.bias]))
    torch_mha.out_proj.weight.copy_(layer.w_o.weight)
    torch_mha.out_proj.bias.copy_(layer.w_o.bias)
    reference, _ = torch_mha(queries, memory, memory, need_weights=False)
    return sum(rows), torch.cat(outputs, dim=1), reference


def _cache_summary(cache_memory_kv: bool, seed: int) -> tuple[int, bool]:
    rows, outputs, reference = _decode_cross_attention(cache_memory_kv, seed)
    return rows, bool((outputs - reference).abs().max().item() <= 1e-12)


def memory_keys_and_values_are_computed_once_per_source(seed: int = 0) -> Evidence:
    """Over 5 decode steps, caching the memory's K and V projects the 7 source rows through W_K once (7 rows),
    and every step's output still equals torch's nn.MultiheadAttention to float64 rounding. Re-running the
    cross-attention each step projects them every time (35 rows) for the same outputs."""
    return Evidence(
        measured=_cache_summary(cache_memory_kv=True, seed=seed),
        expected=(SRC, True),
        comparison="equal",
        derivation="theory: K = M W_K and V = M W_V depend only on the fixed memory M; outputs from torch's "
        "nn.MultiheadAttention with the same weights (float64, |Δ| ≤ 1e-12)",
        counterfactual="cross-attention re-run on the memory at every decode step (no cross K/V cache)",
        counterfactual_measured=_cache_summary(cache_memory_kv=False, seed=seed),
        details={"decode steps": STEPS, "source tokens": SRC},
    )


# ---- Padded sources ------------------------------------------------------------------------------------------

REAL_SRC, PADDED_SRC = 4, 7


@torch.no_grad()
def _padding_leak(use_padding_mask: bool, seed: int) -> float:
    """How far a decoder layer's output moves when a 4-token source is padded to 7 (pads = arbitrary vectors,
    as the encoder's output at pad positions is)."""
    layer = _torch_decoder_layer(seed)
    tgt, memory = _decoder_and_memory(src_len=PADDED_SRC, seed=seed)
    padding = torch.arange(PADDED_SRC) >= REAL_SRC  # True = pad, torch's convention
    mask = _causal_tgt_mask(TGT)
    alone = layer(tgt, memory[:, :REAL_SRC], tgt_mask=mask)
    padded = layer(tgt, memory, tgt_mask=mask, memory_key_padding_mask=padding[None] if use_padding_mask else None)
    return (padded - alone).abs().max().item()


def memory_padding_mask_makes_a_padded_source_match_the_unpadded_one(seed: int = 0) -> Evidence:
    """With ``memory_key_padding_mask`` marking the pads, a decoder layer reading a source padded from 4 to 7
    tokens gives the same output as reading the 4 real tokens alone; without it, the pads get attention weight."""
    return Evidence(
        measured=_padding_leak(use_padding_mask=True, seed=seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding only
        derivation="torch's own nn.TransformerDecoderLayer on the unpadded source (float64)",
        counterfactual="no memory_key_padding_mask (only tgt_mask, a common omission)",
        counterfactual_measured=_padding_leak(use_padding_mask=False, seed=seed),
    )


def figure_cross_attention_weights():
    """Cross-attention weights of one head: 3 decoder positions (rows) over 7 encoder positions (columns).
    Every row is a distribution over the whole source — no causal mask applies to the memory."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with torch.no_grad():
        weights = _cross_weights(*_decoder_and_memory())[0, 0]  # (3, 7)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    image = ax.imshow(weights.numpy(), cmap="viridis", vmin=0)
    ax.set_xlabel("encoder (source) position — keys and values")
    ax.set_ylabel("decoder (target) position — queries")
    ax.set_xticks(range(SRC))
    ax.set_yticks(range(TGT))
    ax.set_title("Cross-attention weights: target × source")
    fig.colorbar(image, ax=ax, label="weight")
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
