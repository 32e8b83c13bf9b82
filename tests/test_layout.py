"""The layout's promises: no import cycle in quiz/ or answers/, the library knows no screen, every command
has help."""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest

from quiz.cli import main
from quiz.paths import PROJECT_ROOT

PACKAGES = ("quiz", "answers")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for package in PACKAGES for path in sorted((PROJECT_ROOT / package).rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """The project modules ``name`` imports, anywhere in it (inside functions too). ``from a import b`` is an
    edge to ``a.b`` when that is a module, else to ``a``; a package's ``__init__`` is not an edge of its
    submodules (Python runs it first, but it cannot see a submodule's names before importing it)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [*package.split(".")[: len(package.split(".")) - node.level + 1], *filter(None, [base])]
                )
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {module for module in found if module in MODULES and module != name}


def find_cycle() -> list[str] | None:
    graph = {name: imports_of(name) for name in MODULES}
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for name in sorted(graph):
        if name not in state and (cycle := visit(name)):
            return cycle
    return None


def test_no_module_imports_itself_through_others():
    cycle = find_cycle()
    assert cycle is None, " → ".join(cycle or [])


def test_the_cycle_finder_sees_an_import_inside_a_function(monkeypatch, tmp_path):
    """The check can fail: a function-level import back into quiz.filters from a module it imports."""
    fake = tmp_path / "paths.py"
    fake.write_text(MODULES["quiz.paths"].read_text() + "\n\ndef later():\n    from quiz.filters import select\n")
    monkeypatch.setitem(MODULES, "quiz.paths", fake)
    assert find_cycle() is not None


def test_the_library_imports_no_rich():
    """The screen lives in quiz.cli: the library returns data."""
    library = [name for name in MODULES if not name.startswith("quiz.cli")]
    users = []
    for name in library:
        tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            users += [name for n in names if n.split(".")[0] == "rich"]
    assert users == []


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path, loading the lazy group's modules (``group.commands`` alone holds only those loaded)."""
    ctx = click.Context(group)
    found = [prefix]
    for name in sorted(group.list_commands(ctx)):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("command", _commands(main), ids=lambda c: " ".join(c) or "quiz")
def test_every_command_has_help_for_itself_and_each_option(command):
    from click.testing import CliRunner

    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output
    ctx = click.Context(main)
    target: click.Command = main
    for name in command:
        target = target.get_command(ctx, name)  # type: ignore[attr-defined]
    assert target.help, f"{' '.join(command)} has no help text"
    for param in target.get_params(ctx):
        if isinstance(param, click.Option):
            assert param.help, f"{' '.join(command) or 'quiz'} {param.opts[0]} has no help text"


def test_every_command_is_found_in_the_module_the_lazy_group_imports_for_it():
    """`quiz take` imports only the module of `take`: the table that says where each command lives must be right."""
    import importlib

    from quiz.cli.base import COMMAND_MODULES, main

    for name, module in COMMAND_MODULES.items():
        importlib.import_module(module)
        assert main.commands[name].callback.__module__ == module, f"{name} is not defined in {module}"
    assert sorted(main.commands) == sorted(COMMAND_MODULES), "a command is missing from COMMAND_MODULES"


MAX_FILE_LINES = 360  # "about 350": a module a newcomer reads in one sitting
MAX_FUNCTION_LINES = 50  # from `def` to its last line, docstring included, decorators not


def oversized(sources: dict[str, str]) -> list[str]:
    """Each file over MAX_FILE_LINES and each function over MAX_FUNCTION_LINES in ``sources`` (name → text), as
    a line naming it, its size and the limit."""
    found = []
    for name, text in sorted(sources.items()):
        lines = len(text.splitlines())
        if lines > MAX_FILE_LINES:
            found.append(f"{name}: {lines} lines, over {MAX_FILE_LINES}; split it along its seams")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                if length > MAX_FUNCTION_LINES:
                    found.append(
                        f"{name}:{node.lineno}: {node.name} is {length} lines, over {MAX_FUNCTION_LINES}; "
                        "split it into named steps"
                    )
    return found


def test_no_file_in_quiz_is_too_long_and_no_function_either():
    quiz = {str(path.relative_to(PROJECT_ROOT)): path.read_text(encoding="utf-8") for n, path in MODULES.items()
            if n == "quiz" or n.startswith("quiz.")}  # fmt: skip
    assert len(quiz) > 40  # the walk found the package
    problems = oversized(quiz)
    assert problems == [], "\n".join(problems)


def test_the_size_check_names_a_long_file_and_a_long_function():
    """The check can fail: one function of 51 lines in a file of 361 is named twice, with where it is."""
    body = "\n".join(f"    x{i} = {i}" for i in range(50))
    text = f"def long_one():\n{body}\n" + "\n" * (MAX_FILE_LINES - 51) + "\n"
    assert len(text.splitlines()) == MAX_FILE_LINES + 1
    assert oversized({"quiz/fat.py": text}) == [
        f"quiz/fat.py: {MAX_FILE_LINES + 1} lines, over {MAX_FILE_LINES}; split it along its seams",
        "quiz/fat.py:1: long_one is 51 lines, over 50; split it into named steps",
    ]
    assert oversized({"quiz/fit.py": "def short():\n    return 1\n"}) == []


def _layout_block() -> list[str]:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layout", 1)[1]
    return section.split("```text\n", 1)[1].split("```", 1)[0].splitlines()


def layout_mismatches(lines: list[str], modules: set[str]) -> list[str]:
    """Modules of quiz/ (paths like ``quiz/cli/take.py``) the README's Layout block does not name, and ``.py``
    names in it that are no module. A package's modules are named on the lines under its ``quiz/<package>/``
    line, as ``name.py`` or, for a package described in prose, as the bare name."""
    named: set[str] = set()  # every quiz path the block names, from a `.py` word
    words: set[str] = set()  # bare names under a package line: (package, word)
    package = ""
    for line in lines:
        if not line.startswith(" "):
            head = line.split("  ")[0]
            package = head if head.startswith("quiz/") and head.endswith("/") else ""
            if head.startswith("quiz/"):
                named.update(f"quiz/{part.strip().removeprefix('quiz/')}" for part in head.split(",") if ".py" in part)
        if package:
            for word in (w.strip(",():;") for w in line.replace(package, " ").split()):
                if word.endswith(".py"):
                    named.add(package + word)
                words.add(package + word + ".py")
    missing = sorted(m for m in modules if m not in named | words and not m.endswith("/__init__.py"))
    unknown = sorted(n for n in named if n not in modules)
    return [f"README Layout does not name {m}" for m in missing] + [
        f"README Layout names {n}: no such module" for n in unknown
    ]


def test_the_readme_layout_names_every_module_of_quiz_and_no_other():
    modules = {str(path.relative_to(PROJECT_ROOT)) for name, path in MODULES.items() if name.split(".")[0] == "quiz"}
    problems = layout_mismatches(_layout_block(), modules)
    assert problems == [], "\n".join(problems)


def test_the_layout_check_sees_a_module_left_out_and_one_made_up():
    lines = ["quiz/a.py, b.py    two", "quiz/pkg/          a package:", "  c.py             one", "quiz/p/  d and e"]
    modules = {"quiz/a.py", "quiz/b.py", "quiz/pkg/c.py", "quiz/p/d.py", "quiz/p/e.py"}
    assert layout_mismatches(lines, modules) == []
    assert layout_mismatches(lines, modules | {"quiz/pkg/new.py"}) == ["README Layout does not name quiz/pkg/new.py"]
    assert layout_mismatches([*lines, "quiz/gone.py   old"], modules) == [
        "README Layout names quiz/gone.py: no such module"
    ]
