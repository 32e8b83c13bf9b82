"""Turning cards and evidence into rich renderables. No printing here: the CLI decides where output goes."""

from __future__ import annotations

import re

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from answers.evidence import format_value
from quiz.models import Card
from quiz.runner import ClaimResult

_SYMBOLS = {
    r"\sqrt": "√",
    r"\cdot": "·",
    r"\times": "×",
    r"\le": "≤",
    r"\ge": "≥",
    r"\leq": "≤",
    r"\geq": "≥",
    r"\ne": "≠",
    r"\neq": "≠",
    r"\approx": "≈",
    r"\to": "→",
    r"\rightarrow": "→",
    r"\infty": "∞",
    r"\sum": "Σ",
    r"\prod": "Π",
    r"\in": "∈",
    r"\ll": "≪",
    r"\gg": "≫",
    r"\pm": "±",
    r"\dots": "…",
    r"\ldots": "…",
    r"\cdots": "⋯",
    r"\langle": "⟨",
    r"\rangle": "⟩",
    r"\lVert": "‖",
    r"\rVert": "‖",
    r"\|": "‖",
    r"\mid": "|",
    r"\propto": "∝",
    r"\partial": "∂",
    r"\nabla": "∇",
    r"\odot": "⊙",
    r"\alpha": "α",
    r"\beta": "β",
    r"\gamma": "γ",
    r"\delta": "δ",
    r"\epsilon": "ε",
    r"\theta": "θ",
    r"\lambda": "λ",
    r"\mu": "μ",
    r"\pi": "π",
    r"\sigma": "σ",
    r"\tau": "τ",
    r"\phi": "φ",
    r"\omega": "ω",
    r"\Delta": "Δ",
    r"\Sigma": "Σ",
    r"\Omega": "Ω",
    r"\top": "ᵀ",
    r"\quad": "  ",
    r"\,": " ",
    r"\;": " ",
    r"\!": "",
    r"\{": "{",
    r"\}": "}",
    r"\%": "%",
    r"\exp": "exp",
    r"\log": "log",
    r"\max": "max",
    r"\min": "min",
    r"\softmax": "softmax",
    r"\operatorname": "",
}
_SUPERSCRIPTS = str.maketrans("0123456789+-−=()nijkTt", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁿⁱʲᵏᵀᵗ")


def _superscript(text: str) -> str:
    return text.translate(_SUPERSCRIPTS) if all(c in "0123456789+-−=()nijkTt" for c in text) else f"^({text})"


def latex_to_unicode(text: str) -> str:
    """Make inline LaTeX readable in a terminal: $\\sqrt{d_k}$ → √d_k, x^{2} → x², \\frac{a}{b} → (a)/(b)."""

    def math(match: re.Match[str]) -> str:
        body = match.group(1) or match.group(2)
        body = re.sub(r"\\(?:text|mathrm|mathbf|operatorname|mathit)\{([^{}]*)\}", r"\1", body)
        body = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", body)
        body = re.sub(
            r"\\sqrt\{([^{}]*)\}",
            lambda m: "√" + (m.group(1) if len(m.group(1)) <= 3 else f"({m.group(1)})"),
            body,
        )
        for command in sorted(_SYMBOLS, key=len, reverse=True):
            body = re.sub(re.escape(command) + r"(?![A-Za-z])", lambda _m, c=command: _SYMBOLS[c], body)
        body = re.sub(r"\^\{([^{}]*)\}", lambda m: _superscript(m.group(1)), body)
        body = re.sub(r"\^(\w)", lambda m: _superscript(m.group(1)), body)
        body = re.sub(r"_\{([^{}]*)\}", r"_\1", body)
        return body.replace("{", "").replace("}", "")

    return re.sub(r"\$\$(.+?)\$\$|\$(.+?)\$", math, text, flags=re.S)


def question_panel(card: Card, position: str = "") -> Panel:
    subtitle = f"{card.topic.title} · {card.difficulty}" + (f" · {position}" if position else "")
    return Panel(Markdown(latex_to_unicode(card.question)), title=card.title, subtitle=subtitle, expand=False)


def answer_view(card: Card, results: list[ClaimResult] | None = None) -> RenderableType:
    parts: list[RenderableType] = [
        Panel(Markdown(latex_to_unicode(card.answer)), title="Answer", border_style="green"),
        Markdown("## Explanation\n\n" + latex_to_unicode(card.explanation)),
    ]
    if card.pitfalls:
        pitfalls = "\n".join(
            f"- **{p.verdict.upper()}:** “{latex_to_unicode(p.myth)}”"
            + (f" *({p.source})*" if p.source else "")
            + f"\n  {latex_to_unicode(p.truth)}"
            for p in card.pitfalls
        )
        parts.append(Markdown("## Pitfalls\n\n" + pitfalls))
    if card.unmeasured:
        parts.append(Markdown("**Not measured here:** " + latex_to_unicode(card.unmeasured)))
    if results is not None:
        parts.append(evidence_table(results, show_card=False))
    return Group(*parts)


def evidence_table(results: list[ClaimResult], show_card: bool = True) -> Table:
    table = Table(title="Evidence", title_justify="left", show_lines=False)
    if show_card:
        table.add_column("card", overflow="fold")
    table.add_column("claim", overflow="fold")
    table.add_column("measured", justify="right")
    table.add_column("expected")
    table.add_column("holds", justify="center")
    table.add_column("counterfactual (must fail)", overflow="fold")
    for r in results:
        ev = r.evidence
        holds = Text("✓", style="green") if r.holds else Text("✗", style="bold red")
        if ev is None:
            row = [r.claim, "—", "—", holds, Text(r.error or "", style="red")]
        else:
            unit = f" {ev.unit}" if ev.unit else ""
            cf_mark = (
                Text("✗ fails", style="green") if not ev.counterfactual_holds else Text("✓ HOLDS", style="bold red")
            )
            row = [
                r.claim,
                format_value(ev.measured) + unit,
                ev.criterion() + unit,
                holds,
                Text.assemble(f"{ev.counterfactual}: {format_value(ev.counterfactual_measured)} ", cf_mark),
            ]
        table.add_row(*([r.card] if show_card else []), *row)
    return table


def verify_summary(results: list[ClaimResult], seconds: float) -> Text:
    failed = [r for r in results if not r.passed]
    cards = len({r.card for r in results})
    style = "bold red" if failed else "bold green"
    return Text(
        f"{len(results)} claims on {cards} cards: {len(results) - len(failed)} proved, "
        f"{len(failed)} failed ({seconds:.1f} s)",
        style=style,
    )
