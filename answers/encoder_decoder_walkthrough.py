"""The encoder-decoder Transformer, step by step, rebuilt by hand and checked against ``nn.Transformer``.

Source tokens → embeddings + positions → N encoder layers (bidirectional self-attention, FFN, each with
Add & Norm) → memory. Target tokens shifted right → embeddings + positions → N decoder layers (masked
self-attention, cross-attention to the FINAL memory, FFN, each with Add & Norm) → linear → softmax.
Trained with label smoothing 0.1, whose loss is minimised at p(correct) = 1 − ε + ε/V, not at 1.
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from answers.evidence import Evidence
from answers.reference import (
    DecoderLayer,
    EncoderLayer,
    causal_mask,
    randn,
    seeded_module,
    sinusoidal_encoding,
)

D, HEADS, D_FF, LAYERS = 16, 2, 32, 2
SRC, TGT, VOCAB = 5, 4, 11


@functools.cache  # one small seeded model per seed, shared by the claims; never modified
def _torch_model(seed: int = 0) -> nn.Transformer:
    return seeded_module(
        lambda: nn.Transformer(D, HEADS, LAYERS, LAYERS, D_FF, dropout=0.0, batch_first=True), seed=1000 * seed + 1
    )


@functools.cache  # the hand-built copies, built once per seed and never modified
def _copied_layers(seed: int) -> tuple[list[EncoderLayer], list[DecoderLayer]]:
    model = _torch_model(seed)
    encoders = [seeded_module(lambda: EncoderLayer(D, HEADS, D_FF)).copy_from(t) for t in model.encoder.layers]
    decoders = [seeded_module(lambda: DecoderLayer(D, HEADS, D_FF)).copy_from(t) for t in model.decoder.layers]
    return encoders, decoders


def _hand_written(src: torch.Tensor, tgt: torch.Tensor, final_memory: bool, seed: int) -> torch.Tensor:
    """Encoder stack → final LayerNorm → memory; every decoder layer reads that one memory."""
    model, (encoders, decoders) = _torch_model(seed), _copied_layers(seed)
    states = [src]
    for layer in encoders:
        states.append(layer(states[-1]))
    memory = model.encoder.norm(states[-1])  # computed once, after the LAST encoder layer
    x = tgt
    for i, layer in enumerate(decoders):
        x = layer(x, memory if final_memory else states[i + 1], mask=causal_mask(TGT))
    return model.decoder.norm(x)


def _distance_from_nn_transformer(final_memory: bool, seed: int) -> float:
    src, tgt = randn(1, SRC, D, seed=1000 * seed + 2), randn(1, TGT, D, seed=1000 * seed + 3)
    mask = nn.Transformer.generate_square_subsequent_mask(TGT, dtype=torch.float64)
    with torch.no_grad():
        mine = _hand_written(src, tgt, final_memory, seed)
        return (mine - _torch_model(seed)(src, tgt, tgt_mask=mask)).abs().max().item()


def every_decoder_layer_reads_the_final_encoder_memory(seed: int = 0) -> Evidence:
    """A hand-built pipeline, with weights copied from ``nn.Transformer``, reproduces it when every decoder
    layer cross-attends to the output of the LAST encoder layer (after the final LayerNorm)."""
    return Evidence(
        measured=_distance_from_nn_transformer(final_memory=True, seed=seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding only
        derivation="torch's own nn.Transformer (2 + 2 layers, post-norm, dropout 0), float64",
        counterfactual="decoder layer ℓ reads encoder layer ℓ's output (layer-by-layer wiring)",
        counterfactual_measured=_distance_from_nn_transformer(final_memory=False, seed=seed),
    )


def _dependency_count(mask: torch.Tensor | None, seed: int) -> int:
    """How many (output i, input j) pairs of the encoder stack are connected: perturb j, see which i move."""
    encoder, x = _torch_model(seed).encoder, randn(1, SRC, D, seed=1000 * seed + 4)
    attn_mask = None if mask is None else ~mask  # torch masks where True
    connected = 0
    with torch.no_grad():
        base = encoder(x, mask=attn_mask)
        for j in range(SRC):
            bumped = x.clone()
            bumped[0, j] += 1.0
            connected += int(((encoder(bumped, mask=attn_mask) - base)[0].abs().amax(-1) > 0).sum())
    return connected


def encoder_is_bidirectional(seed: int = 0) -> Evidence:
    """Every encoder output depends on every source token, the first on the last included: no mask."""
    return Evidence(
        measured=_dependency_count(None, seed),
        expected=SRC * SRC,
        comparison="equal",
        derivation="theory: unmasked softmax weights are all positive, so all n² pairs are connected",
        counterfactual="a causal mask in the encoder",
        counterfactual_measured=_dependency_count(causal_mask(SRC), seed),
        details={"pairs a causal mask keeps, n(n+1)/2": SRC * (SRC + 1) // 2},
    )


class _CrossBeforeSelf(DecoderLayer):
    """The sublayers in the wrong order: cross-attention first, then masked self-attention."""

    def forward(self, x: torch.Tensor, memory: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self.norm1(x + self.cross_attn(x, memory=memory))
        x = self.norm2(x + self.self_attn(x, mask=mask))
        return self.norm3(x + self.ffn(x))


def _decoder_layer_distance(layer_class: type[DecoderLayer], seed: int) -> float:
    theirs = _torch_model(seed).decoder.layers[0]
    mine = seeded_module(lambda: layer_class(D, HEADS, D_FF), seed=seed).copy_from(theirs)
    x, memory = randn(1, TGT, D, seed=1000 * seed + 5), randn(1, SRC, D, seed=1000 * seed + 6)
    mask = nn.Transformer.generate_square_subsequent_mask(TGT, dtype=torch.float64)
    with torch.no_grad():
        return (mine(x, memory, mask=causal_mask(TGT)) - theirs(x, memory, tgt_mask=mask)).abs().max().item()


def decoder_layer_is_self_attention_then_cross_attention_then_ffn(seed: int = 0) -> Evidence:
    """Masked self-attention → Add & Norm → cross-attention → Add & Norm → FFN → Add & Norm is exactly
    torch's decoder layer; swapping the two attentions is a different function."""
    return Evidence(
        measured=_decoder_layer_distance(DecoderLayer, seed),
        expected=0.0,
        comparison="abs",
        tolerance=1e-12,  # float64 rounding only
        derivation="torch's own nn.TransformerDecoderLayer, float64",
        counterfactual="cross-attention placed before the masked self-attention",
        counterfactual_measured=_decoder_layer_distance(_CrossBeforeSelf, seed),
    )


