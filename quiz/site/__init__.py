"""The study site, generated from the cards: one MkDocs page per card with its live evidence, figures and
proof source, topic indexes, an errata page built from the pitfalls, and a self-test page.

Three steps, each returning data so it can be tested without MkDocs:

1. ``proving.prove_deck``: every card's claims and figures from the shared proof cache (``quiz.proofs``),
   run in worker processes where a card's key changed.
2. ``writer.generate``: write the Markdown pages (``pages``, with the proofs' source from ``sources``),
   figures, KaTeX (``katex``) and the self-test JSON into a docs folder.
3. ``build.build_site``: generate, then run MkDocs on ``site/mkdocs.yml`` (whose hook calls ``generate``
   too, so plain ``mkdocs build``/``serve`` work), skipping MkDocs when nothing it reads has changed.

Nothing here imports torch: the proofs run in worker processes, and the pages are written from the records.
"""

from quiz.site.build import build_site, serve_site
from quiz.site.options import DEFAULT_DOCS, DEFAULT_OUTPUT, Options, SiteError
from quiz.site.writer import Report, generate

__all__ = ["DEFAULT_DOCS", "DEFAULT_OUTPUT", "Options", "Report", "SiteError", "build_site", "generate", "serve_site"]
