"""Rebuilding only the pages an edit changes: MkDocs' dirty build renders a page only when its source is newer
than its output, which is right for the page whose Markdown changed (the writer rewrites only changed files) but
not for the pages whose navigation shows its title. This module names those pages, touches their sources so
MkDocs renders them too, and keeps the search index whole (a dirty build indexes only the pages it renders).

A record in the output folder says what the last successful build drew in each page's navigation. It is removed
when a build starts and written when it ends, so a failed build is followed by a full one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

RECORD = ".quiz-pages.json"
_DIRTY_WARNING = "A 'dirty' build is being performed"


def _flatten(nav: list[Any], group: str | None, out: list[tuple[str, str, str | None]]) -> None:
    for item in nav:
        ((title, value),) = item.items()
        if isinstance(value, str):
            out.append((value, title, group))
        else:
            _flatten(value, title, out)


def nav_contexts(nav: list[Any]) -> dict[str, str]:
    """For every page in ``nav``: a digest of what its rendered navigation shows with navigation.prune on. That is
    every entry above the topics and every topic's title (the pruned sidebar), the entries of the page's own
    group, and the previous and next pages (the footer)."""
    pages: list[tuple[str, str, str | None]] = []
    _flatten(nav, None, pages)
    groups: dict[str | None, list[tuple[str, str]]] = {}
    for path, title, group in pages:
        groups.setdefault(group, []).append((path, title))
    skeleton = [entry for entry in pages if entry[2] is None or entry[0].endswith("/index.md")]
    contexts = {}
    for i, (path, title, group) in enumerate(pages):
        drawn = {
            "skeleton": skeleton,
            "group": groups[group] if group is not None else [],
            "previous": pages[i - 1][:2] if i > 0 else None,
            "next": pages[i + 1][:2] if i + 1 < len(pages) else None,
            "title": title,
        }
        contexts[path] = hashlib.sha256(json.dumps(drawn, ensure_ascii=False).encode()).hexdigest()
    return contexts


def docs_files(docs_dir: Path) -> list[str]:
    return sorted(p.relative_to(docs_dir).as_posix() for p in docs_dir.rglob("*") if p.is_file())


def can_build_dirty(site_dir: Path, docs_dir: Path, inputs: str) -> bool:
    """Whether only changed pages need rendering: the last build succeeded with the same config and code
    (``inputs``) and the same set of files (a dirty build never removes the output of a removed page)."""
    try:
        record = json.loads((site_dir / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return record.get("inputs") == inputs and record.get("files") == docs_files(docs_dir)


def touch_renamed(docs_dir: Path, site_dir: Path, nav: list[Any]) -> list[str]:
    """Make MkDocs render every page whose navigation differs from the last build's; returns those pages. Removes
    the record until ``save_record`` writes the new one."""
    record_file = site_dir / RECORD
    try:
        old = json.loads(record_file.read_text(encoding="utf-8")).get("nav", {})
    except (OSError, ValueError):
        old = {}
    record_file.unlink(missing_ok=True)
    contexts = nav_contexts(nav)
    touched = [path for path, digest in contexts.items() if old.get(path) != digest]
    for path in touched:
        source = docs_dir / path
        if source.is_file() and old:
            os.utime(source)  # newer than its output: a dirty build renders it
    return touched


def save_record(site_dir: Path, docs_dir: Path, nav: list[Any], inputs: str) -> None:
    record = {"inputs": inputs, "files": docs_files(docs_dir), "nav": nav_contexts(nav)}
    (site_dir / RECORD).write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")


class QuietDirty(logging.Filter):
    """Drops MkDocs' warning that a dirty build may leave navigation stale (this module keeps it current), which
    a strict build would otherwise count as a failure."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_DIRTY_WARNING)


# ---- The search index of a dirty build: the entries of the pages it rendered, the last build's for the rest


def _page(location: str) -> str:
    return location.split("#", 1)[0]


def merge_index(
    previous: dict[str, Any] | None, current: dict[str, Any], rendered: set[str], pages: set[str]
) -> dict[str, Any]:
    """``current``'s entries for the pages in ``rendered``, ``previous``'s for every other page that still exists
    (in ``pages``), in the previous order (a page's entries stay together)."""
    if not previous:
        return current
    fresh: dict[str, list[dict[str, Any]]] = {}
    for entry in current["docs"]:
        fresh.setdefault(_page(entry["location"]), []).append(entry)
    docs: list[dict[str, Any]] = []
    placed: set[str] = set()
    for entry in previous["docs"]:
        page = _page(entry["location"])
        if page in rendered:
            if page not in placed:
                docs += fresh.get(page, [])
                placed.add(page)
        elif page in pages:
            docs.append(entry)
    for page, entries in fresh.items():
        if page not in placed:
            docs += entries
    return {**current, "docs": docs}


