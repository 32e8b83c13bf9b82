"""Loading a deck of cards: YAML → validated ``Card`` models, with every problem in every file collected
and reported at once as ``file:line: field: message``.

The answer modules are inspected with ``ast`` and never imported here: checking a deck must not import
torch, and must not run code that a deck points at.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from quiz.errors import QuizError
from quiz.models import Card, Location, card_problems
from quiz.paths import DEFAULT_ANSWERS, DEFAULT_QUESTIONS, PROJECT_ROOT  # noqa: F401  (re-exported)

MAX_CARD_BYTES = 256 * 1024  # the largest real card is ~8 KiB; anything far bigger is a mistake or an attack
# Modules in answers/ that are building blocks, not the proof of one card.
SHARED_MODULES = frozenset({"__init__", "__main__", "evidence", "reference", "report"})
RESERVED_MODULES = SHARED_MODULES | {"formulas"}


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        return _one_line(text)


def _one_line(text: str) -> str:
    """Escape control characters (a field named "\\n", say) so that a problem is always one line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class DeckError(QuizError):
    """A deck that cannot be used; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(map(str, self.problems)))

    def lines(self) -> list[str]:
        return [str(problem) for problem in self.problems]


class UnknownCard(QuizError):
    pass


@dataclass
class Deck:
    root: Path
    answers_dir: Path
    cards: dict[str, Card] = field(default_factory=dict)
    paths: dict[str, Path] = field(default_factory=dict)
    invalid: set[str] = field(default_factory=set)
    trusted: bool = True  # may its proof modules be run? Always for the project's own answers package

    def __len__(self) -> int:
        return len(self.cards)

    def __iter__(self):
        return iter(self.cards.values())

    def get(self, card_id: str) -> Card:
        if card_id not in self.cards:
            near = _closest(card_id, self.cards)
            hint = f"did you mean '{near}'?" if near else "run 'quiz list' to see the ids"
            raise UnknownCard(f"no card '{card_id}' in {shown_path(self.root)}; {hint}")
        return self.cards[card_id]

    def select(self, topic: str | None = None, tag: str | None = None, difficulty: str | None = None) -> list[Card]:
        from quiz.filters import select

        return select(self, topic, tag, difficulty)


# --------------------------------------------------------------------------------------------------
# YAML with line numbers


def shown_path(path: Path) -> str:
    """A path as the user should see it: relative to the working directory when it is below it."""
    try:  # abspath, not resolve(): resolving would follow (and choke on) a symlink loop
        relative = str(Path(os.path.abspath(path)).relative_to(Path.cwd()))
    except ValueError:
        return str(path)
    return relative if relative != "." else os.path.abspath(path)


class AliasError(ValueError):
    pass


class ComplexKeyError(ValueError):
    pass


def _line_map(node: yaml.Node) -> tuple[dict[Location, int], list[tuple[int, str]]]:
    """Map each key path in a YAML document to the (1-based) line it starts on; note duplicate keys.

    A card has no use for YAML anchors and aliases, and an alias "bomb" (aliases of aliases) would make this
    walk, and validation after it, take exponential time; a node reached twice is refused.
    """
    lines: dict[Location, int] = {}
    duplicates: list[tuple[int, str]] = []
    seen_nodes: set[int] = set()

    def walk(node: yaml.Node, path: Location) -> None:
        if id(node) in seen_nodes and isinstance(node, yaml.CollectionNode):
            raise AliasError(node.start_mark.line + 1)
        seen_nodes.add(id(node))
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            keys: set[Any] = set()
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise ComplexKeyError(key_node.start_mark.line + 1)
                key = key_node.value
                if key in keys:
                    duplicates.append((key_node.start_mark.line + 1, ".".join(map(str, (*path, key)))))
                keys.add(key)
                walk(value_node, (*path, key))
                lines[(*path, key)] = key_node.start_mark.line + 1  # a field's line is its key's line
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*path, i))

    walk(node, ())
    return lines, duplicates


def _line_of(lines: dict[Location, int], loc: Location) -> int:
    """The line of ``loc``, or of its nearest ancestor that exists (a missing field's parent)."""
    for end in range(len(loc), -1, -1):
        if tuple(loc[:end]) in lines:
            return lines[tuple(loc[:end])]
    return 1


def parse_yaml(text: str) -> tuple[Any, dict[Location, int], list[tuple[int, str]]]:
    loader = yaml.CSafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {(): 1}, []
        lines, duplicates = _line_map(node)
        return loader.construct_document(node), lines, duplicates
    finally:
        loader.dispose()


# --------------------------------------------------------------------------------------------------
# Validation messages a person can act on


def _field(loc: Location) -> str:
    return ".".join(str(part) for part in loc)


def _message(error: dict[str, Any]) -> str:
    kind, loc = error["type"], error["loc"]
    if kind == "missing":
        return "required field is missing; add it"
    if kind == "extra_forbidden":
        return f"unknown field '{loc[-1]}'; remove it or fix its spelling"
    if kind == "string_pattern_mismatch":
        name = loc[-1] if loc else ""
        if name in ("id", "related", "tags") or (len(loc) >= 2 and loc[-2] in ("related", "tags")):
            return "must be lowercase words joined by hyphens, like 'causal-masking'"
        if name in ("proof", "formula"):
            return "must be a Python function name, like 'mask_hides_only_the_future'"
        return f"{error['msg'].lower()}"
    if kind == "string_too_short":
        return "must not be empty"
    return error["msg"][0].lower() + error["msg"][1:]


def validate_card(data: Any, lines: dict[Location, int], shown: str) -> tuple[Card | None, list[Problem]]:
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        return None, [Problem(shown, 1, "", f"a card must be a YAML mapping of fields, found {got}")]
    try:
        card = Card.model_validate(data)
    except ValidationError as exc:
        return None, [
            Problem(shown, _line_of(lines, error["loc"]), _field(error["loc"]), _message(error))
            for error in exc.errors()
        ]
    return card, [Problem(shown, _line_of(lines, loc), _field(loc), msg) for loc, msg in card_problems(card)]


# --------------------------------------------------------------------------------------------------
# The answer modules, read as source


@dataclass(frozen=True)
class ModuleOutline:
    """Top-level functions of a module: name → (line, argument names, returns Evidence)."""

    functions: dict[str, tuple[int, tuple[str, ...], bool]]


def outline(path: Path) -> ModuleOutline | None:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    functions = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            args = tuple(a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs))
            returns = node.returns
            evidence = (isinstance(returns, ast.Name) and returns.id == "Evidence") or (
                isinstance(returns, ast.Constant) and returns.value == "Evidence"
            )
            functions[node.name] = (node.lineno, args, evidence)
    return ModuleOutline(functions)


