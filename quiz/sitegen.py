"""The study site, generated from the cards: one MkDocs page per card with its live evidence, figures and
proof source, topic indexes, an errata page built from the pitfalls, and a self-test page.

Three steps, each returning data so it can be tested without MkDocs:

1. ``prove_deck``: run every card's claims and figure functions in worker processes, cached by the hash of
   the card's answer module and the answers modules it imports, so an unchanged card is never run twice.
2. ``generate``: write the Markdown pages, figures, KaTeX and the self-test JSON into a docs folder.
3. ``build_site``: generate, then run MkDocs on ``site/mkdocs.yml`` (whose hook calls ``generate`` too, so
   plain ``mkdocs build``/``serve`` work), skipping MkDocs when nothing it reads has changed.

Nothing here imports torch: the proofs run in worker processes, and the pages are written from the cached
JSON records.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import html
import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any, ClassVar

from quiz.deck import DEFAULT_ANSWERS, DEFAULT_QUESTIONS, PROJECT_ROOT, Deck, load_deck
from quiz.errors import QuizError
from quiz.models import Card, Topic

SITE_DIR = PROJECT_ROOT / "site"
MKDOCS_YML = SITE_DIR / "mkdocs.yml"
STATIC_ASSETS = SITE_DIR / "assets"  # hand-written CSS and JS, copied into every generated docs folder
DEFAULT_DOCS = SITE_DIR / "docs"
DEFAULT_OUTPUT = SITE_DIR / "build"
DEFAULT_CACHE = PROJECT_ROOT / ".cache" / "site"

# Part of every cache key: bump it when the cached record's layout or the way it is produced changes.
RECORD_VERSION = "1"
# Hashed into every card's key even if its module does not import them: they decide what a proof returns and
# how its check is judged.
SHARED_PROOF_MODULES = ("evidence.py", "reference.py")

# KaTeX is vendored at build time with `npm pack` (the registry's ordinary client, configured as the machine
# has it), checked against the pinned integrity hash, and cached; a fresh machine needs the registry once, the
# built site never needs any network.
KATEX_VERSION = "0.16.22"
KATEX_INTEGRITY = "sha512-XCHRdUw4lf3SKBaJe4EvgqIuWwkPSo9XoeO8GjQW94Bp7TWv9hNhzZjZ+OH9yf1UmLygb7DIT5GSFQiyt16zYg=="
# What the site needs from KaTeX's dist folder; its README would become a page with broken links.
KATEX_FILES = re.compile(r"katex\.min\.(js|css)|contrib/auto-render\.min\.js|fonts/[\w-]+\.(woff2|woff|ttf)|LICENSE")
FIGURE_PREFIX = "figure_"


class SiteError(QuizError):
    def lines(self) -> list[str]:
        return str(self).splitlines()


@dataclass(frozen=True)
class Options:
    """Where the cards come from and where proofs are cached. The MkDocs hook reads them from the
    environment, because MkDocs gives a hook no other way to receive arguments."""

    questions: Path = DEFAULT_QUESTIONS
    answers: Path = DEFAULT_ANSWERS
    cache: Path = DEFAULT_CACHE
    workers: int = 2
    trust_answers: bool = False  # run proof modules from an answers folder other than the project's

    ENV: ClassVar[dict[str, str]] = {
        "questions": "QUIZ_QUESTIONS",
        "answers": "QUIZ_ANSWERS",
        "cache": "QUIZ_SITE_CACHE",
    }

    @classmethod
    def from_env(cls) -> Options:
        values: dict[str, Any] = {name: Path(os.environ[var]) for name, var in cls.ENV.items() if os.environ.get(var)}
        if os.environ.get("QUIZ_SITE_WORKERS"):
            values["workers"] = int(os.environ["QUIZ_SITE_WORKERS"])
        values["trust_answers"] = os.environ.get("QUIZ_TRUST_ANSWERS") == "1"
        return cls(**values)

    def env(self) -> dict[str, str]:
        return {
            **{var: str(Path(getattr(self, name)).resolve()) for name, var in self.ENV.items()},
            "QUIZ_SITE_WORKERS": str(self.workers),
            "QUIZ_TRUST_ANSWERS": "1" if self.trust_answers else "0",
        }


# --------------------------------------------------------------------------------------------------
# Proving: claims and figures, cached by module hash


@dataclass
class CardProof:
    """Everything the pages show about one card's proofs, as JSON-ready data."""

    card: str
    key: str
    claims: list[dict[str, Any]]
    figures: list[dict[str, Any]]  # {"name", "file", "caption"} or {"name", "error"}
    folder: Path | None = None  # where the figure files are

    @property
    def proved(self) -> bool:
        return all(c["passed"] for c in self.claims)

    def to_json(self) -> dict[str, Any]:
        return {"card": self.card, "key": self.key, "claims": self.claims, "figures": self.figures}


