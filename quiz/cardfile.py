"""One card file read: its bytes (a regular file, small, UTF-8), then YAML with the line of every key.

Each way a file can fail to be read is one ``Problem`` with its FILE or YAML code; nothing recursive meets a
nesting deeper than a card needs, and an alias "bomb" is refused before it is expanded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from quiz.models import Location
from quiz.paths import shown_path
from quiz.rules import MAX_CARD_KIB, Problem

MAX_CARD_BYTES = MAX_CARD_KIB * 1024


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


class ValueReadError(ValueError):
    """A scalar YAML parses but Python cannot build (``2024-02-30``, an integer of 5 000 digits): (line, why)."""


class TooDeepError(ValueError):
    """Collections nested deeper than any card needs: (line of the first node too deep)."""


# A card nests four levels at most (numeric.0.params.name.0); the walks below recurse once per level.
MAX_DEPTH = 32


def _check_depth(root: yaml.Node) -> None:
    """Refuse nesting past MAX_DEPTH before anything recursive (the line map, the constructor, pydantic) meets
    it; iterative, so that the check itself cannot overflow the stack. A collection reached twice is an alias,
    refused here as in the line map: walking an alias bomb's every path would take exponential time."""
    stack: list[tuple[yaml.Node, int]] = [(root, 0)]
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise TooDeepError(node.start_mark.line + 1)
        if isinstance(node, yaml.CollectionNode):
            if id(node) in seen:
                raise AliasError(node.start_mark.line + 1)
            seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            stack.extend((child, depth + 1) for pair in node.value for child in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)


def _unreadable_scalar(loader: yaml.CSafeLoader, root: yaml.Node) -> ValueReadError:
    """The first scalar the constructor cannot build, with its line and the reason, for a one-line problem."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.ScalarNode):
            try:
                loader.construct_object(node)
            except (ValueError, OverflowError) as exc:
                too_long = node.tag.endswith(":int")  # Python's own message here is a paragraph
                why = f"an integer of {len(node.value)} digits" if too_long else str(exc).split(";")[0]
                shown = node.value if len(node.value) <= 24 else node.value[:20] + "…"
                return ValueReadError(node.start_mark.line + 1, f"{shown!r} cannot be read ({why})")
        elif isinstance(node, yaml.MappingNode):
            stack.extend(child for pair in reversed(node.value) for child in reversed(pair))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
    return ValueReadError(root.start_mark.line + 1, "a value cannot be read")


def parse_yaml(text: str) -> tuple[Any, dict[Location, int], list[tuple[int, str]]]:
    loader = yaml.CSafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {(): 1}, []
        _check_depth(node)
        lines, duplicates = _line_map(node)
        try:
            return loader.construct_document(node), lines, duplicates
        except (ValueError, OverflowError):  # YAML's implicit dates and ints, built by Python: not a YAMLError
            raise _unreadable_scalar(yaml.CSafeLoader(""), node) from None
    finally:
        loader.dispose()


def read_card(path: Path) -> tuple[Any, dict[Location, int], list[tuple[int, str]]] | Problem:
    """A card file parsed as YAML with the line of every key, or the one problem that stops it being read."""
    shown = shown_path(path)
    try:
        if not path.is_file():
            return Problem(shown, 0, "", "is not a regular file; a card must be a .yaml file", "FILE001")
        size = path.stat().st_size
        if size > MAX_CARD_BYTES:
            message = f"is {size // 1024} KiB; a card must be under {MAX_CARD_KIB} KiB, split it"
            return Problem(shown, 0, "", message, "FILE002")
        return parse_yaml(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return Problem(shown, 1, "", "file is not valid UTF-8 text; save it as UTF-8", "FILE003")
    except ComplexKeyError as exc:
        return Problem(shown, exc.args[0], "", "a key must be a plain word, not a list or mapping", "YAML003")
    except ValueReadError as exc:
        line, why = exc.args
        return Problem(shown, line, "", f"{why}; put it in quotes to keep it as text", "YAML006")
    except TooDeepError as exc:
        message = f"values nested more than {MAX_DEPTH} levels deep; a card's fields nest a few levels at most"
        return Problem(shown, exc.args[0], "", message, "YAML007")
    except AliasError as exc:
        message = "YAML anchors and aliases are not allowed in cards; write it out"
        return Problem(shown, exc.args[0], "", message, "YAML002")
    except OSError as exc:
        return Problem(shown, 0, "", f"cannot be read ({exc.strerror or exc}); fix or remove it", "FILE004")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return Problem(shown, mark.line + 1 if mark else 1, "", f"YAML syntax error: {what}", "YAML001")
