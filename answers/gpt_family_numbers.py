"""Which published GPT-1 → GPT-4 numbers hold up.

GPT-1 (117M), GPT-2 (1.5B) and GPT-3 (175B) sizes follow from their published configurations with the
same decoder-only parameter formula. GPT-3's "570 GB" is only its filtered Common Crawl portion, which
supplied 60 % of the ≈300B training tokens; of the rest, WebText2, Books1 and Wikipedia were over-sampled and
Books2 was not. GPT-4's size was never published.
"""

from __future__ import annotations

from answers.evidence import Evidence
from answers.formulas.parameters import gpt_non_embedding_parameters, gpt_parameters

GPT1 = {"layers": 12, "d_model": 768, "vocab": 40478, "context": 512}  # Radford et al. (2018)
GPT2_XL = {"layers": 48, "d_model": 1600, "vocab": 50257, "context": 1024}  # Radford et al. (2019), Table 2

# Brown et al. (2020), Table 2.2: dataset → (tokens available, share of the training mix, epochs elapsed in 300B
# tokens). The third column is the paper's own; the proof recomputes it from the first two.
GPT3_MIX = {
    "Common Crawl (filtered, 570 GB)": (410e9, 0.60, 0.44),
    "WebText2": (19e9, 0.22, 2.9),
    "Books1": (12e9, 0.08, 1.9),
    "Books2": (55e9, 0.08, 0.43),
    "Wikipedia": (3e9, 0.03, 3.4),
}
GPT3_TRAINING_TOKENS = 300e9


def _without_embeddings(config: dict[str, int]) -> int:
    return gpt_non_embedding_parameters(config["layers"], config["d_model"])


def gpt1_configuration_gives_117m() -> Evidence:
    """12 layers of width 768, a 40,478-token vocabulary and 512 positions recount to within 1 % of 117M."""
    return Evidence(
        measured=gpt_parameters(**GPT1),
        expected=117e6,
        comparison="rel",
        tolerance=0.01,  # the published figure is rounded; GPT-1 is post-norm (no final LN: 2d = 1,536 fewer)
        derivation="published: Radford et al. (2018), 117M",
        counterfactual="forget the token and position embeddings",
        counterfactual_measured=_without_embeddings(GPT1),
        unit="parameters",
        details={"token embeddings V·d": 40478 * 768, "d_model / heads": 768 // 12},
    )


# Radford et al. (2019), Table 2: published parameters → (layers, d_model), all with 1,024 positions.
GPT2_TABLE_2 = {117e6: (12, 768), 345e6: (24, 1024), 762e6: (36, 1280), 1542e6: (48, 1600)}


def _worst_table_2_gap(vocab: int) -> float:
    """Largest |recount − published| over the four GPT-2 sizes of Table 2, counted with ``vocab`` token rows."""
    return max(abs(gpt_parameters(layers, d, vocab, 1024) - n) for n, (layers, d) in GPT2_TABLE_2.items())


def gpt2_table_2_counts_gpt1s_vocabulary() -> Evidence:
    """All four sizes of the GPT-2 paper's Table 2 (117M, 345M, 762M, 1542M) are the recount with GPT-1's
    40,478-token vocabulary, to the table's rounding to 1M; GPT-2's real 50,257-token vocabulary adds
    9,779·d parameters (7.5M for the smallest, 15.6M for XL, whose true size is 1,557.6M)."""
    return Evidence(
        measured=_worst_table_2_gap(GPT1["vocab"]),
        expected=0.5e6,
        comparison="at_most",
        derivation="published: Radford et al. (2019), Table 2, rounded to the nearest million (±0.5M)",
        counterfactual="the recount with GPT-2's own 50,257-token vocabulary",
        counterfactual_measured=_worst_table_2_gap(GPT2_XL["vocab"]),
        unit="parameters",
        details={
            **{
                f"{layers} × {d} recount, V = 50,257": gpt_parameters(layers, d, 50257, 1024)
                for layers, d in GPT2_TABLE_2.values()
            },
            "(50,257 − 40,478) · 1,600": (50257 - 40478) * 1600,
        },
    )


def _over_sampled(mix: dict[str, tuple[float, float, float]], tokens_seen: float) -> tuple[str, ...]:
    """The sets read more than once when ``tokens_seen`` tokens are drawn with the mix's weights."""
    return tuple(name for name, (tokens, weight, _) in mix.items() if weight * tokens_seen / tokens > 1)


def only_three_of_gpt3s_sets_were_over_sampled() -> Evidence:
    """Recomputed from Table 2.2's sizes and weights, WebText2, Books1 and Wikipedia were read more than once
    in 300B tokens, and the 570 GB Common Crawl and Books2 less than half an epoch: the paper's epochs column
    says the same. Reading the 570 GB as the whole training set, nothing would have been repeated."""
    paper = tuple(name for name, (_, _, epochs) in GPT3_MIX.items() if epochs > 1)
    whole_set = {name: (tokens, 1.0, 0.0) for name, (tokens, _, _) in GPT3_MIX.items() if name.startswith("Common")}
    return Evidence(
        measured=_over_sampled(GPT3_MIX, GPT3_TRAINING_TOKENS),
        expected=paper,
        comparison="equal",
        derivation="published: Brown et al. (2020), Table 2.2, column 'epochs elapsed when training for 300B tokens'",
        counterfactual="the 570 GB Common Crawl read as the whole training set",
        counterfactual_measured=_over_sampled(whole_set, GPT3_TRAINING_TOKENS),
        details={
            "share outside Common Crawl (weights)": sum(w for n, (_, w, _) in GPT3_MIX.items() if "Common" not in n),
            **{
                f"epochs over {name} (recomputed / paper)": f"{weight * GPT3_TRAINING_TOKENS / tokens:.2f} / {epochs}"
                for name, (tokens, weight, epochs) in GPT3_MIX.items()
            },
        },
    )


if __name__ == "__main__":
    from answers.report import print_report

    print_report(__name__)