@dataclass
class ProofStats:
    cards_proved: int = 0  # cards whose proofs ran in this build
    proved_ids: list[str] = field(default_factory=list)
    cards_cached: int = 0
    claims_run: int = 0
    figures_run: int = 0
    seconds: float = 0.0


def _local_imports(path: Path) -> set[Path]:
    """The files of the ``answers`` package that a module imports directly."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "answers":
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # `from answers import x`
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.split(".")[0] == "answers")
    found = set()
    for name in names:
        parts = name.split(".")[1:]
        base = DEFAULT_ANSWERS.joinpath(*parts) if parts else DEFAULT_ANSWERS
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                found.add(candidate)
    return found


def proof_key(card: Card, answers_dir: Path = DEFAULT_ANSWERS) -> str:
    """Hash of everything a card's evidence and figures depend on: its answer module, the shared modules
    (evidence, reference) and every other answers module it imports, transitively, and the claim list."""
    module = Path(answers_dir) / f"{card.module}.py"
    files = {module, *(DEFAULT_ANSWERS / name for name in SHARED_PROOF_MODULES)}
    todo = [module]
    while todo:
        for dep in _local_imports(todo.pop()):
            if dep not in files:
                files.add(dep)
                todo.append(dep)
    digest = hashlib.sha256(f"{RECORD_VERSION}\n{card.module}\n".encode())
    digest.update("\n".join(claim.proof for claim in card.claims).encode())
    for path in sorted(files, key=lambda p: (p != module, str(p))):
        digest.update(b"\0" + path.name.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    return digest.hexdigest()[:20]


def _claim_record(result) -> dict[str, Any]:
    """A ClaimResult as JSON, with the texts the page shows formatted while the Evidence still exists."""
    from answers.evidence import format_value

    record = result.to_json()
    ev = result.evidence
    unit = f" {ev.unit}" if ev is not None and ev.unit else ""
    record["text"] = (
        {
            "measured": format_value(ev.measured) + unit,
            "criterion": ev.criterion() + unit,
            "counterfactual_measured": format_value(ev.counterfactual_measured) + unit,
            "details": {key: format_value(value) for key, value in ev.details.items()},
        }
        if ev is not None
        else None
    )
    return record


def figure_functions(module) -> list:
    """Public ``figure_*`` functions defined in ``module``, in source order."""
    import inspect

    found = [
        fn
        for name, fn in vars(module).items()
        if name.startswith(FIGURE_PREFIX) and inspect.isfunction(fn) and fn.__module__ == module.__name__
    ]
    return sorted(found, key=lambda fn: fn.__code__.co_firstlineno)


def _render_figures(card: Card, answers_dir: Path, trusted: bool, folder: Path) -> list[dict[str, Any]]:
    import inspect

    import matplotlib

    matplotlib.use("Agg")  # no display in a worker process
    import matplotlib.pyplot as plt

    from quiz.runner import proof_module

    # Fixed ids and no date inside the SVG: an unchanged figure is byte-identical, so rebuilds rewrite nothing.
    matplotlib.rcParams["svg.hashsalt"] = "transformer-proofs"
    try:
        module = proof_module(card, answers_dir, trusted)
    except QuizError:
        raise  # untrusted answers: the user's decision, reported by the caller
    except Exception as exc:  # the claims report the same import error; the page shows it once
        return [{"name": "(module)", "error": f"{type(exc).__name__}: {exc}"}]
    figures = []
    for fn in figure_functions(module):
        name = fn.__name__.removeprefix(FIGURE_PREFIX)
        caption = inspect.getdoc(fn) or name.replace("_", " ")
        try:
            fig = fn()
            fig.savefig(folder / f"{name}.svg", format="svg", bbox_inches="tight", metadata={"Date": None})
            plt.close(fig)
        except Exception as exc:  # a broken figure is shown as such on its card, not a failed build
            figures.append({"name": name, "error": f"{type(exc).__name__}: {exc}", "caption": caption})
            continue
        figures.append({"name": name, "file": f"{name}.svg", "caption": caption})
    return figures


def prove_card(card: Card, answers_dir: Path, trusted: bool, folder: Path) -> dict[str, Any]:
    """Run one card's claims and figures; figures are written into ``folder``. Returns the JSON record."""
    from quiz.runner import run_claim

    folder.mkdir(parents=True, exist_ok=True)
    claims = [_claim_record(run_claim(card, i, answers_dir, trusted=trusted)) for i in range(len(card.claims))]
    figures = _render_figures(card, answers_dir, trusted, folder)
    return {"card": card.id, "claims": claims, "figures": figures}


