"""The fixed vocabularies of the card format: topics, difficulties, units. Plain enums with no pydantic,
so the command line can offer them as choices without paying for the models' import."""

from __future__ import annotations

from enum import StrEnum


class Topic(StrEnum):
    ATTENTION_CORE = "attention-core"
    MULTI_HEAD = "multi-head"
    POSITIONAL = "positional"
    MASKING = "masking"
    VARIANTS = "variants"
    SUBLAYERS = "sublayers"
    COMPLEXITY = "complexity"
    EFFICIENT_ATTENTION = "efficient-attention"
    INFERENCE = "inference"
    TRAINING = "training"
    SCALE = "scale"
    TOKENIZATION = "tokenization"
    NUMERICS = "numerics"
    OPTIMIZATION = "optimization"
    POST_TRAINING = "post-training"
    MOE = "moe"

    @property
    def title(self) -> str:
        return TOPIC_TITLES[self]


# Topics a deck may still name that have moved into another: a deck written for an earlier version keeps
# loading, its cards (and a folder of that name) counted in the topic that took them in. "scaling" held only
# the √d_k card, which now sits with the rest of what attention computes.
RETIRED_TOPICS: dict[str, Topic] = {"scaling": Topic.ATTENTION_CORE}


TOPIC_TITLES = {
    Topic.ATTENTION_CORE: "Attention core",
    Topic.MULTI_HEAD: "Multi-head attention",
    Topic.POSITIONAL: "Positional information",
    Topic.MASKING: "Masking and decoding",
    Topic.VARIANTS: "Cross-attention and architecture variants",
    Topic.SUBLAYERS: "Sublayers and normalisation",
    Topic.COMPLEXITY: "Complexity and context length",
    Topic.EFFICIENT_ATTENTION: "Efficient attention",
    Topic.INFERENCE: "Inference and serving",
    Topic.TRAINING: "Training",
    Topic.SCALE: "Scale and parameters",
    Topic.TOKENIZATION: "Tokenisation",
    Topic.NUMERICS: "Number formats and precision",
    Topic.OPTIMIZATION: "Optimisation, initialisation and stability",
    Topic.POST_TRAINING: "Post-training and alignment",
    Topic.MOE: "Mixture of experts",
}


class Difficulty(StrEnum):
    EASY = "easy"
    MEDIUM = "medium"
    HARD = "hard"


class Unit(StrEnum):
    """Units a numeric answer may carry; the quiz understands prefixes (KiB, GiB, M, B…) for each."""

    BYTES = "bytes"
    FLOPS = "FLOPs"
    PARAMETERS = "parameters"
    COUNT = "count"
    RATIO = "ratio"
    NATS = "nats"
    RADIANS = "radians"
    TOKENS = "tokens"


# How choices are labelled wherever they are shown or typed.
CHOICE_LETTERS = "abcdefghij"
