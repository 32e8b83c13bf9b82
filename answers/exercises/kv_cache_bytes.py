"""Exercise kv-cache-bytes: how much memory a decoder's KV cache takes, from the model's config."""

from __future__ import annotations

import torch

from answers.exercises._kit import Case, Misconception
from answers.reference import KVCache, MultiHeadAttention

ID = "kv-cache-bytes"
CARD = "gqa-mqa-kv-cache"
DIFFICULTY = "easy"
TITLE = "KV-cache bytes from a model config"
FUNCTION = "kv_cache_bytes"
IMPORTS = ""
FORBIDDEN: dict[str, str] = {}


def kv_cache_bytes(config: dict, seq_len: int, batch: int = 1, bytes_per_element: int = 2) -> int:
    """Bytes of the keys and values a decoder caches for `batch` sequences of `seq_len` tokens.

    config: a Hugging Face-style dict with the keys num_hidden_layers, hidden_size, num_attention_heads
    and, optionally, num_key_value_heads (absent: equal to num_attention_heads, i.e. multi-head attention).
    Each head has head_dim = hidden_size // num_attention_heads. Every layer caches one key and one value
    vector per KV head, per token, per sequence; bytes_per_element is 2 for fp16/bf16, 4 for fp32.
    Returns an int (no rounding to KiB/MiB). Grouped-query (8 KV heads for 32 query heads) and multi-query
    (1 KV head) attention store only their KV heads.

    Example: {"num_hidden_layers": 2, "hidden_size": 16, "num_attention_heads": 4, "num_key_value_heads": 2},
        seq_len = 10, batch = 1, bytes_per_element = 2: head_dim 4, per token and layer 2 · 2 · 4 = 16
        elements, so 2 layers · 10 tokens · 16 · 2 bytes = 640
    """
    heads = config["num_attention_heads"]
    kv_heads = config.get("num_key_value_heads", heads)
    head_dim = config["hidden_size"] // heads
    return 2 * config["num_hidden_layers"] * kv_heads * head_dim * seq_len * batch * bytes_per_element


# ------------------------------------------------------------------------------------------ the checks

_DTYPES = {2: torch.float16, 4: torch.float32, 8: torch.float64}


def _measured(config: dict, seq_len: int, batch: int, bytes_per_element: int) -> int:
    """Prefill seq_len − 1 tokens and decode one more through attention layers built from the config; add up
    the bytes their caches hold."""
    heads = config["num_attention_heads"]
    kv_heads = config.get("num_key_value_heads", heads)
    dtype = _DTYPES[bytes_per_element]
    layer = MultiHeadAttention(config["hidden_size"], heads, kv_heads, bias=False).to(dtype)
    prompt = torch.randn(batch, seq_len - 1, config["hidden_size"], generator=torch.Generator().manual_seed(0))
    total = 0
    with torch.no_grad():
        for _ in range(config["num_hidden_layers"]):  # one cache per layer; the shapes do not depend on weights
            cache = KVCache()
            layer(prompt.to(dtype), cache=cache)
            layer(prompt[:, :1].to(dtype), cache=cache)
            total += cache.nbytes()
    return total


GQA = {"num_hidden_layers": 3, "hidden_size": 24, "num_attention_heads": 6, "num_key_value_heads": 2}
MQA = {"num_hidden_layers": 2, "hidden_size": 20, "num_attention_heads": 5, "num_key_value_heads": 1}
MHA = {"num_hidden_layers": 2, "hidden_size": 12, "num_attention_heads": 3}  # no num_key_value_heads key
EXAMPLE = {"num_hidden_layers": 2, "hidden_size": 16, "num_attention_heads": 4, "num_key_value_heads": 2}
# OPT-13B: 40 layers, d = 5120, 40 heads (Zhang et al. 2022, table 1). Kwon et al. 2023 (vLLM), §3: "the KV
# cache of a single token demands 800 KB ... 2 × 5120 × 40 × 2", "as much as 1.6 GB" for 2048 tokens.
OPT_13B = {"num_hidden_layers": 40, "hidden_size": 5120, "num_attention_heads": 40}


def cases() -> list[Case]:
    names = ("config", "seq_len", "batch", "bytes_per_element")
    return [
        Case("the worked example", (EXAMPLE, 10, 1, 2), _measured(EXAMPLE, 10, 1, 2),
             "a measured fp16 cache of a 2-layer GQA model", arg_names=names),
        Case("GQA 6 → 2 KV heads, 7 tokens, batch 3, fp32", (GQA, 7, 3, 4), _measured(GQA, 7, 3, 4),
             "only the KV heads are stored", arg_names=names),
        Case("MQA, 1 KV head, 9 tokens, batch 2, fp16", (MQA, 9, 2, 2), _measured(MQA, 9, 2, 2),
             "one KV head shared by all 5 query heads", arg_names=names),
        Case("MHA (no num_key_value_heads), 5 tokens, fp64", (MHA, 5, 1, 8), _measured(MHA, 5, 1, 8),
             "an absent num_key_value_heads means one KV head per query head", arg_names=names),
        Case("OPT-13B, one token, fp16: vLLM's 800 KB", (OPT_13B, 1, 1, 2), 819_200,
             "Kwon et al. 2023 §3: 2 × 5120 × 40 × 2 bytes", arg_names=names),
        Case("OPT-13B, 2048 tokens, fp16: vLLM's 1.6 GB", (OPT_13B, 2048, 1, 2), 1_677_721_600,
             "Kwon et al. 2023 §3: 800 KB × 2048", arg_names=names),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the misconceptions


def keys_only(config: dict, seq_len: int, batch: int = 1, bytes_per_element: int = 2) -> int:
    head_dim = config["hidden_size"] // config["num_attention_heads"]
    kv_heads = config.get("num_key_value_heads", config["num_attention_heads"])
    return config["num_hidden_layers"] * kv_heads * head_dim * seq_len * batch * bytes_per_element


def query_heads_counted(config: dict, seq_len: int, batch: int = 1, bytes_per_element: int = 2) -> int:
    return 2 * config["num_hidden_layers"] * config["hidden_size"] * seq_len * batch * bytes_per_element


def batch_forgotten(config: dict, seq_len: int, batch: int = 1, bytes_per_element: int = 2) -> int:
    head_dim = config["hidden_size"] // config["num_attention_heads"]
    kv_heads = config.get("num_key_value_heads", config["num_attention_heads"])
    return 2 * config["num_hidden_layers"] * kv_heads * head_dim * seq_len * bytes_per_element


MISCONCEPTIONS = [
    Misconception("the factor 2 for K and V forgotten", keys_only,
                  "you count one cached vector per head and token; every layer caches a key and a value, so twice "
                  "that: 2 · layers · kv_heads · head_dim · tokens · batch · bytes",
                  "kv-cache-decoding: cache_grows_by_a_fixed_amount_per_token"),
    Misconception("query heads instead of KV heads", query_heads_counted,
                  "you use num_attention_heads (or hidden_size = heads · head_dim): with grouped- or multi-query "
                  "attention only num_key_value_heads heads are cached, h/h_kv times fewer",
                  "gqa-mqa-kv-cache: “The KV cache is 2·L·h·d_head·n·bytes whatever the attention variant.”"),
    Misconception("the batch forgotten", batch_forgotten,
                  "you size the cache of one sequence: each of the batch's sequences has its own keys and values",
                  "gqa-mqa-kv-cache: cache_bytes_formula_matches_a_measured_cache"),
]  # fmt: skip