def _prove_in_worker(job: tuple[Card, Path, bool, Path]) -> dict[str, Any]:
    return prove_card(*job)


def _set_environment(values: dict[str, str]) -> None:
    os.environ.clear()
    os.environ.update(values)


def _cache_folder(cache: Path, card_id: str, key: str) -> Path:
    return cache / "proofs" / card_id / key


def _read_cached(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / "record.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def prove_deck(deck: Deck, cache: Path = DEFAULT_CACHE, workers: int = 2) -> tuple[dict[str, CardProof], ProofStats]:
    """Every card's proofs, from the cache where the card's key is unchanged, run otherwise."""
    start = time.perf_counter()
    stats = ProofStats()
    proofs: dict[str, CardProof] = {}
    todo: list[tuple[Card, str, Path]] = []
    for card in deck:
        key = proof_key(card, deck.answers_dir)
        folder = _cache_folder(cache, card.id, key)
        record = _read_cached(folder)
        if record is not None:
            stats.cards_cached += 1
            proofs[card.id] = CardProof(card.id, key, record["claims"], record["figures"], folder)
        else:
            todo.append((card, key, folder))

    def finished(card: Card, key: str, folder: Path, record: dict[str, Any]) -> None:
        proof = CardProof(card.id, key, record["claims"], record["figures"], folder)
        proofs[card.id] = proof
        stats.cards_proved += 1
        stats.proved_ids.append(card.id)
        stats.claims_run += len(proof.claims)
        stats.figures_run += len(proof.figures)
        # A claim that fails may be an accident of this run (a flaky proof, a half-saved file): prove it again
        # next time. A figure that raises is shown as such, and cached like any other output of the module.
        if proof.proved:
            (folder / "record.json").write_text(json.dumps(proof.to_json(), indent=1, ensure_ascii=False))
            for old in folder.parent.iterdir():
                if old != folder and old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)

    jobs = [(card, deck.answers_dir, deck.trusted, folder) for card, _, folder in todo]
    if todo:
        # Proofs always run in fresh worker processes, even for one card: `quiz site serve` lives on between
        # builds, and a module imported into it once would be proved again with its old code. Each worker
        # imports torch once; with one card per task both cores stay busy until the end. Forking is fastest,
        # but only safe while this process has not imported torch (its thread pools do not survive a fork),
        # which a test run may have done: use a clean fork server then.
        context = get_context("forkserver" if "torch" in sys.modules else "fork")
        pool = ProcessPoolExecutor(
            max_workers=max(1, min(workers, len(todo))),
            mp_context=context,
            # A fork server keeps the environment it started with; proofs must see the caller's current one.
            initializer=_set_environment,
            initargs=(dict(os.environ),),
        )
        with pool:
            for (card, key, folder), record in zip(todo, pool.map(_prove_in_worker, jobs), strict=True):
                finished(card, key, folder, record)
    stats.seconds = time.perf_counter() - start
    return {card.id: proofs[card.id] for card in deck}, stats


# --------------------------------------------------------------------------------------------------
# Source code of the proofs, read with ast (the page shows the real module's text, not a copy)


@dataclass(frozen=True)
class Source:
    name: str
    line: int
    text: str
    helpers: tuple[str, ...]  # private module-level functions it calls, directly or through each other


def function_sources(path: Path) -> dict[str, Source]:
    """Every top-level function of the module at ``path``: its exact source text (decorators included,
    as ``inspect.getsource`` gives it) and the private helpers it depends on."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    tree = ast.parse(text)
    nodes = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    calls = {
        name: {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in nodes and n.id != name}
        for name, node in nodes.items()
    }
    sources = {}
    for name, node in nodes.items():
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        seen: set[str] = set()
        todo = [c for c in calls[name] if c.startswith("_")]
        while todo:
            helper = todo.pop()
            if helper not in seen:
                seen.add(helper)
                todo.extend(c for c in calls[helper] if c.startswith("_") and c != name)
        helpers = tuple(sorted(seen, key=lambda h: nodes[h].lineno))
        sources[name] = Source(name, node.lineno, "".join(lines[first - 1 : node.end_lineno]), helpers)
    return sources


# --------------------------------------------------------------------------------------------------
# Markdown for each page


def card_path(card: Card) -> str:
    """Where a card's page lives in the docs folder."""
    return f"{card.topic.value}/{card.id}.md"