def _seq2seq_logits(src_ids: torch.Tensor, decoder_ids: torch.Tensor, seed: int) -> torch.Tensor:
    """Embed (×√d) + sinusoidal positions → nn.Transformer (causal tgt_mask) → linear head: (1, T, V)."""
    torch_model = _torch_model(seed)
    embed = seeded_module(lambda: nn.Embedding(VOCAB, D), seed=1000 * seed + 7)
    head = seeded_module(lambda: nn.Linear(D, VOCAB), seed=1000 * seed + 8)
    pe = sinusoidal_encoding(32, D)

    def prepare(ids: torch.Tensor) -> torch.Tensor:
        return embed(ids) * D**0.5 + pe[: ids.shape[1]]

    mask = nn.Transformer.generate_square_subsequent_mask(decoder_ids.shape[1], dtype=torch.float64)
    return head(torch_model(prepare(src_ids), prepare(decoder_ids), tgt_mask=mask))


def _label_leak(shift_right: bool, seed: int, bos: int = 0) -> float:
    """Change the target token y_t and measure how much the logits predicting y_t move, worst over t."""
    src = torch.tensor([[3, 1, 4, 1, 5]])
    target = torch.tensor([[2, 7, 1, 8]])  # y_1 … y_T, the tokens to predict

    def logits(y: torch.Tensor) -> torch.Tensor:
        inputs = torch.cat([torch.tensor([[bos]]), y[:, :-1]], 1) if shift_right else y
        return _seq2seq_logits(src, inputs, seed)  # row t predicts y_t

    worst = 0.0
    with torch.no_grad():
        base = logits(target)
        for t in range(TGT):
            changed = target.clone()
            changed[0, t] = (changed[0, t] + 1) % VOCAB
            worst = max(worst, (logits(changed) - base)[0, t].abs().max().item())
    return worst


def shifted_right_targets_never_see_the_token_they_predict(seed: int = 0) -> Evidence:
    """Decoder input = [BOS, y_1 … y_{T−1}]: the logits predicting y_t do not change when y_t changes,
    so one pass trains every position without leaking its answer."""
    return Evidence(
        measured=_label_leak(shift_right=True, seed=seed),
        expected=0.0,
        comparison="abs",
        tolerance=0.0,  # the only path would be through masked (weight exactly 0) positions
        derivation="theory: row t sees decoder inputs 0 … t = BOS, y_1 … y_{t−1}",
        counterfactual="targets fed unshifted (decoder input = y_1 … y_T)",
        counterfactual_measured=_label_leak(shift_right=False, seed=seed),
    )


# ---- Training and decoding details of the 2017 model ---------------------------------------------------------

SMOOTHING = 0.1  # Vaswani et al. §5.4


def _confidence_at_optimum(label_smoothing: float, seed: int) -> float:
    """Fit free logits for one position by minimising torch's cross-entropy with ``label_smoothing``; return the
    probability the fitted softmax gives the correct token."""
    logits = randn(1, VOCAB, seed=1000 * seed + 9).requires_grad_()
    target = torch.tensor([seed % VOCAB])
    optimiser = torch.optim.LBFGS(
        [logits], lr=1.0, max_iter=40, tolerance_grad=1e-12, tolerance_change=0.0, line_search_fn="strong_wolfe"
    )

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = nn.functional.cross_entropy(logits, target, label_smoothing=label_smoothing)
        loss.backward()
        return loss

    optimiser.step(closure)
    return logits.detach().softmax(-1)[0, target].item()


def label_smoothing_caps_the_optimal_confidence(seed: int = 0) -> Evidence:
    """With label smoothing ε = 0.1 (the 2017 model's value), cross-entropy is minimised by predicting the
    correct token with probability 1 − ε + ε/V, not 1: the model is trained to stay unsure."""
    return Evidence(
        measured=_confidence_at_optimum(SMOOTHING, seed),
        expected=1 - SMOOTHING + SMOOTHING / VOCAB,
        comparison="abs",
        tolerance=1e-6,
        derivation="theory: cross-entropy against q is minimised at p = q, and q(correct) = 1 − ε + ε/V (V = 11)",
        counterfactual="no label smoothing (ε = 0): the optimum pushes p(correct) towards 1",
        counterfactual_measured=_confidence_at_optimum(0.0, seed),
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
