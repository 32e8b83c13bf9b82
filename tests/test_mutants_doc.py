"""`make mutants` excuses a surviving mutant only when docs/mutants.md lists it as equivalent, with its reason."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _mutants():
    spec = importlib.util.spec_from_file_location("bench_mutants", ROOT / "bench" / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_only_the_equivalent_table_excuses_a_mutant(tmp_path, monkeypatch):
    doc = tmp_path / "mutants.md"
    doc.write_text(
        "# Mutants\n\n## Equivalent mutants\n\n| mutant | why |\n| --- | --- |\n| `a.f#0` | exact division |\n\n"
        "## Killed since\n\n| mutant | killed by |\n| --- | --- |\n| `b.g#1` | some claim |\n",
        encoding="utf-8",
    )
    mutants = _mutants()
    monkeypatch.setattr(mutants, "DOC", doc)
    assert mutants.equivalent_mutants() == {"a.f#0"}


def test_the_shipped_list_names_each_equivalent_mutant_with_a_reason():
    mutants = _mutants()
    names = mutants.equivalent_mutants()
    assert len(names) >= 4 and all("." in n and "#" in n for n in names)