def _indent(text: str, by: str = "    ") -> str:
    return "\n".join(by + line if line.strip() else "" for line in text.strip().splitlines())


def _cell(text: str) -> str:
    """Text safe inside one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _code(text: str) -> str:
    text = _cell(text)
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}"


def _relative(from_page: str, to_page: str) -> str:
    return os.path.relpath(to_page, os.path.dirname(from_page) or ".").replace(os.sep, "/")


def _verdict(record: dict[str, Any]) -> str:
    if record["error"]:
        return ":material-alert: error"
    if record["passed"]:
        return ":material-check-circle:{ .proved } proved"
    if not record["holds"]:
        return ":material-close-circle:{ .refuted } does not hold"
    return ":material-help-circle:{ .refuted } counterfactual also holds"


def _counterfactual_outcome(record: dict[str, Any]) -> str:
    return "still holds — the check cannot tell" if record["counterfactual_holds"] else "fails, as it must"


def evidence_table(card: Card, proof: CardProof) -> str:
    rows = [
        "| Claim | Measured | Expected | Counterfactual | Result |",
        "| --- | --- | --- | --- | --- |",
    ]
    for claim, record in zip(card.claims, proof.claims, strict=True):
        text = record.get("text")
        statement = f"[{_cell(claim.statement)}](#claim-{claim.proof})"
        if text is None:
            rows.append(f"| {statement} | — | — | — | {_verdict(record)}: {_code(record['error'])} |")
            continue
        counterfactual = (
            f"{_cell(record['counterfactual'])}: {_code(text['counterfactual_measured'])} → "
            f"{_counterfactual_outcome(record)}"
        )
        rows.append(
            f"| {statement} | {_code(text['measured'])} | {_code(text['criterion'])} | {counterfactual} "
            f"| {_verdict(record)} |"
        )
    return "\n".join(rows)


def _claim_section(card: Card, record: dict[str, Any], source: Source | None, sources: dict[str, Source]) -> str:
    claim = next(c for c in card.claims if c.proof == record["claim"])
    parts = [f"### {claim.statement} {{ #claim-{claim.proof} }}", ""]
    text = record.get("text")
    if text is None:
        parts += ['!!! danger "The proof could not run"', "", f"    `{record['error']}`", ""]
    else:
        parts += [
            f"- **Measured:** {_code(text['measured'])}",
            f"- **Expected:** {_code(text['criterion'])} — {record['derivation']}",
            f"- **Counterfactual** ({record['counterfactual']}): {_code(text['counterfactual_measured'])} → "
            f"{_counterfactual_outcome(record)}",
            f"- **Result:** {_verdict(record)}",
        ]
        parts += [f"    - {_cell(key)}: {_code(value)}" for key, value in text["details"].items()]
        if text["details"]:
            parts.insert(len(parts) - len(text["details"]), "- **Details:**")
        parts.append("")
    if source is not None:
        module = f"answers/{card.module}.py"
        parts += [f'```python title="{module}, line {source.line}"', source.text.rstrip("\n"), "```", ""]
        if source.helpers:
            helper_text = "\n\n".join(sources[h].text.rstrip("\n") for h in source.helpers)
            names = ", ".join(f"`{h}`" for h in source.helpers)
            parts += [
                f'??? abstract "Helpers it calls: {names}"',
                "",
                "    ```python",
                _indent(helper_text),
                "    ```",
                "",
            ]
    return "\n".join(parts)


def _figure_block(card: Card, figure: dict[str, Any]) -> str:
    if "error" in figure:
        return f'!!! warning "Figure `{figure["name"]}` failed"\n\n    `{figure["error"]}`\n'
    src = f"../assets/figures/{card.id}/{figure['file']}"
    alt = _cell(figure["caption"].splitlines()[0]).replace("[", "(").replace("]", ")").replace("$", "")
    return (
        '<figure class="proof-figure" markdown="1">\n\n'
        f"![{alt}]({src})\n\n"
        f'<figcaption markdown="1">{" ".join(figure["caption"].split())}</figcaption>\n\n'
        "</figure>\n"
    )


def _pitfall_block(card: Card, pitfall, anchor: str = "") -> str:
    kind = "failure" if pitfall.verdict == "false" else "warning"
    label = "False" if pitfall.verdict == "false" else "Imprecise"
    statement = next(c.statement for c in card.claims if c.proof == pitfall.proof)
    meta = [f"**Verdict:** {pitfall.verdict}"]
    if pitfall.source:
        meta.append(f"**Source:** {pitfall.source}")
    body = "\n\n".join(
        [
            f"> {' '.join(pitfall.myth.split())}",
            pitfall.truth.strip(),
            " · ".join(meta),
            f"**Proof:** [{statement}]({anchor}#claim-{pitfall.proof})",
        ]
    )
    return f'!!! {kind} "{label}"\n\n{_indent(body)}\n'


def card_page(card: Card, deck: Deck, proof: CardProof, sources: dict[str, Source]) -> str:
    here = card_path(card)
    tags = "\n".join(f"  - {tag}" for tag in card.tags)
    proved = sum(r["passed"] for r in proof.claims)
    parts = [
        "---",
        f"title: {json.dumps(card.title, ensure_ascii=False)}",
        f"tags:\n{tags}",
        "---",
        "",
        f"# {card.title}",
        "",
        f'<p class="card-meta">{html.escape(card.topic.title)} · {card.difficulty.value} · '
        f"{proved} of {len(card.claims)} claims proved</p>",
        "",
        "## Question",
        "",
        card.question.strip(),
        "",
        '??? success "Answer"',
        "",
        _indent(card.answer),
        "",
        "## Explanation",
        "",
        card.explanation.strip(),
        "",
    ]
    if proof.figures:
        parts += ["## Figures", "", *(_figure_block(card, figure) for figure in proof.figures)]
    if card.pitfalls:
        parts += ["## Pitfalls", "", *(_pitfall_block(card, pitfall) for pitfall in card.pitfalls)]
    parts += ["## Evidence", "", evidence_table(card, proof), ""]
    if card.unmeasured:
        parts += ['!!! note "Not measured here"', "", _indent(card.unmeasured), ""]
    parts += ["## Proofs", ""]
    for record in proof.claims:
        parts.append(_claim_section(card, record, sources.get(record["claim"]), sources))
    if card.related:
        parts += ["## Related", ""]
        for other in card.related:
            if other in deck.cards:
                target = deck.cards[other]
                parts.append(f"- [{target.title}]({_relative(here, card_path(target))})")
        parts.append("")
    if card.references:
        parts += ["## References", ""]
        parts += [f"- [{r.title}]({r.url})" if r.url else f"- {r.title}" for r in card.references]
        parts.append("")
    if card.asked_in:
        parts += ["## Asked as", ""]
        parts += [f"- {' '.join(q.question.split())} *(in “{q.document}”)*" for q in card.asked_in]
        parts.append("")
    return "\n".join(parts)


def _first_sentence(text: str) -> str:
    flat = " ".join(text.split())
    end = flat.find("? ")
    return flat if end < 0 else flat[: end + 1]


def topic_page(topic: Topic, cards: list[Card], proofs: dict[str, CardProof]) -> str:
    parts = [f"# {topic.title}", "", "| Card | Difficulty | Claims proved |", "| --- | --- | --- |"]
    for card in cards:
        proved = sum(r["passed"] for r in proofs[card.id].claims)
        parts.append(
            f"| [{_cell(card.title)}]({card.id}.md) | {card.difficulty.value} | {proved} / {len(card.claims)} |"
        )
    parts.append("")
    for card in cards:
        parts += [f"## [{card.title}]({card.id}.md)", "", _first_sentence(card.question), ""]
    return "\n".join(parts)


def errata_page(deck: Deck, proofs: dict[str, CardProof]) -> str:
    """Every pitfall of every card: what the source material gets wrong, with the claim that shows it."""
    entries = [(card, pitfall) for card in deck for pitfall in card.pitfalls]
    entries.sort(key=lambda e: (e[0].topic.title, e[0].id))
    false = sum(p.verdict == "false" for _, p in entries)
    parts = [
        "# Errata",
        "",
        f"What the source material gets wrong: {len(entries)} statements, {false} false and "
        f"{len(entries) - false} imprecise, each refuted or sharpened by a claim that runs.",
        "",
        "| What is said | Verdict | Source | Refuted by |",
        "| --- | --- | --- | --- |",
    ]
    for i, (card, pitfall) in enumerate(entries, 1):
        record = next(r for r in proofs[card.id].claims if r["claim"] == pitfall.proof)
        link = f"{card_path(card)}#claim-{pitfall.proof}"
        parts.append(
            f"| [{_cell(_short(pitfall.myth))}](#erratum-{i}) | {pitfall.verdict} "
            f"| {_cell(pitfall.source or '—')} | [{_cell(card.title)}]({link}) {_verdict(record)} |"
        )
    parts.append("")
    for i, (card, pitfall) in enumerate(entries, 1):
        parts += [
            f"## {_short(pitfall.myth, 70)} {{ #erratum-{i} }}",
            "",
            f"From [{card.title}]({card_path(card)}).",
            "",
            _pitfall_block(card, pitfall, anchor=card_path(card)),
            "",
        ]
    return "\n".join(parts)


def _short(text: str, limit: int = 100) -> str:
    """One line of at most ``limit`` characters, cut at a word, for tables and headings."""
    flat = " ".join(text.split()).replace("$", "")  # half a formula would not render; drop the delimiters
    if len(flat) <= limit:
        return flat
    return flat[: flat.rfind(" ", 0, limit - 1)].rstrip(",;:") + " …"


def home_page(deck: Deck, proofs: dict[str, CardProof], topics: list[Topic]) -> str:
    claims = [r for p in proofs.values() for r in p.claims]
    proved = sum(r["passed"] for r in claims)
    figures = sum("file" in f for p in proofs.values() for f in p.figures)
    parts = [
        "# Transformer proofs",
        "",
        f"{len(deck)} interview questions about Transformers. Every answer is backed by claims that were "
        f"run when this site was built: **{proved} of {len(claims)} claims proved**, each against a "
        f"counterfactual that must fail, with {figures} figures drawn from the same code.",
        "",
        "- [Errata](errata.md): what common answers get wrong, with the proof",
        "- [Self-test](self-test.md): flip cards, with your progress kept in this browser",
        "- [Tags](tags.md)",
        "",
        "| Topic | Cards |",
        "| --- | --- |",
    ]
    for topic in topics:
        count = sum(card.topic == topic for card in deck)
        parts.append(f"| [{topic.title}]({topic.value}/index.md) | {count} |")
    return "\n".join(parts) + "\n"


TAGS_PAGE = "# Tags\n\n<!-- material/tags -->\n"

SELFTEST_PAGE = """\
# Self-test

