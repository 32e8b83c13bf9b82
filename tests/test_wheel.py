"""Installable anywhere: a wheel built from the checkout carries the bank, and its `quiz` works from any folder.

One test, because building the wheel and installing it (with the pinned CPU torch) into a fresh virtual environment
takes about a minute; every command then runs from an unrelated folder, and the installed package must be exactly
as it was installed afterwards (builds write to the user's folders, never into site-packages).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from quiz.site.katex import fetch_katex

PROJECT = Path(__file__).resolve().parent.parent


def _run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    )
    return done


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh virtual environment outside the checkout with the project's wheel installed in it."""
    root = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(root / "dist"), str(PROJECT)], root, env, 900)
    (wheel,) = (root / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "quiz/_bank/questions/masking/causal-masking.yaml" in names
    assert "quiz/_bank/site/mkdocs.yml" in names and "answers/causal_masking.py" in names
    assert not [n for n in names if n.startswith(("tests/", "site/docs", "quiz/_bank/site/docs", "bench/"))]
    _run([sys.executable, "-m", "venv", str(root / "venv")], root, env)
    _run([str(root / "venv/bin/pip"), "install", "--quiet", str(wheel)], root, env, 1800)
    return root, env


def test_the_installed_quiz_lists_shows_verifies_exports_and_builds_the_site_from_any_folder(installed):
    root, env = installed
    quiz = str(root / "venv/bin/quiz")
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    env = {**env, "QUIZ_CACHE_DIR": str(root / "cache"), "QUIZ_DB": str(root / "progress.sqlite")}
    site_packages = next((root / "venv/lib").glob("python3*/site-packages"))
    before = _tree_digest(site_packages / "quiz") | _tree_digest(site_packages / "answers")

    listed = _run([quiz, "list", "--json"], elsewhere, env)
    ids = {card["id"] for card in json.loads(listed.stdout)}
    assert len(ids) >= 70 and "causal-masking" in ids

    shown = _run([quiz, "show", "causal-masking"], elsewhere, env)
    assert "Causal masking" in shown.stdout

    verified = _run([quiz, "verify", "causal-masking", "--json"], elsewhere, env)
    assert (
        verified.stdout.count('"passed": true')
        == len([line for line in verified.stdout.splitlines() if '"passed"' in line])
        > 0
    )

    _run([quiz, "export", "anki", str(elsewhere / "deck.apkg")], elsewhere, env)
    assert zipfile.is_zipfile(elsewhere / "deck.apkg")

    fetch_katex(root / "cache")  # into the installed quiz's cache (the same layout), so the build needs no registry
    _run([quiz, "site", "build", "--output", str(elsewhere / "site")], elsewhere, env, 900)
    assert (elsewhere / "site/index.html").is_file()
    assert (elsewhere / "site/masking/causal-masking.html").is_file()  # page files: they open from a folder

    assert _tree_digest(site_packages / "quiz") | _tree_digest(site_packages / "answers") == before, (
        "a command wrote into the installed package"
    )
