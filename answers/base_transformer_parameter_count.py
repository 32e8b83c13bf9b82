"""Where the ~65M parameters of the 2017 Transformer-base come from.

Transformer-base is d_model = 512, 8 heads, d_ff = 2048, 6 encoder and 6 decoder layers. The layer
stacks hold about 44M parameters; the rest is one 37,000 × 512 embedding matrix that the paper shares
between the source embedding, the target embedding and the pre-softmax projection. Counting torch's own
``nn.Transformer`` (built on the meta device, so no memory is allocated) checks the closed form.
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from answers.evidence import Evidence
from answers.formulas.parameters import attention_parameters, feed_forward_parameters, transformer_parameters
from answers.reference import count_parameters

VOCAB = 37000  # the paper's shared source–target BPE vocabulary for English–German


def _encoder_layer(d: int, d_ff: int) -> int:
    """Self-attention + FFN + two LayerNorms (a gain and a bias each)."""
    return attention_parameters(d) + feed_forward_parameters(d, d_ff) + 2 * 2 * d


def _decoder_layer(d: int, d_ff: int) -> int:
    """An encoder layer plus cross-attention and a third LayerNorm."""
    return _encoder_layer(d, d_ff) + attention_parameters(d) + 2 * d


def _embedding(d_model: int) -> nn.Embedding:
    # Passing the (meta) weight skips nn.Embedding's normal_ init, which on meta costs a 1 s import.
    return nn.Embedding(VOCAB, d_model, _weight=torch.empty(VOCAB, d_model, device="meta"))


class _Seq2Seq(nn.Module):
    """nn.Transformer plus its token embeddings and output layer; ``tied`` shares one matrix for all three."""

    def __init__(self, core: nn.Transformer, *, tied: bool) -> None:
        super().__init__()
        d_model = core.d_model
        self.core = core
        self.src_embed, self.tgt_embed = _embedding(d_model), _embedding(d_model)
        self.to_logits = nn.Linear(d_model, VOCAB, bias=False, device="meta")
        if tied:  # one Parameter object in three places; .parameters() yields it once
            self.tgt_embed.weight = self.src_embed.weight
            self.to_logits.weight = self.src_embed.weight


@functools.cache
def _core(d_model: int = 512, heads: int = 8, layers: int = 6, d_ff: int = 2048) -> nn.Transformer:
    """torch's own encoder–decoder on the meta device: shapes only, no memory (built once, then reused)."""
    return nn.Transformer(d_model, heads, layers, layers, d_ff, batch_first=True, device="meta")


def nn_transformer_stacks_match_the_closed_form() -> Evidence:
    """nn.Transformer(512, 8, 6, 6, 2048) has exactly the parameters the per-layer formula predicts."""
    core = _core()
    d, d_ff = 512, 2048
    # Natural mistake: treat a decoder layer like an encoder layer and forget its cross-attention.
    no_cross = 12 * _encoder_layer(d, d_ff) + 2 * 2 * d
    return Evidence(
        measured=count_parameters(core),
        expected=transformer_parameters(d, 6, 6, d_ff, embedding_matrices=0),
        comparison="equal",
        derivation="closed form: 6 × (4d²+4d + 2·d·d_ff+d_ff+d + 4d) + 6 × (2(4d²+4d) + … + 6d) + 2 final LNs",
        counterfactual="formula that gives decoder layers no cross-attention",
        counterfactual_measured=no_cross,
        unit="parameters",
        details={
            "encoder layer": count_parameters(core.encoder.layers[0]),
            "encoder layer, formula": _encoder_layer(d, d_ff),
            "decoder layer": count_parameters(core.decoder.layers[0]),
            "decoder layer, formula": _decoder_layer(d, d_ff),
        },
    )


def one_tied_embedding_brings_base_to_about_65m() -> Evidence:
    """Stacks + one shared 37,000 × 512 embedding ≈ 63.1M, within 5 % of the paper's 65M; three
    untied matrices would give about 101M."""
    tied = count_parameters(_Seq2Seq(_core(), tied=True))
    untied = count_parameters(_Seq2Seq(_core(), tied=False))
    return Evidence(
        measured=tied,
        expected=65e6,
        comparison="rel",
        tolerance=0.05,  # the paper reports one rounded number and a vocabulary of "about 37000" tokens
        derivation="published: Vaswani et al. (2017), Table 3, base model 65M",
        counterfactual="three untied embedding matrices (source, target, output)",
        counterfactual_measured=untied,
        unit="parameters",
        details={
            "tied, formula": transformer_parameters(embedding_matrices=1),
            "shared embedding 37,000 × 512": VOCAB * 512,
            "no embeddings (nn.Transformer alone)": count_parameters(_core()),
        },
    )


CONFIGS = ((512, 8, 6, 2048), (1024, 16, 6, 4096))  # Vaswani et al. (2017), Table 3: base and big


def the_formula_counts_tied_and_untied_models_exactly() -> Evidence:
    """transformer_parameters(embedding_matrices = 1 or 3) equals the parameter count of nn.Transformer plus
    instantiated embeddings, tied (one shared matrix) and untied (three), for the base and big models."""

    def formula(matrices_when_tied: int, matrices_when_untied: int) -> tuple[int, ...]:
        return tuple(
            transformer_parameters(d, layers, layers, d_ff, VOCAB, embedding_matrices=m)
            for d, _, layers, d_ff in CONFIGS
            for m in (matrices_when_tied, matrices_when_untied)
        )

    return Evidence(
        measured=formula(1, 3),
        expected=tuple(
            count_parameters(_Seq2Seq(_core(d, heads, layers, d_ff), tied=tied))
            for d, heads, layers, d_ff in CONFIGS
            for tied in (True, False)
        ),
        comparison="equal",
        unit="parameters",
        derivation="count_parameters on nn.Transformer with instantiated embeddings and output layer (meta device)",
        counterfactual="the tie reversed: three matrices counted for the tied model, one for the untied",
        counterfactual_measured=formula(3, 1),
    )


def transformer_big_recount_matches_213m() -> Evidence:
    """Transformer-big (d 1024, 16 heads, d_ff 4096) recounted with a tied embedding is within 1 % of 213M."""
    with_embedding = count_parameters(_Seq2Seq(_core(1024, 16, 6, 4096), tied=True))
    return Evidence(
        measured=with_embedding,
        expected=213e6,
        comparison="rel",
        tolerance=0.01,  # rounding of the published figure; the vocabulary size is approximate
        derivation="published: Vaswani et al. (2017), Table 3, big model 213M",
        counterfactual="forget the embedding matrix (count nn.Transformer only)",
        counterfactual_measured=count_parameters(_core(1024, 16, 6, 4096)),
        unit="parameters",
        details={"formula": transformer_parameters(1024, 6, 6, 4096, VOCAB, 1)},
    )


def splitting_into_heads_adds_no_parameters() -> Evidence:
    """8 heads of d_k = 64 cost the same parameters as one head of 512: heads split d_model, they don't copy it."""
    eight = nn.MultiheadAttention(512, 8, device="meta")
    one = nn.MultiheadAttention(512, 1, device="meta")
    # Natural mistake: picture each head as a full-width attention of its own.
    copies = 8 * count_parameters(one)
    return Evidence(
        measured=count_parameters(eight),
        expected=count_parameters(one),
        comparison="equal",
        derivation="torch's nn.MultiheadAttention with one head",
        counterfactual="eight full-width heads (8 × a 512-wide attention)",
        counterfactual_measured=copies,
        unit="parameters",
        details={"head_dim with 8 heads": eight.head_dim, "default nn.Transformer d_model": _core().d_model},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
