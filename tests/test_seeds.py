"""Statistical claims hold on many draws, not on the one seed their author tried.

A claim that draws random numbers takes ``seed: int = 0``. Here it is run on five more seeds: on every one the
claim must hold and its counterfactual must fail. A tolerance that only suits seed 0 shows up here.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from quiz.deck import load_deck

DECK = load_deck()
ANSWERS = Path(__file__).resolve().parent.parent / "answers"
SEEDS = (1, 2, 3, 4, 5)  # seed 0, the default, is run by test_claims.py

# A call to any of these draws random numbers (constructing an nn module draws its initial weights, but every
# proof that does so seeds first, so `manual_seed` and `Generator` catch those).
RANDOM_CALLS = {
    *("manual_seed", "Generator", "randn", "rand", "randint", "randperm", "randn_like", "rand_like"),
    *("normal", "normal_", "uniform_", "multinomial", "bernoulli", "shuffle", "random", "default_rng"),
}


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _called_names(node: ast.AST) -> set[str]:
    names = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            func = call.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
        elif isinstance(call, ast.Name):
            names.add(call.id)  # a helper passed as a value, e.g. map(_draw, ...)
    return names


def draws_random_numbers(module: Path, claim: str) -> bool:
    """Whether ``claim`` in ``module`` (or any function of the same module it reaches) draws random numbers."""
    functions = _functions(ast.parse(module.read_text(encoding="utf-8")))
    seen, todo = set(), [claim]
    while todo:
        name = todo.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        called = _called_names(functions[name])
        if called & RANDOM_CALLS:
            return True
        todo += called & functions.keys()
    return False


CLAIMS = [(card, claim.proof) for card in DECK for claim in card.claims]
RANDOM = [
    (card, proof) for card, proof in CLAIMS if draws_random_numbers(ANSWERS / f"{card.id.replace('-', '_')}.py", proof)
]


def _claim(card, proof):
    return getattr(importlib.import_module(f"answers.{card.id.replace('-', '_')}"), proof)


@pytest.mark.parametrize(("card", "proof"), RANDOM, ids=[f"{c.id}::{p}" for c, p in RANDOM])
def test_a_claim_that_draws_random_numbers_takes_a_seed(card, proof):
    parameter = inspect.signature(_claim(card, proof)).parameters.get("seed")
    assert parameter is not None, "add `seed: int = 0` and draw every random number from it"
    assert parameter.default == 0 and parameter.annotation in (int, "int")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("card", "proof"), RANDOM, ids=[f"{c.id}::{p}" for c, p in RANDOM])
def test_a_random_claim_holds_and_its_counterfactual_fails_on_every_seed(card, proof, seed):
    claim = _claim(card, proof)
    if "seed" not in inspect.signature(claim).parameters:
        pytest.fail("takes no seed (see test_a_claim_that_draws_random_numbers_takes_a_seed)")
    ev = claim(seed=seed)
    assert ev.holds, f"seed {seed}: measured {ev.measured!r}, expected {ev.criterion()} ({ev.derivation})"
    assert not ev.counterfactual_holds, f"seed {seed}: the broken mechanism ({ev.counterfactual}) also passes"


def test_the_random_claim_detector_sees_a_seeded_draw(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import torch\n"
        "def _draw(g):\n    return torch.randn(3, generator=g)\n"
        "def random_claim(seed: int = 0):\n    return _draw(torch.Generator().manual_seed(seed))\n"
        "def exact_claim():\n    return torch.arange(3)\n"
    )
    assert draws_random_numbers(module, "random_claim")
    assert not draws_random_numbers(module, "exact_claim")
