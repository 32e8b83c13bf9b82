"""Rendering a build's Markdown ahead, in two processes: MkDocs renders its pages one after another, and on a
2-core machine half of them can be rendered at the same time by a forked copy of the build.

Before MkDocs reads the pages (its ``nav`` event), the pages it is about to render are shared out by size. The copy
renders its share exactly as MkDocs would (the same plugin events, in the same order) and leaves what each page
rendered to in the render store (``RenderCache``); this process renders the other share the same way, into the same
store, in memory. MkDocs then reaches every page and finds it stored. A page the copy could not render cleanly (a
warning, an error, a copy that died or took too long) is simply not stored: MkDocs renders it here, and its warnings
are reported, once, where they always were. So the pages are the same with or without the copy; only the time is not.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from quiz.site.incremental import RenderCache

# Below this much Markdown to render, forking costs more than it saves (a one-card edit renders ~40 KB).
MIN_SPLIT_BYTES = 150_000
COPY_TIMEOUT = 120.0  # seconds; a copy slower than that is killed and its pages rendered here


def render_ahead(config: Any, files: Any, render: RenderCache, dirty: bool) -> int:
    """Render the pages this build will render, half in a forked copy; returns how many went to the copy."""
    pages = [f.page for f in files.documentation_pages() if f.page is not None and (not dirty or f.is_modified())]
    todo = [(page, size) for page in pages if (size := render.miss_size(page, config)) > 0]
    if not hasattr(os, "fork") or threading.active_count() > 1 or sum(size for _, size in todo) < MIN_SPLIT_BYTES:
        return 0  # MkDocs renders them all as usual (a fork with other threads running is never safe)
    mine: list[Any] = []
    theirs: list[Any] = []
    loads = [0, 0]
    for page, size in sorted(todo, key=lambda item: -item[1]):  # largest first, each to the lighter side
        side = 0 if loads[0] < loads[1] else 1
        (mine if side == 0 else theirs).append(page)
        loads[side] += size
    pid = os.fork()
    if pid == 0:  # the copy: render, store what rendered without a warning, and leave without a trace
        status = 1
        try:
            _keep_only(render.warnings)
            render.warnings.count = 0  # this copy's own pages only
            for page in theirs:
                _populate(page, config, files)
            if not render.warnings.count:
                render.save_fresh()
                status = 0
        finally:
            os._exit(status)
    try:
        for page in mine:
            _populate(page, config, files)
    finally:
        _wait(pid)
    return len(theirs)


def _populate(page: Any, config: Any, files: Any) -> None:
    """What MkDocs does to a page before it draws it (mkdocs.commands.build._populate_page), events included."""
    config._current_page = page
    try:
        page = config.plugins.on_pre_page(page, config=config, files=files)
        page.read_source(config)
        page.markdown = config.plugins.on_page_markdown(page.markdown, page=page, config=config, files=files)
        page.render(config, files)
        page.content = config.plugins.on_page_content(page.content, page=page, config=config, files=files)
    except Exception:  # MkDocs renders the page again, and reports the error as it always does
        pass
    finally:
        config._current_page = None


def _keep_only(handler: logging.Handler) -> None:
    """In the copy: nothing is printed; the render store's warning count still sees every warning."""
    for name in (None, "mkdocs"):
        logger = logging.getLogger(name)
        for other in list(logger.handlers):
            if other is not handler:
                logger.removeHandler(other)
    logging.getLogger("mkdocs").propagate = False


def _wait(pid: int) -> None:
    deadline = time.monotonic() + COPY_TIMEOUT
    while time.monotonic() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            return
        time.sleep(0.005)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
