"""Decks and databases for the practice tests, all under tmp_path: the two exemplar cards, with their links to
cards that may not exist yet trimmed, and numeric questions added to one of them."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
EXEMPLARS = {
    "attention-core": PROJECT / "questions" / "attention-core" / "sqrt-dk-scaling.yaml",
    "masking": PROJECT / "questions" / "masking" / "causal-masking.yaml",
}

# 2 · 32 layers · 32 heads · 128 · 4096 tokens · 2 bytes = exactly 2 GiB.
FIXED_NUMERIC = """\
numeric:
  - prompt: "A model with {layers} layers, {kv_heads} KV heads of size {head_dim} caches {tokens} tokens in
      fp16 (batch 1). How many bytes does the KV cache take?"
    formula: kv_cache_bytes
    params: {layers: [32], kv_heads: [32], head_dim: [128], tokens: [4096]}
    unit: bytes
    tolerance: 0.02
"""

GENERATED_NUMERIC = """\
numeric:
  - prompt: "{layers} layers, {kv_heads} KV heads of size {head_dim}, {tokens} tokens, fp16: KV cache bytes?"
    formula: kv_cache_bytes
    params: {layers: [12, 24, 32, 80], kv_heads: [1, 8, 32], head_dim: [64, 128], tokens: [1024, 4096, 32768]}
    unit: bytes
"""


def write_deck(root: Path, numeric: str | None = FIXED_NUMERIC) -> Path:
    """A deck in ``root``: sqrt-dk-scaling (with ``numeric`` appended) and causal-masking."""
    for topic, source in EXEMPLARS.items():
        text = re.sub(r"^related:.*$", "related: []", source.read_text(encoding="utf-8"), flags=re.M)
        if topic == "attention-core" and numeric:
            text = text.rstrip("\n") + "\n" + numeric
        (root / topic).mkdir(parents=True, exist_ok=True)
        (root / topic / source.name).write_text(text, encoding="utf-8")
    return root


def make_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A deck, an empty database path and a cache dir, all private to the test; the clock fixed."""
    deck = write_deck(tmp_path / "deck")
    db = tmp_path / "progress.sqlite3"
    monkeypatch.setenv("QUIZ_DB", str(db))
    monkeypatch.setenv("QUIZ_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("QUIZ_NOW", "2026-03-02T18:00:00+00:00")
    monkeypatch.setenv("COLUMNS", "100")
    return type("Env", (), {"deck": deck, "db": db, "root": tmp_path})


def reviews(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT card_id, kind, grade, correct, mode FROM reviews ORDER BY id").fetchall()


def masking_card() -> dict:
    """The causal-masking exemplar as data, so tests follow its wording when it is edited."""
    import yaml

    return yaml.safe_load(EXEMPLARS["masking"].read_text(encoding="utf-8"))


def masking_choices() -> tuple[str, str, str]:
    """(right choice, a wrong choice, why that one is wrong)."""
    choices = masking_card()["choices"]
    right = next(c for c in choices if c.get("correct"))
    wrong = next(c for c in choices if not c.get("correct"))
    return right["text"].strip(), wrong["text"].strip(), wrong["why"].strip()


def titles() -> tuple[str, str]:
    """(masking card title, scaling card title), as far as a terminal renders them the same."""
    import yaml

    scaling = yaml.safe_load(EXEMPLARS["attention-core"].read_text(encoding="utf-8"))
    return masking_card()["title"][:14], scaling["title"][:14]


def edit_question(path: Path) -> str:
    """Change the wording of a card's question; returns the new first words."""
    text = path.read_text(encoding="utf-8")
    edited = re.sub(r"^question: *\|?\n?", "question: |\n  Edited, in short: ", text, count=1, flags=re.M)
    assert edited != text
    path.write_text(edited, encoding="utf-8")
    return "Edited, in short:"
