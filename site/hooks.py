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

from quiz.site import Options, generate
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
    report = take_generated(docs) or generate(docs, Options.from_env())
    # MkDocs builds the navigation after this event, from the same config object.
    config.nav = report.nav
    index = site / "search" / "search_index.json"
    try:  # read before a full build empties the folder; a dirty build keeps the entries of the pages it skips
        previous = json.loads(index.read_text(encoding="utf-8")) if index.is_file() else None
    except ValueError:
        previous = None
    _STATE.update(keywords={}, rendered=set(), pages=set(), previous=previous, nav=report.nav)
    touch_renamed(docs, site, report.nav)
    _STATE["render"] = RenderCache(site / ".quiz-render", inputs_digest(bool(config.strict)), docs_files(docs))


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


def on_page_context(context, page, config, nav, **kwargs):
    _STATE["rendered"].add(page.url)
    if page.meta.get("keywords"):
        _STATE["keywords"][page.url] = list(page.meta["keywords"])
    return context


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