def formula_outline(answers_dir: Path) -> dict[str, tuple[str, ...]]:
    """Public functions of answers/formulas/*.py with their argument names."""
    found: dict[str, tuple[str, ...]] = {}
    for path in sorted((answers_dir / "formulas").glob("*.py")):
        mod = outline(path)
        for name, (_, args, _) in (mod.functions if mod else {}).items():
            if not name.startswith("_"):
                found[name] = args
    return found


# --------------------------------------------------------------------------------------------------
# The deck


def card_files(root: Path) -> list[Path]:
    try:
        return sorted(p for pattern in ("*/*.yaml", "*/*.yml") for p in root.glob(pattern))
    except OSError as exc:  # a symlink loop or an unreadable folder
        raise DeckError([Problem(shown_path(root), 0, "", f"cannot list the cards ({exc.strerror or exc})")]) from None


def load_deck(
    root: Path = DEFAULT_QUESTIONS,
    answers_dir: Path = DEFAULT_ANSWERS,
    *,
    owns_answers: bool | None = None,
    trust_answers: bool = False,
) -> Deck:
    """Load and check every card under ``root`` (``<topic>/<id>.yaml``); raise DeckError listing every
    problem found, in every file, at once.

    ``owns_answers``: every proof module in ``answers_dir`` must belong to a card of this deck. True by
    default for the project's own deck; another deck may use a subset of the project's proofs.
    ``trust_answers``: a deck's own answers folder is code; its proofs may only be run when the user says so.
    Loading never runs them: the modules are read with ``ast``.
    """
    own_answers = Path(answers_dir).resolve() == DEFAULT_ANSWERS.resolve()
    if owns_answers is None:
        owns_answers = own_answers and Path(root).resolve() == DEFAULT_QUESTIONS.resolve()
    root = Path(root)
    deck = Deck(root=root, answers_dir=Path(answers_dir), trusted=own_answers or trust_answers)
    shown_root = shown_path(root)
    if not root.is_dir():
        raise DeckError([Problem(shown_root, 0, "", "no such folder; point --questions at a folder of cards")])
    if not Path(answers_dir).is_dir():
        raise DeckError(
            [Problem(shown_path(answers_dir), 0, "", "no such folder; point --answers at the proof modules")]
        )
    files = card_files(root)
    if not files:
        raise DeckError([Problem(shown_root, 0, "", "no cards found; a deck holds <topic>/<card-id>.yaml files")])
    problems: list[Problem] = []
    lines_by_id: dict[str, dict[Location, int]] = {}
    for path in files:
        shown = shown_path(path)
        try:
            if not path.is_file():
                problems.append(Problem(shown, 0, "", "is not a regular file; a card must be a .yaml file"))
                continue
            if path.stat().st_size > MAX_CARD_BYTES:
                size = path.stat().st_size // 1024
                problems.append(Problem(shown, 0, "", f"is {size} KiB; a card must be under 256 KiB, split it"))
                continue
            data, lines, duplicates = parse_yaml(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            problems.append(Problem(shown, 1, "", "file is not valid UTF-8 text; save it as UTF-8"))
            continue
        except ComplexKeyError as exc:
            problems.append(Problem(shown, exc.args[0], "", "a key must be a plain word, not a list or mapping"))
            continue
        except AliasError as exc:
            problems.append(
                Problem(shown, exc.args[0], "", "YAML anchors and aliases are not allowed in cards; write it out")
            )
            continue
        except OSError as exc:
            problems.append(Problem(shown, 0, "", f"cannot be read ({exc.strerror or exc}); fix or remove it"))
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            problems.append(Problem(shown, mark.line + 1 if mark else 1, "", f"YAML syntax error: {what}"))
            continue
        problems.extend(Problem(shown, line, key, "appears twice; keep one") for line, key in duplicates)
        card, card_errors = validate_card(data, lines, shown)
        problems.extend(card_errors)
        if card is None:
            deck.invalid.add(path.stem)  # exists, so links to it are not reported as missing
            continue
        if card.id != path.stem:
            problems.append(
                Problem(
                    shown,
                    lines[("id",)],
                    "id",
                    f"'{card.id}' differs from the file name; rename one to match",
                )
            )
        if card.topic != path.parent.name:
            problems.append(
                Problem(
                    shown,
                    lines[("topic",)],
                    "topic",
                    f"'{card.topic}' but the card is in folder '{path.parent.name}'; move it or fix the topic",
                )
            )
        if card.module in RESERVED_MODULES:
            problems.append(
                Problem(shown, lines[("id",)], "id", f"'{card.id}' is reserved for a shared module; choose another id")
            )
            continue
        if card.id in deck.cards:
            first = shown_path(deck.paths[card.id])
            problems.append(Problem(shown, lines[("id",)], "id", f"'{card.id}' is already used by {first}"))
            continue
        deck.cards[card.id] = card
        deck.paths[card.id] = path
        lines_by_id[card.id] = lines
    problems.extend(_link_problems(deck, lines_by_id, owns_answers))
    if problems:
        raise DeckError(problems)
    return deck


def _link_problems(deck: Deck, lines_by_id: dict[str, dict[Location, int]], owns_answers: bool) -> list[Problem]:
    problems: list[Problem] = []
    if deck.cards and not any((deck.answers_dir / f"{card.module}.py").is_file() for card in deck):
        return [
            Problem(
                shown_path(deck.answers_dir),
                0,
                "",
                f"holds no proof module for any of the {len(deck)} cards; point --answers at this deck's proofs",
            )
        ]
    formulas = formula_outline(DEFAULT_ANSWERS)  # the quiz always computes with the project's formulas
    modules_with_cards: set[str] = set()
    for card in deck:
        shown, lines = shown_path(deck.paths[card.id]), lines_by_id[card.id]
        for i, related in enumerate(card.related):
            if related not in deck.cards and related not in deck.invalid:
                problems.append(
                    Problem(shown, lines[("related", i)], f"related.{i}", f"no card '{related}' in this deck")
                )
        module_path = deck.answers_dir / f"{card.module}.py"
        modules_with_cards.add(card.module)
        mod = outline(module_path) if module_path.is_file() else None
        if mod is None:
            problems.append(
                Problem(
                    shown,
                    lines[("claims",)],
                    "claims",
                    f"proof module {shown_path(module_path)} is missing or unreadable; "
                    "create it with the claim functions",
                )
            )
        else:
            named = {claim.proof for claim in card.claims}
            for i, claim in enumerate(card.claims):
                if claim.proof not in mod.functions:
                    problems.append(
                        Problem(
                            shown,
                            lines[("claims", i, "proof")],
                            f"claims.{i}.proof",
                            f"function '{claim.proof}' is not defined in {shown_path(module_path)}",
                        )
                    )
                elif not mod.functions[claim.proof][2]:
                    problems.append(
                        Problem(
                            shown,
                            lines[("claims", i, "proof")],
                            f"claims.{i}.proof",
                            f"'{claim.proof}' must be annotated '-> Evidence' in {shown_path(module_path)}",
                        )
                    )
            for name, (line, _, is_claim) in sorted(mod.functions.items()):
                if is_claim and name not in named and not name.startswith("_"):
                    problems.append(
                        Problem(
                            shown_path(module_path),
                            line,
                            name,
                            f"returns Evidence but card '{card.id}' names no claim for it; add one or remove it",
                        )
                    )
        for i, numeric in enumerate(card.numeric):
            where = lines[("numeric", i, "formula")]
            if numeric.formula not in formulas:
                problems.append(
                    Problem(
                        shown,
                        where,
                        f"numeric.{i}.formula",
                        f"no formula '{numeric.formula}' in answers/formulas",
                    )
                )
                continue
            unknown = sorted(set(numeric.params) - set(formulas[numeric.formula]))
            if unknown:
                problems.append(
                    Problem(
                        shown,
                        lines[("numeric", i, "params", unknown[0])],
                        f"numeric.{i}.params.{unknown[0]}",
                        f"'{numeric.formula}' takes no argument '{unknown[0]}'",
                    )
                )
    if owns_answers:
        for path in sorted(deck.answers_dir.glob("*.py")):
            card_id = path.stem.replace("_", "-")
            if path.stem not in SHARED_MODULES | modules_with_cards and card_id not in deck.invalid:
                problems.append(
                    Problem(
                        shown_path(path),
                        1,
                        "",
                        "proof module has no card; add questions/<topic>/<id>.yaml or remove it",
                    )
                )
    return problems


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None
