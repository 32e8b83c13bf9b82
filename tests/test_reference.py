"""The reference Transformer against torch's own implementation, block by block (float64)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from answers import reference as ref

TIGHT = 1e-12  # float64: only rounding may differ


def close(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item()


def test_attend_matches_torch_scaled_dot_product_attention():
    q, k, v = (ref.randn(2, 3, 5, 8, seed=s) for s in range(3))
    assert close(ref.attend(q, k, v), F.scaled_dot_product_attention(q, k, v)) < TIGHT


def test_causal_mask_matches_torch_is_causal():
    q, k, v = (ref.randn(1, 2, 7, 4, seed=s) for s in range(3))
    ours = ref.attend(q, k, v, ref.causal_mask(7))
    assert close(ours, F.scaled_dot_product_attention(q, k, v, is_causal=True)) < TIGHT


def test_causal_mask_matches_torch_generate_square_subsequent_mask():
    torch_mask = nn.Transformer.generate_square_subsequent_mask(5)  # 0 allowed, −inf hidden
    assert torch.equal(torch_mask == 0, ref.causal_mask(5))


def test_multi_head_attention_matches_nn_multihead_attention():
    theirs = ref.seeded_module(lambda: nn.MultiheadAttention(16, 4, batch_first=True), seed=1)
    ours = ref.MultiHeadAttention(16, 4).double().copy_from(theirs)
    x = ref.randn(2, 5, 16, seed=2)
    expected, _ = theirs(x, x, x, need_weights=False)
    assert close(ours(x), expected) < TIGHT


def test_cross_attention_matches_nn_multihead_attention_with_separate_memory():
    theirs = ref.seeded_module(lambda: nn.MultiheadAttention(16, 2, batch_first=True), seed=3)
    ours = ref.MultiHeadAttention(16, 2).double().copy_from(theirs)
    x, memory = ref.randn(1, 3, 16, seed=4), ref.randn(1, 7, 16, seed=5)
    expected, _ = theirs(x, memory, memory, need_weights=False)
    assert close(ours(x, memory=memory), expected) < TIGHT


def test_grouped_query_attention_matches_torch_enable_gqa():
    layer = ref.seeded_module(lambda: ref.MultiHeadAttention(32, 8, n_kv_heads=2), seed=6)
    x = ref.randn(1, 6, 32, seed=7)
    q = layer.split_heads(layer.w_q(x), 8)
    k, v = layer.split_heads(layer.w_k(x), 2), layer.split_heads(layer.w_v(x), 2)
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    assert close(layer.heads(x, mask=ref.causal_mask(6)), expected) < TIGHT


def test_post_norm_encoder_layer_matches_nn_transformer_encoder_layer():
    theirs = ref.seeded_module(lambda: nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True), seed=8)
    ours = ref.EncoderLayer(16, 4, 32).double().copy_from(theirs)
    x = ref.randn(2, 5, 16, seed=9)
    assert close(ours(x), theirs(x)) < TIGHT


def test_pre_norm_encoder_layer_matches_norm_first_encoder_layer():
    theirs = ref.seeded_module(
        lambda: nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True, norm_first=True), seed=10
    )
    ours = ref.EncoderLayer(16, 4, 32, norm_first=True).double().copy_from(theirs)
    x = ref.randn(2, 5, 16, seed=11)
    assert close(ours(x), theirs(x)) < TIGHT


def test_decoder_layer_matches_nn_transformer_decoder_layer_with_causal_mask():
    theirs = ref.seeded_module(lambda: nn.TransformerDecoderLayer(16, 4, 32, dropout=0.0, batch_first=True), seed=12)
    ours = ref.DecoderLayer(16, 4, 32).double().copy_from(theirs)
    x, memory = ref.randn(2, 4, 16, seed=13), ref.randn(2, 6, 16, seed=14)
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    expected = theirs(x, memory, tgt_mask=tgt_mask, tgt_is_causal=True)
    assert close(ours(x, memory, mask=ref.causal_mask(4)), expected) < TIGHT


def test_reference_stack_matches_nn_transformer():
    """Encoder stack → final norm → memory fed to every decoder layer → final norm, as nn.Transformer does."""
    theirs = ref.seeded_module(lambda: nn.Transformer(16, 2, 2, 2, 32, dropout=0.0, batch_first=True), seed=15)
    encoders = [ref.EncoderLayer(16, 2, 32).double().copy_from(layer) for layer in theirs.encoder.layers]
    decoders = [ref.DecoderLayer(16, 2, 32).double().copy_from(layer) for layer in theirs.decoder.layers]
    src, tgt = ref.randn(1, 5, 16, seed=16), ref.randn(1, 4, 16, seed=17)
    memory = src
    for layer in encoders:
        memory = layer(memory)
    memory = theirs.encoder.norm(memory)
    out = tgt
    for layer in decoders:
        out = layer(out, memory, mask=ref.causal_mask(4))
    out = theirs.decoder.norm(out)
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    assert close(out, theirs(src, tgt, tgt_mask=tgt_mask)) < TIGHT


def test_kv_cached_decoding_equals_one_causal_pass():
    block = ref.seeded_module(lambda: ref.DecoderBlock(16, 4, 32, n_kv_heads=2, rope_base=10000.0), seed=18)
    x = ref.randn(1, 7, 16, seed=19)
    cache = ref.KVCache()
    stepwise = torch.cat([block(x[:, t : t + 1], cache=cache) for t in range(7)], dim=1)
    assert close(stepwise, block(x)) < TIGHT
    assert cache.length == 7 and cache.nbytes() == 2 * 2 * 4 * 7 * 8  # K and V · kv heads · d_head · n · 8 bytes


def test_sinusoidal_encoding_follows_the_paper_formula():
    pe = ref.sinusoidal_encoding(50, 8)
    pos, i = 7, 1  # dimension 2i = 2 uses frequency 10000^(−2/8)
    assert abs(pe[pos, 2].item() - torch.sin(torch.tensor(pos / 10000 ** (2 / 8), dtype=torch.float64)).item()) < TIGHT
    assert (
        abs(pe[pos, 3].item() - torch.cos(torch.tensor(pos / 10000 ** (2 * i / 8), dtype=torch.float64)).item()) < TIGHT
    )


def test_rope_scores_depend_only_on_the_offset():
    q, k = ref.randn(1, 16, seed=20), ref.randn(1, 16, seed=21)

    def score(m: int, n: int) -> float:
        return (ref.apply_rope(q, torch.tensor([m])) @ ref.apply_rope(k, torch.tensor([n])).T).item()

    assert abs(score(5, 2) - score(105, 102)) < 1e-10
    assert abs(score(5, 2) - score(5, 3)) > 1e-3


def test_alibi_slopes_are_the_geometric_sequence_for_eight_heads():
    assert ref.alibi_slopes(8).tolist() == [2.0**-k for k in range(1, 9)]


def test_swiglu_and_rmsnorm_compute_their_definitions():
    ffn = ref.seeded_module(lambda: ref.FeedForward(8, 16, "swiglu", bias=False), seed=22)
    x = ref.randn(3, 8, seed=23)
    expected = (F.silu(x @ ffn.gate.weight.T) * (x @ ffn.up.weight.T)) @ ffn.down.weight.T
    assert close(ffn(x), expected) < TIGHT
    norm = ref.RMSNorm(8).double()
    assert close(norm(x), x / x.pow(2).mean(-1, keepdim=True).add(1e-6).sqrt()) < TIGHT


def test_online_softmax_attention_matches_torch_scaled_dot_product_attention():
    # ×3 spreads the scores over several units, so the running maximum really moves between blocks.
    q, k, v = (3 * ref.randn(2, 3, 50, 8, seed=s) for s in range(24, 27))
    expected = F.scaled_dot_product_attention(q, k, v)
    assert close(ref.online_softmax_attention(q, k, v, block=16), expected) < TIGHT  # 50 keys: a ragged last block
    assert close(ref.online_softmax_attention(q, k, v, block=16, rescale=False), expected) > 1e-2


def test_linear_attention_matches_a_float64_loop_over_pairs():
    q, k, v = (ref.randn(2, 6, 4, seed=s) for s in range(27, 30))
    phi = lambda x: F.elu(x) + 1  # noqa: E731
    expected = torch.empty_like(v)
    for b in range(2):
        for i in range(6):
            weights = [float(phi(q[b, i]) @ phi(k[b, j])) for j in range(6)]
            expected[b, i] = sum(w * v[b, j] for j, w in enumerate(weights)) / sum(weights)
    assert close(ref.linear_attention(q, k, v), expected) < TIGHT


def test_count_flops_counts_two_flops_per_multiply_add_forward_and_backward():
    a, b = ref.randn(3, 5, seed=30).requires_grad_(), ref.randn(5, 7, seed=31)
    assert ref.count_flops(torch.matmul, a, b) == 2 * 3 * 5 * 7
    # The backward of a @ b needs ∂a = g bᵀ only (b needs no gradient): one more product of the same size.
    assert ref.count_flops(lambda: (a @ b).sum().backward()) == 2 * (2 * 3 * 5 * 7)


def test_largest_intermediate_sees_the_score_matrix_of_naive_attention():
    q = ref.randn(1, 2, 32, 4, seed=32)
    assert ref.largest_intermediate(ref.attend, q, q, q) == 2 * 32 * 32
    assert ref.largest_intermediate(ref.online_softmax_attention, q, q, q, block=8) == 2 * 32 * 8


def test_online_softmax_attention_returns_the_logsumexp_of_the_scores():
    q, k, v = (ref.randn(1, 2, 20, 4, seed=s) for s in range(33, 36))
    _, lse = ref.online_softmax_attention(q, k, v, block=8, return_logsumexp=True)
    assert close(lse, torch.logsumexp(ref.attention_scores(q, k), dim=-1, keepdim=True)) < TIGHT
