"""MkDocs hook: generate every page from the cards just before MkDocs reads the docs folder.

All the work is in ``quiz.sitegen``; this file only connects it to MkDocs' build events, so the site is the
same whether it is built by ``quiz site build``, ``quiz site serve`` or plain ``mkdocs build``.
"""

from __future__ import annotations

from pathlib import Path

from quiz import sitegen


def on_pre_build(config, **kwargs) -> None:
    options = sitegen.Options.from_env()
    report = sitegen.generate(Path(config.docs_dir), options)
    # MkDocs builds the navigation after this event, from the same config object.
    config.nav = report.nav
    # The caller of mkdocs.commands.build.build holds this config too: it reads the report from here.
    config.extra["quiz"] = report.summary()