# ---- Rendered Markdown, kept between builds: a page whose navigation changed but whose Markdown did not is drawn
# again from its stored HTML (the theme and the search index need only that), not rendered again


def _toc_data(items: Any) -> list[dict[str, Any]]:
    return [{"title": i.title, "id": i.id, "level": i.level, "children": _toc_data(i.children)} for i in items]


def _toc_items(data: list[dict[str, Any]]) -> list[Any]:
    from mkdocs.structure.toc import AnchorLink

    items = []
    for entry in data:
        link = AnchorLink(entry["title"], entry["id"], entry["level"])
        link.children = _toc_items(entry["children"])
        items.append(link)
    return items


class RenderCache:
    """Per page, the HTML, table of contents, anchors and title that its Markdown rendered to, under a key of
    the Markdown, the build's inputs and the set of files (links resolve against it). Entries are written only
    when a build logged no warning, so a page that failed a strict build is rendered, and fails, again."""

    def __init__(self, folder: Path, inputs: str, files: list[str]) -> None:
        self.folder = folder
        self.pages = [name for name in files if name.endswith(".md")]
        self.base = hashlib.sha256((inputs + "\0" + "\0".join(files)).encode()).hexdigest()
        self.hits: dict[str, dict[str, Any]] = {}
        self.fresh: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, str] = {}
        self.warnings = _Count()
        logging.getLogger("mkdocs").addHandler(self.warnings)

    def _file(self, src_uri: str) -> Path:
        return self.folder / (hashlib.sha256(src_uri.encode()).hexdigest()[:32] + ".json")

    def _key(self, markdown: str) -> str:
        return hashlib.sha256((self.base + "\0" + markdown).encode()).hexdigest()

    def _stored(self, src_uri: str, key: str) -> dict[str, Any] | None:
        """What the page rendered to, if it was this Markdown: rendered ahead in this build, or stored on disk."""
        entry = self.fresh.get(src_uri)
        if entry is None:
            try:
                entry = json.loads(self._file(src_uri).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
        return entry if entry.get("key") == key else None

    def before(self, page: Any, markdown: str) -> str:
        """The Markdown to render: empty when the stored HTML will be used instead."""
        key = self._key(markdown)
        self.keys[page.file.src_uri] = key
        stored = self._stored(page.file.src_uri, key)
        if stored is None:
            return markdown
        self.hits[page.file.src_uri] = stored
        return ""

    def miss_size(self, page: Any, config: Any) -> int:
        """How much Markdown the page will render, 0 if it will be drawn from the store (``quiz.site.ahead``)."""
        try:
            page.read_source(config)
        except Exception:  # MkDocs reads it again, and reports what is wrong
            return 0
        return 0 if self._stored(page.file.src_uri, self._key(page.markdown)) else len(page.markdown)

    def after(self, page: Any, content: str) -> str:
        """The page's HTML: the stored one on a hit (with its contents, anchors and title), else ``content``."""
        from mkdocs.structure.toc import TableOfContents

        stored = self.hits.get(page.file.src_uri)
        if stored is not None:
            page.toc = TableOfContents(_toc_items(stored["toc"]))
            page.present_anchor_ids = set(stored["anchors"])
            page._title_from_render = stored["title"]
            return stored["content"]
        self.fresh[page.file.src_uri] = {
            "key": self.keys.get(page.file.src_uri),
            "content": content,
            "toc": _toc_data(page.toc),
            "anchors": sorted(page.present_anchor_ids or ()),
            "title": getattr(page, "_title_from_render", None),
        }
        return content

    def indexed_as_before(self, page: Any) -> bool:
        """Whether the page's search entries are the last build's: its HTML came from the store and what else the
        search plugin reads of it (title, address, front matter) is what it was when that HTML was stored."""
        src = page.file.src_uri
        key = hashlib.sha256(
            json.dumps([page.title, page.url, page.meta], sort_keys=True, default=str).encode()
        ).hexdigest()
        stored = self.hits.get(src)
        if stored is not None and stored.get("search") == key:
            return True
        entry = self.fresh.get(src) or ({**stored, "key": self.keys.get(src)} if stored is not None else None)
        if entry is not None:  # stored with this key, so that the next build can keep the entries it makes now
            self.fresh[src] = {**entry, "search": key}
        return False

    def save_fresh(self) -> None:
        """Store what the pages rendered in this build rendered to."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for src_uri, entry in self.fresh.items():
            if entry["key"]:
                self._file(src_uri).write_text(json.dumps(entry, ensure_ascii=False), encoding="utf-8")

    def save(self) -> None:
        logging.getLogger("mkdocs").removeHandler(self.warnings)
        if self.warnings.count:
            return
        self.save_fresh()
        kept = {self._file(src_uri).name for src_uri in self.pages}
        for path in self.folder.glob("*.json"):
            if path.name not in kept:
                path.unlink()


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if not record.getMessage().startswith(_DIRTY_WARNING):
            self.count += 1
