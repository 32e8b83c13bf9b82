"""The site's use of the proof service: every card's claims and figures, from the shared proof cache where
the card's key is unchanged, run in worker processes otherwise."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from answers.protocol import FIGURE_PREFIX, figure_functions
from quiz.deck import Deck
from quiz.proofs import ClaimResult, Job, ProofCache, proof_key, prove_in_workers


@dataclass
class CardProof:
    """Everything the pages show about one card's proofs."""

    card: str
    key: str
    claims: list[ClaimResult]
    figures: list[dict[str, str]]  # {"name", "file", "caption"} or {"name", "error", "caption"?}
    folder: Path  # where the figure files are

    @property
    def proved(self) -> bool:
        return all(c.passed for c in self.claims)


@dataclass
class ProofStats:
    cards_proved: int = 0  # cards whose proofs ran in this build
    proved_ids: list[str] = field(default_factory=list)
    cards_cached: int = 0
    claims_run: int = 0
    figures_run: int = 0
    seconds: float = 0.0


# One type scale for every figure, in points at a reference width of 6 inches. A figure is shown as wide as the
# text column whatever its size in inches, so a wider figure gets proportionally larger type: on the page, every
# figure's labels then come out the same size.
FONT_SCHEME = {"title": 11.0, "label": 10.0, "tick": 9.0, "legend": 9.0, "text": 8.5}
REFERENCE_WIDTH = 6.0


def apply_font_scheme(fig: Any) -> None:
    """Set every text of ``fig`` to the size its role has in ``FONT_SCHEME``, scaled to the figure's width."""
    from matplotlib.legend import Legend

    factor = max(1.0, fig.get_figwidth() / REFERENCE_WIDTH)
    roles: dict[int, str] = {}
    for ax in fig.axes:
        # Through tick_params, not the Text objects: ticks are made afresh when the figure is saved.
        ax.tick_params(axis="both", which="both", labelsize=FONT_SCHEME["tick"] * factor)
        for text in (ax.title, ax._left_title, ax._right_title):
            roles[id(text)] = "title"
        for axis in (ax.xaxis, ax.yaxis):
            roles[id(axis.label)] = "label"
            roles[id(axis.get_offset_text())] = "tick"
            for label in [*axis.get_ticklabels(which="both")]:
                roles[id(label)] = "tick"
    for legend in fig.findobj(Legend):
        for text in [*legend.get_texts(), legend.get_title()]:
            roles[id(text)] = "legend"
    if fig._suptitle is not None:
        roles[id(fig._suptitle)] = "title"
    for axis_text in fig.findobj(lambda artist: hasattr(artist, "set_fontsize") and hasattr(artist, "get_text")):
        axis_text.set_fontsize(FONT_SCHEME[roles.get(id(axis_text), "text")] * factor)


def render_figures(module: ModuleType, folder: Path) -> list[dict[str, str]]:
    """Draw the module's figures into ``folder`` as SVG (in a worker process: see ``quiz.proofs``)."""
    functions = figure_functions(module)
    if not functions:  # most cards: importing matplotlib for nothing cost 0.3 s per card, a third of a cold build
        return []
    import inspect

    import matplotlib

    matplotlib.use("Agg")  # no display in a worker process
    import matplotlib.pyplot as plt

    # Fixed ids and no date inside the SVG: an unchanged figure is byte-identical, so rebuilds rewrite nothing.
    matplotlib.rcParams["svg.hashsalt"] = "transformer-proofs"
    figures = []
    for fn in functions:
        name = fn.__name__.removeprefix(FIGURE_PREFIX)
        caption = inspect.getdoc(fn) or name.replace("_", " ")
        try:
            fig = fn()
            fig.canvas.draw()  # tick labels exist only once drawn
            apply_font_scheme(fig)
            fig.savefig(folder / f"{name}.svg", format="svg", bbox_inches="tight", metadata={"Date": None})
            plt.close(fig)
        except Exception as exc:  # a broken figure is shown as such on its card, not a failed build
            figures.append({"name": name, "error": f"{type(exc).__name__}: {exc}", "caption": caption})
            continue
        figures.append({"name": name, "file": f"{name}.svg", "caption": caption})
    return figures


def prove_deck(deck: Deck, cache: ProofCache, workers: int = 2) -> tuple[dict[str, CardProof], ProofStats]:
    """Every card's proofs and figures, from the cache where the card's key is unchanged, run otherwise."""
    start = time.perf_counter()
    stats = ProofStats()
    proofs: dict[str, CardProof] = {}
    jobs: list[Job] = []
    keys: dict[str, str] = {}
    for card in deck:
        keys[card.id] = key = proof_key(card, deck.answers_dir)
        claims, figures = cache.claims(card, key), cache.figures(card.id, key)
        if claims is not None and figures is not None:
            stats.cards_cached += 1
            proofs[card.id] = CardProof(card.id, key, claims, figures, cache.folder(card.id, key))
        else:
            folder = cache.folder(card.id, key)
            jobs.append(Job(card, deck.answers_dir, deck.trusted, folder, claims is None, render_figures))
            proofs[card.id] = CardProof(card.id, key, claims or [], [], folder)
    for job, claims, figures in prove_in_workers(jobs, workers):
        proof = proofs[job.card.id]
        proof.figures = figures
        stats.cards_proved += 1
        stats.proved_ids.append(proof.card)
        stats.figures_run += len(figures)
        if claims is not None:
            proof.claims = claims
            stats.claims_run += len(claims)
            cache.save_claims(job.card, proof.key, claims)
        # A figure that raises is shown as such, and cached like any other output of the module; figures are
        # kept only beside claims that passed, as the claims are.
        if proof.proved:
            cache.save_figures(proof.card, proof.key, figures)
    stats.seconds = time.perf_counter() - start
    return {card.id: proofs[card.id] for card in deck}, stats