Flip a card, answer it in your head, then say whether you knew it. Cards you did not know come back
first. Your progress stays in this browser (localStorage) and nowhere else.

<div id="selftest" data-src="../assets/selftest.json" data-root="../">
<noscript>The self-test needs JavaScript.</noscript>
</div>
"""


def _inline_html(text: str) -> str:
    """Card Markdown as HTML for the self-test, with math left in arithmatex spans for KaTeX."""
    import markdown

    return markdown.markdown(
        text,
        extensions=["pymdownx.arithmatex", "tables"],
        extension_configs={"pymdownx.arithmatex": {"generic": True}},
    )


def selftest_data(deck: Deck) -> list[dict[str, Any]]:
    return [
        {
            "id": card.id,
            "title": card.title,
            "topic": card.topic.title,
            "difficulty": card.difficulty.value,
            "question": _inline_html(card.question),
            "answer": _inline_html(card.answer),
            "url": f"{card.topic.value}/{card.id}/",
        }
        for card in deck
    ]


# --------------------------------------------------------------------------------------------------
# KaTeX, vendored from the npm registry


def _npm_pack(spec: str) -> bytes:
    """The package tarball for ``spec``, fetched by npm itself (no install, no scripts run)."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            ["npm", "pack", spec, "--ignore-scripts", "--silent", "--pack-destination", folder],
            check=True,
            capture_output=True,
            timeout=300,
        )
        [tarball] = Path(folder).glob("*.tgz")
        return tarball.read_bytes()


