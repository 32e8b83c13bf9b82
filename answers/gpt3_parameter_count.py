"""Checking GPT-3's 175B parameters from its published configuration.

GPT-3 175B has 96 layers of width d = 12,288 (96 heads of 128), a 50,257-token vocabulary and 2,048
learned positions. Each layer holds 4d² attention weights and 8d² FFN weights (d_ff = 4d): 12d². The
same closed form, with its biases, LayerNorms and embeddings, is checked exactly against a small GPT
built from the reference decoder block, then evaluated at GPT-3's configuration.
"""

from __future__ import annotations

from torch import nn

from answers.evidence import Evidence
from answers.formulas.parameters import gpt_non_embedding_parameters, gpt_parameters
from answers.reference import DecoderBlock, count_parameters, seeded_module

# Brown et al. (2020): Table 2.1 (layers, width), section 2.1 (2,048-token context); GPT-2's 50,257-token BPE.
GPT3 = {"layers": 96, "d_model": 12288, "vocab": 50257, "context": 2048}
GPT2_SMALL = {"layers": 12, "d_model": 768, "vocab": 50257, "context": 1024}


class _TinyGPT(nn.Module):
    """Token + learned position embeddings, pre-norm decoder blocks, final LayerNorm, output layer."""

    def __init__(self, layers: int, d_model: int, heads: int, vocab: int, context: int, *, tied: bool = True):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(context, d_model)
        self.blocks = nn.ModuleList(DecoderBlock(d_model, heads, 4 * d_model) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab, bias=False)
        if tied:  # GPT-2/3 reuse the token embedding as the output matrix
            self.head.weight = self.tok.weight


def _tiny(tied: bool = True) -> _TinyGPT:
    return seeded_module(lambda: _TinyGPT(3, 64, 4, 100, 32, tied=tied))


def formula_matches_an_instantiated_small_gpt() -> Evidence:
    """L(12d² + 13d) + (V + context)·d + 2d equals the parameter count of a real 3-layer GPT (d = 64)."""
    return Evidence(
        measured=count_parameters(_tiny()),
        expected=gpt_parameters(layers=3, d_model=64, vocab=100, context=32),
        comparison="equal",
        derivation="closed form: per layer 4d²+4d (attention) + 8d²+5d (FFN) + 4d (2 LN); V·d + ctx·d + 2d",
        counterfactual="output layer not tied to the token embedding",
        counterfactual_measured=count_parameters(_tiny(tied=False)),
        unit="parameters",
        details={"one block": count_parameters(_tiny().blocks[0]), "12d² + 13d": 12 * 64**2 + 13 * 64},
    )


def gpt3_configuration_gives_175b() -> Evidence:
    """The closed form at d = 12,288, L = 96, V = 50,257, 2,048 positions is within 1 % of 175B."""
    return Evidence(
        measured=gpt_parameters(**GPT3),
        expected=175e9,
        comparison="rel",
        tolerance=0.01,  # the published figure is rounded to three significant digits
        derivation="published: Brown et al. (2020), Table 2.1, GPT-3 175B",
        counterfactual="forget the FFN (d_ff = 0: only the 4d² attention weights per layer)",
        counterfactual_measured=gpt_parameters(**GPT3, d_ff=0),
        unit="parameters",
        details={
            "12·L·d²": gpt_non_embedding_parameters(96, 12288),
            "token embeddings V·d": 50257 * 12288,
            "positions ctx·d": 2048 * 12288,
            "head size d/h": 12288 // 96,
        },
    )


def _block_weights(model: _TinyGPT, matrices_only: bool) -> int:
    """Parameters of the model's decoder blocks: the weight matrices alone (2-D tensors), or everything."""
    return sum(p.numel() for p in model.blocks.parameters() if p.ndim == 2 or not matrices_only)


SMALL_GPTS = ((3, 64, 4), (2, 48, 6), (5, 32, 2))  # (layers, d_model, heads), d_ff = 4d


def twelve_l_d_squared_counts_the_block_weight_matrices() -> Evidence:
    """12·L·d² (Kaplan's non-embedding N) is exactly the weight matrices of instantiated small GPTs' blocks
    — W_Q, W_K, W_V, W_O (4d²) and the 4d FFN's two matrices (8d²) per layer — for three sizes; with the
    biases and LayerNorms the blocks hold L(12d² + 13d)."""
    models = [seeded_module(lambda c=c: _TinyGPT(*c, vocab=100, context=32)) for c in SMALL_GPTS]
    return Evidence(
        measured=tuple(gpt_non_embedding_parameters(layers, d) for layers, d, _ in SMALL_GPTS),
        expected=tuple(_block_weights(m, matrices_only=True) for m in models),
        comparison="equal",
        derivation="the 2-D parameters of the instantiated DecoderBlocks, counted",
        counterfactual="every parameter of the blocks, biases and LayerNorm gains included",
        counterfactual_measured=tuple(_block_weights(m, matrices_only=False) for m in models),
        unit="parameters",
    )


def twelve_l_d_squared_is_almost_all_of_gpt3() -> Evidence:
    """At GPT-3 scale the layer matrices 12·L·d² are over 99 % of the parameters; at GPT-2-small scale
    the embeddings are a large share, so the shortcut only works for big models."""

    def share(config: dict[str, int]) -> float:
        return gpt_non_embedding_parameters(config["layers"], config["d_model"]) / gpt_parameters(**config)

    return Evidence(
        measured=share(GPT3),
        expected=0.99,
        comparison="at_least",
        derivation="theory: V·d grows like d, 12·L·d² like L·d², so embeddings fade as models widen and deepen",
        counterfactual="the same shortcut on GPT-2 small (L = 12, d = 768)",
        counterfactual_measured=share(GPT2_SMALL),
        unit="ratio",
        details={"GPT-2 small, full count": gpt_parameters(**GPT2_SMALL)},
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
