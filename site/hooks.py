"""MkDocs hook: generate every page from the cards just before MkDocs reads the docs folder, give each card's
search keywords their own, boosted field in the search index, and keep a dirty build's navigation and search
index whole (``quiz.site.incremental``).

All the work is in the ``quiz.site`` package; this file only connects it to MkDocs' build events, so the site
is the same whether it is built by ``quiz site build``, ``quiz site serve`` or plain ``mkdocs build``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority

from quiz.site import Options, ahead, generate
from quiz.site.build import inputs_digest, take_generated
from quiz.site.incremental import QuietDirty, RenderCache, docs_files, merge_index, save_record, touch_renamed
from quiz.site.safe import quote_text_nodes
from quiz.site.search import apply_keywords

_STATE: dict[str, Any] = {}


def on_config(config, **kwargs):
    build_log = logging.getLogger("mkdocs.commands.build")
    if not any(isinstance(f, QuietDirty) for f in build_log.filters):
        build_log.addFilter(QuietDirty())
    return config


def on_pre_build(config, **kwargs) -> None:
    docs, site = Path(config.docs_dir), Path(config.site_dir)
    # `quiz site build` has just generated this folder in this process; generating again would cost seconds.
    handed = take_generated(docs)
    report = handed[0] if handed else generate(docs, Options.from_env())
    # MkDocs builds the navigation after this event, from the same config object.
    config.nav = report.nav
    index = site / "search" / "search_index.json"
    try:  # read before a full build empties the folder; a dirty build keeps the entries of the pages it skips
        previous = json.loads(index.read_text(encoding="utf-8")) if index.is_file() else None
    except ValueError:
        previous = None
    indexed = {entry["location"].split("#", 1)[0] for entry in previous["docs"]} if previous else set()
    _STATE.update(keywords={}, rendered=set(), kept=set(), pages=set(), previous=previous, indexed=indexed)
    _STATE["nav"] = report.nav
    _keep_last_entries(config)
    touch_renamed(docs, site, report.nav)
    _STATE["render"] = RenderCache(site / ".quiz-render", inputs_digest(bool(config.strict)), docs_files(docs))
    _STATE["ahead"] = handed[1] if handed else None  # dirty or not, when `quiz site build` runs this build


def on_nav(nav, config, files, **kwargs):
    if _STATE.get("ahead") is not None:  # `quiz site build`: the pages MkDocs is about to render, in two processes
        ahead.render_ahead(config, files, _STATE["render"], dirty=_STATE["ahead"])
    return nav


def on_env(env, config, files, **kwargs):
    """The theme's templates compiled once and kept (Jinja's own bytecode cache, keyed by each template's
    source): compiling its 43 templates cost ~0.15 s of every build, a twelfth of a one-card rebuild."""
    from jinja2 import FileSystemBytecodeCache

    folder = Options.from_env().cache / "site-templates"
    folder.mkdir(parents=True, exist_ok=True)
    env.bytecode_cache = FileSystemBytecodeCache(str(folder))
    return env


# Last, after every other plugin has changed the page: the stored HTML is the finished one.
@event_priority(-100)
def on_page_markdown(markdown, page, config, files, **kwargs):
    return _STATE["render"].before(page, markdown)


@event_priority(-100)
def on_page_content(html, page, config, files, **kwargs):
    return _STATE["render"].after(page, html)


def on_files(files, config, **kwargs):
    _STATE["pages"] = {file.url for file in files.documentation_pages()}
    return files


# Before the search plugin (priority 0): a page drawn from stored HTML keeps the entries the last build made of it
# (``_keep_last_entries``). Parsing a page's HTML for the index was a third of the time of a rebuild after a title
# edit, most of it on the pages whose navigation only had changed.
@event_priority(50)
def on_page_context(context, page, config, nav, **kwargs):
    if page.meta.get("keywords"):
        _STATE["keywords"][page.url] = list(page.meta["keywords"])
    if _STATE["render"].indexed_as_before(page) and page.url in _STATE["indexed"]:
        _STATE["kept"].add(page.url)
    else:
        _STATE["rendered"].add(page.url)
    return context


def _keep_last_entries(config) -> None:
    """Make the search plugin skip the pages whose entries the last build's index already holds (merge_index
    keeps those). Not through the front matter's ``search: exclude``: a page's templates test whether it has
    any front matter at all, so adding one to a page without would change its HTML."""
    for plugin in config.plugins.values():
        index = getattr(plugin, "search_index", None)
        add = getattr(index, "add_entry_from_context", None)
        if add is None or getattr(add, "keeps_last_entries", False):
            continue

        def add_unless_kept(page, add=add):
            if page.url not in _STATE["kept"]:
                add(page)

        add_unless_kept.keeps_last_entries = True
        index.add_entry_from_context = add_unless_kept


# After every plugin that rewrites the page's HTML (glightbox re-serialises the whole page in its own
# on_post_page, turning entities back into quotes).
@event_priority(-100)
def on_post_page(output, page, config, **kwargs) -> str:
    return quote_text_nodes(output)


# After the search plugin has written its index (priority 0) and before the offline plugin copies it into a
# script (priority -100).
@event_priority(-50)
def on_post_build(config, **kwargs) -> None:
    docs, site = Path(config.docs_dir), Path(config.site_dir)
    index_file = site / "search" / "search_index.json"
    if index_file.is_file():
        current = json.loads(index_file.read_text(encoding="utf-8"))
        index = merge_index(_STATE["previous"], current, _STATE["rendered"], _STATE["pages"])
        apply_keywords(index, _STATE["keywords"])
        index_file.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    _STATE["render"].save()
    save_record(site, docs, _STATE["nav"], inputs_digest(bool(config.strict)))