def _fetch_katex(cache: Path) -> Path:
    """The KaTeX ``dist`` folder, downloaded once into the cache and verified against the pinned hash.
    ``QUIZ_KATEX_TARBALL`` may name a local copy of the same tarball for machines without the registry."""
    target = cache / "vendor" / f"katex-{KATEX_VERSION}"
    if (target / "katex.min.js").is_file():
        return target
    shared = DEFAULT_CACHE / "vendor" / target.name
    if (shared / "katex.min.js").is_file():  # the same files for every cache: copy, do not download again
        shutil.copytree(shared, target, dirs_exist_ok=True)
        return target
    local = os.environ.get("QUIZ_KATEX_TARBALL")
    try:
        data = Path(local).read_bytes() if local else _npm_pack(f"katex@{KATEX_VERSION}")
    except (OSError, subprocess.SubprocessError) as exc:
        raise SiteError(
            f"cannot fetch KaTeX {KATEX_VERSION} ({exc}); the site renders math from a local copy: let "
            "`npm pack katex` reach the npm registry once, or set QUIZ_KATEX_TARBALL to the downloaded .tgz"
        ) from exc
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    if integrity != KATEX_INTEGRITY:
        raise SiteError(f"KaTeX tarball does not match its pinned sha512 ({integrity}); refusing to use it")
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.startswith("package/dist/"):
                out = partial / member.name.removeprefix("package/dist/")
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(tar.extractfile(member).read())
        licence = tar.extractfile("package/LICENSE")
        (partial / "LICENSE").write_bytes(licence.read() if licence else b"")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)  # only a complete copy ever has the final name
    return target


