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
