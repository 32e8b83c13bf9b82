"""The exercise pages ("Implement it yourself"): one per coding exercise of answers/exercises, with its
specification, the starter file to copy, the mistakes its check names, the card it practises and the two commands,
and an index. Read through ``quiz.exercises`` and ``ast``: building the site never imports torch."""

from __future__ import annotations

import ast
import html
import re
from dataclasses import dataclass
from pathlib import Path

from quiz.deck import Deck
from quiz.exercises import EXERCISES_DIR, Exercise, catalogue, parsed, starter
from quiz.site.pages import card_path
from quiz.site.safe import deck_markdown as _md

INDEX = "exercises/index.md"


@dataclass(frozen=True)
class Mistake:
    """One entry of an exercise's MISCONCEPTIONS: the wrong implementation's name, what the check says about it,
    and the card pitfall or claim it comes from ("card-id: text")."""

    name: str
    explanation: str
    pitfall: str


def exercise_path(exercise: Exercise) -> str:
    return f"exercises/{exercise.id}.md"


def _function(tree: ast.Module, name: str) -> ast.FunctionDef | None:
    return next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)


def mistakes(exercise: Exercise) -> list[Mistake]:
    """The module's ``MISCONCEPTIONS = [Misconception(name, fn, explanation, pitfall), …]``, read as literals."""
    tree = parsed(exercise.path.read_text(encoding="utf-8"))
    found: list[Mistake] = []
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if not any(isinstance(t, ast.Name) and t.id == "MISCONCEPTIONS" for t in targets):
            continue
        for call in getattr(node.value, "elts", []):
            if not isinstance(call, ast.Call):
                continue
            args = [*call.args, *(k.value for k in call.keywords)]
            texts = [a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if len(texts) >= 3:
                found.append(Mistake(*texts[:3]))
    return found


def specification(exercise: Exercise) -> str:
    tree = parsed(exercise.path.read_text(encoding="utf-8"))
    node = _function(tree, exercise.function)
    return (ast.get_docstring(node) or "") if node else ""


def _fence(text: str, mark: str = "`") -> str:
    """A code fence longer than any run of ``mark`` in ``text``, so the text cannot close it."""
    longest = max((len(m) for m in re.findall(re.escape(mark) + "+", text)), default=0)
    return mark * max(3, longest + 1)


def _code_block(text: str, language: str) -> str:
    fence = _fence(text)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _relative_card(deck: Deck, card_id: str) -> str:
    return "../" + card_path(deck.cards[card_id])


def exercise_page(exercise: Exercise, deck: Deck) -> str:
    card = deck.cards[exercise.card]
    link = f"[{_md(card.title)}]({_relative_card(deck, card.id)})"
    parts = [
        "---",
        f"title: {_yaml_string(_md(exercise.title))}",
        "---",
        "",
        f"# {_md(exercise.title)}",
        "",
        f"*Exercise · {html.escape(exercise.difficulty)} · practises the card {link}*",
        "",
        "## What to write",
        "",
        f"`{exercise.function}`, as its specification says:",
        "",
        _code_block(specification(exercise), "text"),
        "",
        "## Start and check",
        "",
        "In a terminal, in the project (or wherever `quiz` is installed):",
        "",
        _code_block(f"quiz code start {exercise.id}\nquiz code check {exercise.file_name}", "sh"),
        "",
        "`start` writes the starter file below; `check` runs your function on the exercise's cases, compares it "
        "with values computed independently (never from the solution), and names the mistake when it matches one "
        "of those below.",
        "",
        "## The starter file",
        "",
        _code_block(starter(exercise), "python"),
        "",
    ]
    parts += _mistakes(exercise, deck)
    parts += ["## The card it practises", "", f"{link}: read its answer and proofs before or after.", ""]
    return "\n".join(parts)


def _mistakes(exercise: Exercise, deck: Deck) -> list[str]:
    """The catalogued mistakes, each with the card pitfall or claim that says so, linked."""
    found = mistakes(exercise)
    if not found:
        return []
    parts = ["## The mistakes it catches", ""]
    for mistake in found:
        source, _, text = mistake.pitfall.partition(": ")
        origin = ""
        if source in deck.cards:
            target = deck.cards[source]
            page = _relative_card(deck, source)
            if any(claim.proof == text for claim in target.claims):  # a claim: link to its proof
                said = f"[its claim `{text}`]({page}#claim-{text})"
            else:
                said = _md(text)
            origin = f" *(from [{_md(target.title)}]({page}): {said})*"
        parts.append(f"- **{_md(mistake.name)}**: {_md(mistake.explanation)}{origin}")
    return [*parts, ""]


def _yaml_string(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


def index_page(exercises: list[Exercise], deck: Deck) -> str:
    parts = [
        "# Exercises",
        "",
        "Implement it yourself: each exercise gives a specification and a starter file; `quiz code check` runs "
        "your function against values computed independently and names the mistake when it makes a known one.",
        "",
        "| Exercise | Difficulty | Practises |",
        "| --- | --- | --- |",
    ]
    for exercise in exercises:
        card = deck.cards[exercise.card]
        parts.append(
            f"| [{_md(exercise.title)}]({exercise.id}.md) | {html.escape(exercise.difficulty)} "
            f"| [{_md(card.title)}]({_relative_card(deck, card.id)}) |"
        )
    parts.append("")
    return "\n".join(parts)


def deck_exercises(deck: Deck, folder: Path = EXERCISES_DIR) -> list[Exercise]:
    """The exercises whose card is in ``deck`` (a site built from another deck links to no missing card)."""
    if not folder.is_dir():
        return []
    return [exercise for exercise in catalogue(folder) if exercise.card in deck.cards]
