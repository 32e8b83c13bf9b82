"""Running MkDocs on the generated docs folder: ``build_site`` (skipped when nothing it reads has changed)
and ``serve_site`` (live reload)."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from quiz.deck import load_deck
from quiz.site.incremental import can_build_dirty
from quiz.site.options import DEFAULT_DOCS, DEFAULT_OUTPUT, HOOK, MKDOCS_YML, STATIC_ASSETS, Options, SiteError
from quiz.site.writer import Report, generate

PACKAGE = Path(__file__).resolve().parent
# Written into every folder a build creates or takes over: MkDocs empties its output folder before it writes
# (every name but dotfiles), so a build only ever writes into a folder that is new, empty, or has this file.
MARKER = ".quiz-site"
STAMP = ".quiz-build-stamp"  # the last build's inputs; a folder holding one was built by an earlier version


def claim_output(output: Path) -> None:
    """Make ``output`` a folder this program may empty and fill, or refuse: a folder with anything in it that
    no build made (a deck, notes, a home folder) is never handed to MkDocs, which would delete its files."""
    if output.exists() and not output.is_dir():
        raise SiteError(f"{output} is a file, not a folder; give --output a new or empty folder")
    try:
        ours = (output / MARKER).is_file() or (output / STAMP).is_file()
        if output.is_dir() and not ours and any(output.iterdir()):
            raise SiteError(
                f"{output} is not empty and was not made by `quiz site build`; nothing was written or deleted. "
                "Give --output a new or empty folder (MkDocs empties the folder it builds into)"
            )
        output.mkdir(parents=True, exist_ok=True)
        (output / MARKER).write_text("Built by `quiz site build`: the next build empties and rewrites this folder.\n")
    except OSError as exc:
        raise SiteError(f"cannot build into {output} ({exc.strerror or exc})") from None


@contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """One build at a time per docs folder: a second build waits, rather than rewriting (and removing as
    stale) the pages of the first while MkDocs reads them. The lock file sits beside the folder (a dotfile:
    nothing inside the docs folder survives ``Writer.remove_stale``)."""
    import fcntl

    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


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


class _WarningLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def inputs_digest(strict: bool) -> str:
    """Hash of what the MkDocs build reads besides the docs folder: the config and hook, every module of this
    package, the site's assets, and the versions of MkDocs and the theme."""
    from importlib.metadata import version

    packages = ("mkdocs", "mkdocs-material", "markdown", "pymdown-extensions", "pygments", "mkdocs-glightbox")
    digest = hashlib.sha256(f"{strict} {[version(p) for p in packages]}".encode())
    for path in (MKDOCS_YML, HOOK, *sorted(PACKAGE.glob("*.py"))):
        digest.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def build_stamp(docs_dir: Path, strict: bool) -> str:
    """Hash of everything the MkDocs build reads: ``inputs_digest`` and the docs folder."""
    digest = hashlib.sha256(inputs_digest(strict).encode())
    for path in sorted(docs_dir.rglob("*")):
        if path.is_file():
            digest.update(b"\0" + path.relative_to(docs_dir).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# What ``_build`` hands the hook of the MkDocs run it starts next: the report of the docs folder it has just
# generated (so the hook need not generate it again) and whether the run is a dirty one (for the hook to render its
# pages ahead in two processes, quiz.site.ahead). Only there: `quiz site serve` runs threads, which a fork must not
# copy, and generates in the hook.
_HANDED: dict[Path, tuple[Report, bool]] = {}


def take_generated(docs_dir: Path) -> tuple[Report, bool] | None:
    """(report, dirty) of the build ``build_site`` is running on ``docs_dir`` now, once; None otherwise."""
    return _HANDED.pop(docs_dir.resolve(), None)


def _mkdocs_build(output: Path, docs_dir: Path, options: Options, strict: bool, dirty: bool = False) -> None:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    warnings = _WarningLog()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(warnings)
    try:
        with _environment(options.env()):
            config = load_config(
                str(MKDOCS_YML), docs_dir=str(docs_dir.resolve()), site_dir=str(output.resolve()), strict=strict
            )
            build(config, dirty=dirty)
    except MkDocsException as exc:
        # MkDocs says only how many warnings aborted a strict build; the warnings themselves are the news.
        raise SiteError("\n".join([f"mkdocs build failed: {exc}", *warnings.messages])) from exc
    finally:
        logger.removeHandler(warnings)


def build_site(
    output: Path | None = None,
    docs_dir: Path | None = None,
    options: Options | None = None,
    strict: bool = True,
) -> Report:
    """Generate the pages and build the static site into ``output``; ``Report.mkdocs`` says whether MkDocs
    had to run."""
    options = options or Options()
    output, docs_dir = Path(output or DEFAULT_OUTPUT), Path(docs_dir or DEFAULT_DOCS)
    _refuse_overlap(output, docs_dir, options)
    with _exclusive(docs_dir):  # every CLI build shares the docs folder, so this also orders their outputs
        claim_output(output)
        return _build(output, docs_dir, options, strict)


def _refuse_overlap(output: Path, docs_dir: Path, options: Options) -> None:
    """The output folder is emptied: it must not hold the docs folder, the deck or its proofs."""
    emptied = output.resolve()
    for what, path in (
        ("the docs folder", docs_dir),
        ("the cards", options.questions),
        ("the proofs", options.answers),
    ):
        inside = Path(path).resolve()
        if inside == emptied or emptied in inside.parents:
            raise SiteError(f"--output {output} holds {what} ({path}), which the build would delete; choose another")


def _build(output: Path, docs_dir: Path, options: Options, strict: bool) -> Report:
    # Generating before MkDocs runs fails fast on an invalid deck and tells whether anything changed; the
    # hook generates again inside the build, which costs a deck load and finds every file up to date.
    report = generate(docs_dir, options)
    stamp_file = output / STAMP
    stamp = build_stamp(docs_dir, strict)
    if (output / "index.html").is_file() and stamp_file.is_file() and stamp_file.read_text() == stamp:
        # MkDocs has no incremental build; its output is a function of the docs folder and the config, so an
        # unchanged stamp means the site on disk is already this build. This keeps a no-change rebuild < 1 s.
        return replace(report, mkdocs=False)
    # Only the changed pages when the last build was made from the same code and the same files; the hook renders
    # the pages whose navigation an edit changed, and keeps the search index whole.
    dirty = (output / "index.html").is_file() and can_build_dirty(output, docs_dir, inputs_digest(strict))
    stamp_file.unlink(missing_ok=True)
    _HANDED[docs_dir.resolve()] = (report, dirty)
    try:
        _mkdocs_build(output, docs_dir, options, strict, dirty)
    finally:
        _HANDED.pop(docs_dir.resolve(), None)
    stamp_file.write_text(stamp)
    return replace(report, mkdocs=True)


def serve_site(address: str = "127.0.0.1:8000", docs_dir: Path | None = None, options: Options | None = None) -> None:
    """Serve the site with live reload; a change to a card or its proof regenerates the pages."""
    from mkdocs.commands.serve import serve

    options = options or Options()
    docs_dir = Path(docs_dir or DEFAULT_DOCS)
    load_deck(options.questions, options.answers, trust_answers=options.trust_answers)
    docs_dir.mkdir(parents=True, exist_ok=True)
    watch = [str(Path(options.questions).resolve()), str(Path(options.answers).resolve()), str(STATIC_ASSETS)]
    with _environment(options.env()):
        # dirty: an edit renders the pages it changes (quiz.site.incremental), not all of them
        serve(
            str(MKDOCS_YML),
            dev_addr=address,
            docs_dir=str(docs_dir.resolve()),
            watch=watch,
            livereload=True,
            build_type="dirty",
        )
