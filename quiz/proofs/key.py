"""The cache key of a card's evidence: its proof module, every module of the ``answers`` package it imports
(transitively), the modules that judge it, torch's version and the claim list."""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

from quiz.paths import DEFAULT_ANSWERS, module_too_big
from quiz.proofs.run import ProvableCard, file_stamp

# Part of every key: bump it when the record's layout or the way it is produced changes.
RECORD_VERSION = "3"  # 3: figures drawn in the site's one font scheme
# Hashed into every key even if a module does not import them: they decide how a proof is judged.
KEY_MODULES = ("evidence.py", "reference.py")


# The key


# Every import of the answers package, also those inside functions. A regex, not ast: parsing 70 modules would
# cost a cached `quiz verify` a third of its budget, and a match inside a string only hashes one file more.
_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(answers(?:\.\w+)*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]+)|import[ \t]+([^\n#]+))", re.M
)


@functools.cache
def _imports_of(path: Path, stamp: tuple[int, int]) -> frozenset[Path]:
    """The files of the ``answers`` package that the module at ``path`` imports directly (``stamp``, its
    mtime and size, makes an edited file be read again)."""
    if module_too_big(path):
        return frozenset()  # refused before it runs (PROOF006); never read whole
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return frozenset()
    names: set[str] = set()
    for match in _IMPORT.finditer(text):
        module, imported, plain = match.groups()
        if module:
            names.add(module)
            # `from answers import x`: x may be a module
            names.update(f"{module}.{n.split()[0]}" for n in imported.strip("()").split(",") if n.strip())
        else:
            names.update(n.split()[0] for n in plain.split(",") if n.strip().startswith("answers"))
    found = set()
    for name in names:
        base = DEFAULT_ANSWERS.joinpath(*name.split(".")[1:])
        found.update(c for c in (base.with_suffix(".py"), base / "__init__.py") if c.is_file())
    return frozenset(found)


@functools.cache
def _file_digest(path: Path, stamp: tuple[int, int]) -> bytes:
    if stamp[1] < 0 or module_too_big(path):
        return hashlib.sha256(f"<missing or too big: {stamp}>".encode()).digest()
    return hashlib.sha256(path.read_bytes()).digest()


@functools.cache
def torch_version() -> str:
    """torch's version from its metadata: importing torch would cost a second."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("torch")
    except PackageNotFoundError:
        return "none"


def dependencies(card: ProvableCard, answers_dir: Path = DEFAULT_ANSWERS) -> list[Path]:
    """The card's module first, then every file its evidence depends on."""
    module = Path(answers_dir) / f"{card.module}.py"
    files = {module, *(DEFAULT_ANSWERS / name for name in KEY_MODULES)}
    todo = [module]
    while todo:
        path = todo.pop()
        for dep in _imports_of(path, file_stamp(path)) - files:
            files.add(dep)
            todo.append(dep)
    return [module, *sorted(files - {module})]


def proof_key(card: ProvableCard, answers_dir: Path = DEFAULT_ANSWERS) -> str:
    """Hash of everything a card's evidence and figures depend on (see ``dependencies``), torch's version
    and the claim list."""
    digest = hashlib.sha256(f"{RECORD_VERSION}\n{card.module}\n{torch_version()}\n".encode())
    digest.update("\n".join(claim.proof for claim in card.claims).encode())
    for path in dependencies(card, answers_dir):
        digest.update(b"\0" + path.name.encode() + b"\0" + _file_digest(path, file_stamp(path)))
    return digest.hexdigest()[:20]