# --------------------------------------------------------------------------------------------------
# Writing the docs folder


@dataclass
class Report:
    cards: int
    claims: int
    proved: int
    pitfalls: int
    figures: int
    pages: list[str]
    nav: list[Any]
    stats: ProofStats
    written: int = 0  # files whose content changed in this generation
    failures: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "cards": self.cards,
            "claims": self.claims,
            "proved": self.proved,
            "pitfalls": self.pitfalls,
            "figures": self.figures,
            "cards_proved": self.stats.cards_proved,
            "cards_cached": self.stats.cards_cached,
            "proved_ids": self.stats.proved_ids,
            "claims_run": self.stats.claims_run,
            "proof_seconds": round(self.stats.seconds, 2),
            "written": self.written,
            "failures": self.failures,
        }


class _Writer:
    """Writes files only when their content changes, and removes stale ones: ``mkdocs serve`` watches the
    docs folder, so rewriting identical files would make it rebuild for ever."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.kept: set[Path] = set()
        self.written = 0

    def bytes(self, relative: str, data: bytes) -> None:
        path = self.root / relative
        self.kept.add(path)
        if path.is_file() and path.read_bytes() == data:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.written += 1

    def text(self, relative: str, text: str) -> None:
        self.bytes(relative, text.encode("utf-8"))

    def copy_tree(self, source: Path, relative: str, pattern: re.Pattern[str] | None = None) -> None:
        for path in sorted(source.rglob("*")):
            if path.is_file() and (pattern is None or pattern.fullmatch(path.relative_to(source).as_posix())):
                self.bytes(f"{relative}/{path.relative_to(source).as_posix()}", path.read_bytes())

    def remove_stale(self) -> None:
        for path in sorted(self.root.rglob("*"), reverse=True):
            if path.is_file() and path not in self.kept:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def generate(docs_dir: Path, options: Options | None = None, deck: Deck | None = None) -> Report:
    """Write the whole docs folder for ``options.questions``: pages, figures, assets, self-test data."""
    options = options or Options()
    if deck is None:
        deck = load_deck(options.questions, options.answers, trust_answers=options.trust_answers)
    docs_dir.mkdir(parents=True, exist_ok=True)
    proofs, stats = prove_deck(deck, options.cache, options.workers)
    writer = _Writer(docs_dir)
    topics = [topic for topic in Topic if any(card.topic == topic for card in deck)]
    nav: list[Any] = [{"Home": "index.md"}]
    for topic in topics:
        cards = sorted(deck.select(topic=topic.value), key=lambda c: (c.difficulty != "easy", c.title))
        writer.text(f"{topic.value}/index.md", topic_page(topic, cards, proofs))
        for card in cards:
            module = Path(deck.answers_dir) / f"{card.module}.py"
            sources = function_sources(module) if module.is_file() else {}
            writer.text(card_path(card), card_page(card, deck, proofs[card.id], sources))
            for figure in proofs[card.id].figures:
                if "file" in figure:
                    data = (proofs[card.id].folder / figure["file"]).read_bytes()
                    writer.bytes(f"assets/figures/{card.id}/{figure['file']}", data)
        nav.append({topic.title: [f"{topic.value}/index.md", *(card_path(card) for card in cards)]})
    writer.text("index.md", home_page(deck, proofs, topics))
    writer.text("errata.md", errata_page(deck, proofs))
    writer.text("self-test.md", SELFTEST_PAGE)
    writer.text("tags.md", TAGS_PAGE)
    writer.text("assets/selftest.json", json.dumps(selftest_data(deck), ensure_ascii=False, indent=1))
    writer.copy_tree(STATIC_ASSETS, "assets")
    writer.copy_tree(_fetch_katex(options.cache), "assets/katex", KATEX_FILES)
    writer.remove_stale()
    nav += [{"Errata": "errata.md"}, {"Self-test": "self-test.md"}, {"Tags": "tags.md"}]
    claims = [r for p in proofs.values() for r in p.claims]
    return Report(
        cards=len(deck),
        claims=len(claims),
        proved=sum(r["passed"] for r in claims),
        pitfalls=sum(len(card.pitfalls) for card in deck),
        figures=sum("file" in f for p in proofs.values() for f in p.figures),
        pages=sorted(p.relative_to(docs_dir).as_posix() for p in writer.kept if p.suffix == ".md"),
        nav=nav,
        stats=stats,
        written=writer.written,
        failures=[f"{r['card']}: {r['claim']}" for r in claims if not r["passed"]],
    )


# --------------------------------------------------------------------------------------------------
# MkDocs


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def build_site(
    output: Path | None = None,
    docs_dir: Path | None = None,
    options: Options | None = None,
    strict: bool = True,
) -> dict[str, Any]:
    """Generate the pages and build the static site into ``output``; return the generation summary."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    options = options or Options()
    output, docs_dir = Path(output or DEFAULT_OUTPUT), Path(docs_dir or DEFAULT_DOCS)
    # Generating before MkDocs runs fails fast on an invalid deck and tells whether anything changed; the
    # hook generates again inside the build, which costs a deck load and finds every file up to date.
    summary = generate(docs_dir, options).summary()
    stamp_file = output / ".quiz-build-stamp"
    stamp = _build_stamp(docs_dir, strict)
    if (output / "index.html").is_file() and stamp_file.is_file() and stamp_file.read_text() == stamp:
        # MkDocs has no incremental build; its output is a function of the docs folder and the config, so an
        # unchanged stamp means the site on disk is already this build. This keeps a no-change rebuild < 1 s.
        return {**summary, "mkdocs": False}
    warnings = _WarningLog()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(warnings)
    try:
        with _environment(options.env()):
            config = load_config(
                str(MKDOCS_YML), docs_dir=str(docs_dir.resolve()), site_dir=str(output.resolve()), strict=strict
            )
            build(config)
    except MkDocsException as exc:
        # MkDocs says only how many warnings aborted a strict build; the warnings themselves are the news.
        raise SiteError("\n".join([f"mkdocs build failed: {exc}", *warnings.messages])) from exc
    finally:
        logger.removeHandler(warnings)
    stamp_file.write_text(stamp)
    return {**summary, "mkdocs": True}


