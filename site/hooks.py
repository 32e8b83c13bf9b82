"""MkDocs hook: generate every page from the cards just before MkDocs reads the docs folder.

All the work is in the ``quiz.site`` package; this file only connects it to MkDocs' build events, so the site
is the same whether it is built by ``quiz site build``, ``quiz site serve`` or plain ``mkdocs build``.
"""

from __future__ import annotations

from pathlib import Path

from quiz.site import Options, generate


def on_pre_build(config, **kwargs) -> None:
    report = generate(Path(config.docs_dir), Options.from_env())
    # MkDocs builds the navigation after this event, from the same config object.
    config.nav = report.nav
