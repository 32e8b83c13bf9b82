"""Exercise llama-param-count: a Llama-style decoder's parameter count from its config."""

from __future__ import annotations

from contextlib import nullcontext
from unittest import mock

import torch
from torch import nn

from answers.exercises._kit import Case, Misconception
from answers.llama_parameter_count import LlamaDecoder
from answers.reference import count_parameters

ID = "llama-param-count"
CARD = "llama-parameter-count"
DIFFICULTY = "medium"
TITLE = "Count a Llama model's parameters from its config"
FUNCTION = "llama_param_count"
IMPORTS = ""
FORBIDDEN: dict[str, str] = {}


def llama_param_count(config: dict) -> int:
    """The number of parameters of a Llama-style decoder, from a Hugging Face LlamaConfig-style dict.

    config keys: vocab_size, hidden_size (d), intermediate_size (d_ff), num_hidden_layers, num_attention_heads,
    and optionally num_key_value_heads (absent: = num_attention_heads) and tie_word_embeddings (absent: False).
    The model: a token embedding (vocab × d); per layer an RMSNorm (a weight of d) before grouped-query
    attention with W_q and W_o of d × d and W_k, W_v of d × (num_key_value_heads · head_dim),
    head_dim = d / num_attention_heads, then an RMSNorm before a SwiGLU FFN (gate, up: d × d_ff, down: d_ff × d);
    a final RMSNorm; an output head (d × vocab) unless tied to the embedding, when it is the same matrix and
    counts once. No biases anywhere; RoPE has no parameters. Returns an int.

    Example: {"vocab_size": 10, "hidden_size": 4, "intermediate_size": 6, "num_hidden_layers": 1,
              "num_attention_heads": 2, "num_key_value_heads": 1}: head_dim 2, attention 16 + 8 + 8 + 16 = 48,
        FFN 3 · 4 · 6 = 72, norms 4 + 4 + 4 = 12, embedding 40, head 40: 212 (172 if tie_word_embeddings)
    """
    d = config["hidden_size"]
    heads = config["num_attention_heads"]
    kv_width = config.get("num_key_value_heads", heads) * (d // heads)
    attention = 2 * d * d + 2 * d * kv_width
    ffn = 3 * d * config["intermediate_size"]
    per_layer = attention + ffn + 2 * d
    embeddings = config["vocab_size"] * d * (1 if config.get("tie_word_embeddings", False) else 2)
    return config["num_hidden_layers"] * per_layer + d + embeddings


# ------------------------------------------------------------------------------------------ the checks


def _instantiated(config: dict, device: str = "cpu") -> int:
    """Build the decoder from the bank's Llama blocks and count its parameters (a tied head is the embedding's
    own Parameter, which Module.parameters() yields once)."""
    heads = config["num_attention_heads"]
    # On meta an initialisation writes nothing, and nn.Embedding's normal_ takes over a second to warm up there.
    skip = lambda self: None  # noqa: E731
    no_init = mock.patch.object(nn.Embedding, "reset_parameters", skip) if device == "meta" else nullcontext()
    with torch.device(device), no_init:
        model = LlamaDecoder(config["num_hidden_layers"], config["hidden_size"], heads,
                             config.get("num_key_value_heads", heads), config["intermediate_size"],
                             config["vocab_size"])  # fmt: skip
    if config.get("tie_word_embeddings", False):
        model.head.weight = model.embed.weight
    return count_parameters(model)


EXAMPLE = {"vocab_size": 10, "hidden_size": 4, "intermediate_size": 6, "num_hidden_layers": 1,
           "num_attention_heads": 2, "num_key_value_heads": 1}  # fmt: skip
GQA = {"vocab_size": 101, "hidden_size": 48, "intermediate_size": 136, "num_hidden_layers": 3,
       "num_attention_heads": 6, "num_key_value_heads": 2}  # fmt: skip
MHA = {"vocab_size": 37, "hidden_size": 20, "intermediate_size": 52, "num_hidden_layers": 2,
       "num_attention_heads": 5}  # fmt: skip
MQA_TIED = {"vocab_size": 53, "hidden_size": 24, "intermediate_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 1, "tie_word_embeddings": True}  # fmt: skip
# Llama-2-7B's config.json (meta-llama/Llama-2-7b-hf); its checkpoint holds 6,738,415,616 parameters.
LLAMA_2_7B = {"vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
              "num_attention_heads": 32, "num_key_value_heads": 32, "tie_word_embeddings": False}  # fmt: skip
# Llama-3.2-1B's config.json (meta-llama/Llama-3.2-1B): GQA and a tied head, "1.24B" on its model card.
LLAMA_32_1B = {"vocab_size": 128256, "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16,
               "num_attention_heads": 32, "num_key_value_heads": 8, "tie_word_embeddings": True}  # fmt: skip


def cases() -> list[Case]:
    names = ("config",)
    return [
        Case("the worked example", (EXAMPLE,), _instantiated(EXAMPLE), "an instantiated model", arg_names=names),
        Case("GQA, 6 heads sharing 2 KV heads, 3 layers", (GQA,), _instantiated(GQA),
             "W_k and W_v are narrower than W_q", arg_names=names),
        Case("MHA, no num_key_value_heads key", (MHA,), _instantiated(MHA),
             "an absent num_key_value_heads means one KV head per query head", arg_names=names),
        Case("MQA with a tied head", (MQA_TIED,), _instantiated(MQA_TIED),
             "a tied head is the embedding matrix, counted once", arg_names=names),
        Case("Llama-2-7B: 6,738,415,616", (LLAMA_2_7B,), 6_738_415_616,
             "the published checkpoint's exact count", arg_names=names),
        Case("Llama-3.2-1B (GQA, tied)", (LLAMA_32_1B,), _instantiated(LLAMA_32_1B, "meta"),
             "counted on the model built on the meta device (the model card says 1.24B)", arg_names=names),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def _count(config: dict, *, kv_heads: int | None = None, ffn_matrices: int = 3, norms: bool = True,
           heads_counted: int | None = None) -> int:  # fmt: skip
    d = config["hidden_size"]
    heads = config["num_attention_heads"]
    kv = config.get("num_key_value_heads", heads) if kv_heads is None else kv_heads
    per_layer = 2 * d * d + 2 * d * kv * (d // heads) + ffn_matrices * d * config["intermediate_size"]
    per_layer += 2 * d if norms else 0
    tied = config.get("tie_word_embeddings", False)
    matrices = (1 if tied else 2) if heads_counted is None else heads_counted
    return config["num_hidden_layers"] * per_layer + (d if norms else 0) + matrices * config["vocab_size"] * d


def tied_head_counted_twice(config: dict) -> int:
    return _count(config, heads_counted=2)


def head_always_tied(config: dict) -> int:
    return _count(config, heads_counted=1)


def kv_at_full_width(config: dict) -> int:
    return _count(config, kv_heads=config["num_attention_heads"])


def two_matrix_ffn(config: dict) -> int:
    return _count(config, ffn_matrices=2)


def norms_forgotten(config: dict) -> int:
    return _count(config, norms=False)


MISCONCEPTIONS = [
    Misconception("a tied head counted twice", tied_head_counted_twice,
                  "with tie_word_embeddings the output head is the embedding matrix itself: it adds no parameters",
                  "weight-tying (a tied head shares the embedding's parameters)"),
    Misconception("the head counted as tied", head_always_tied,
                  "you count the vocab × d matrix once, but Llama-2-7B and Llama-3-8B have a separate output head: "
                  "without tie_word_embeddings it is a second vocab × d matrix",
                  "llama-parameter-count: embeddings_are_a_large_share_at_a_large_vocabulary"),
    Misconception("K and V at full width", kv_at_full_width,
                  "you give W_k and W_v d × d weights, as in multi-head attention; with grouped-query attention they "
                  "are d × (num_key_value_heads · head_dim)",
                  "llama-parameter-count: formula_counts_an_instantiated_llama_decoder"),
    Misconception("a two-matrix FFN", two_matrix_ffn,
                  "you count the FFN as d × d_ff in and d_ff × d out; SwiGLU has a third matrix, the gate",
                  "swiglu-ffn: “SwiGLU just swaps ReLU for the Swish/SiLU activation.”"),
    Misconception("the RMSNorm weights forgotten", norms_forgotten,
                  "you skip the norms' gains: 2·d per layer plus d for the final norm. Small, but the count is exact",
                  "llama-parameter-count: formula_matches_the_published_totals"),
]  # fmt: skip
