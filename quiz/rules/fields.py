"""FIELD: pydantic's validation errors, each given a code and words a person can act on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def field_problem(error: Mapping[str, Any]) -> tuple[str, str]:
    """The code and message for one of pydantic's ``ValidationError.errors()``."""
    kind, loc = error["type"], error["loc"]
    if kind == "missing":
        return "FIELD001", "required field is missing; add it"
    if kind == "extra_forbidden":
        return "FIELD002", f"unknown field '{loc[-1]}'; remove it or fix its spelling"
    if kind == "string_pattern_mismatch":
        name = loc[-1] if loc else ""
        if name in ("id", "related", "tags") or (len(loc) >= 2 and loc[-2] in ("related", "tags")):
            return "FIELD003", "must be lowercase words joined by hyphens, like 'causal-masking'"
        if name in ("proof", "formula"):
            return "FIELD004", "must be a Python function name, like 'mask_hides_only_the_future'"
    if kind == "string_too_short":
        return "FIELD005", "must not be empty"
    return "FIELD006", error["msg"][0].lower() + error["msg"][1:]
