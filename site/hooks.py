"""MkDocs hook: generate every page from the cards just before MkDocs reads the docs folder, and give each
card's search keywords their own, boosted field in the search index.

All the work is in the ``quiz.site`` package; this file only connects it to MkDocs' build events, so the site
is the same whether it is built by ``quiz site build``, ``quiz site serve`` or plain ``mkdocs build``.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.plugins import event_priority

from quiz.site import Options, generate
from quiz.site.safe import quote_text_nodes
from quiz.site.search import add_keywords

_KEYWORDS: dict[str, list[str]] = {}


def on_pre_build(config, **kwargs) -> None:
    _KEYWORDS.clear()
    report = generate(Path(config.docs_dir), Options.from_env())
    # MkDocs builds the navigation after this event, from the same config object.
    config.nav = report.nav


def on_page_context(context, page, config, nav, **kwargs):
    if page.meta.get("keywords"):
        _KEYWORDS[page.url] = list(page.meta["keywords"])
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
    add_keywords(Path(config.site_dir) / "search" / "search_index.json", _KEYWORDS)