def _build_stamp(docs_dir: Path, strict: bool) -> str:
    """Hash of everything the MkDocs build reads: the docs folder, the config and hook, and the versions of
    MkDocs and the theme."""
    from importlib.metadata import version

    digest = hashlib.sha256(f"{strict} {version('mkdocs')} {version('mkdocs-material')}".encode())
    for path in (MKDOCS_YML, SITE_DIR / "hooks.py", Path(__file__)):
        digest.update(path.read_bytes())
    for path in sorted(docs_dir.rglob("*")):
        if path.is_file():
            digest.update(b"\0" + path.relative_to(docs_dir).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class _WarningLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def serve_site(address: str = "127.0.0.1:8000", docs_dir: Path | None = None, options: Options | None = None) -> None:
    """Serve the site with live reload; a change to a card or its proof regenerates the pages."""
    from mkdocs.commands.serve import serve

    options = options or Options()
    docs_dir = Path(docs_dir or DEFAULT_DOCS)
    load_deck(options.questions, options.answers, trust_answers=options.trust_answers)
    docs_dir.mkdir(parents=True, exist_ok=True)
    watch = [str(Path(options.questions).resolve()), str(Path(options.answers).resolve()), str(STATIC_ASSETS)]
    with _environment(options.env()):
        serve(str(MKDOCS_YML), dev_addr=address, docs_dir=str(docs_dir.resolve()), watch=watch, livereload=True)
