"""``quiz``: the command line. A thin layer over the library; the only package that prints.

Commands live in one module per group (``base.COMMAND_MODULES`` is the table): ``cards`` (list, show,
verify, check), ``take``, ``interview``, ``schedule`` (suspend, reset), ``stats``, ``export`` (export anki),
``site`` (site build, site serve) and ``code`` (coding exercises). What they share (the group, error
handling, deck options) is in ``base``; asking at the prompt, shared by take and interview, in ``asking``;
the screen (rich renderables, LaTeX as Unicode) in ``views`` and ``latex``.

Data goes to stdout, progress and errors to stderr. A user error is one ``Error: …`` line per problem and
exit status 1; a usage error (bad option) is click's message and exit status 2.
"""

import gc

from quiz.cli.base import main  # each command's module adds it to `main` when first asked for (COMMAND_MODULES)

__all__ = ["main", "run"]


def run() -> None:
    """The `quiz` program (pyproject's script): ``main`` as a process of its own. When the command is done, what it
    leaves is frozen out of the garbage collector, so the process does not end by collecting its whole heap: that
    last collection cost 0.15 s after a site build. Not in ``main``, which tests call in their own process."""
    try:
        main()
    finally:
        gc.freeze()
