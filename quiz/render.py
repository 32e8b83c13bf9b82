"""Turning cards and evidence into rich renderables. No printing here: the CLI decides where output goes.

Cheap to import on purpose: the first question of ``quiz take`` is drawn with plain rich Text, and the
Markdown renderer, the evidence format and the card models are imported only when an answer is shown.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
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
_SYMBOLS.update(
    {
        r"\ell": "ℓ",
        r"\sim": "~",
        r"\equiv": "≡",
        r"\leftarrow": "←",
        r"\Rightarrow": "⇒",
        r"\Leftrightarrow": "⇔",
        r"\mapsto": "↦",
        r"\forall": "∀",
        r"\exists": "∃",
        r"\circ": "∘",
        r"\otimes": "⊗",
        r"\oplus": "⊕",
        r"\varepsilon": "ε",
        r"\eta": "η",
        r"\kappa": "κ",
        r"\rho": "ρ",
        r"\xi": "ξ",
        r"\psi": "ψ",
        r"\chi": "χ",
        r"\zeta": "ζ",
        r"\Theta": "Θ",
        r"\Lambda": "Λ",
        r"\Phi": "Φ",
        r"\Pi": "Π",
        r"\approxeq": "≅",
        r"\lfloor": "⌊",
        r"\rfloor": "⌋",
        r"\lceil": "⌈",
        r"\rceil": "⌉",
        r"\ ": " ",
        r"\qquad": "    ",
        r"\left": "",
        r"\right": "",
        r"\big": "",
        r"\Big": "",
        r"\displaystyle": "",
        r"\tanh": "tanh",
        r"\sin": "sin",
        r"\cos": "cos",
        r"\arg": "arg",
        r"\det": "det",
    }
)
_BLACKBOARD = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼"}
_SUP_FROM = "0123456789+-−=()nijkTtaeoxyr"
_SUPERSCRIPTS = str.maketrans(_SUP_FROM, "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁿⁱʲᵏᵀᵗᵃᵉᵒˣʸʳ")
_SUB_FROM = "0123456789+-−=()aeoxhklmnpstij"
_SUBSCRIPTS = str.maketrans(_SUB_FROM, "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼ")
# One level of nested braces, so \frac{\sqrt{d_k}}{2} and x^{d_{model}} are read whole.
_BRACED = r"\{((?:[^{}]|\{[^{}]*\})*)\}"


def _superscript(text: str) -> str:
    return text.translate(_SUPERSCRIPTS) if all(c in _SUP_FROM for c in text) else f"^({text})"


def _subscript(text: str) -> str:
    # Unicode has subscripts for digits and a few letters only; d_k reads fine as it is, so keep the
    # underscore unless every character has a subscript form.
    return text.translate(_SUBSCRIPTS) if text and all(c in _SUB_FROM for c in text) and len(text) <= 3 else f"_{text}"


def _math(body: str) -> str:
    body = re.sub(r"\\(?:text|mathrm|mathbf|operatorname|mathit|textbf|boldsymbol|mathsf)\s*" + _BRACED, r"\1", body)
    body = re.sub(r"\\mathbb\s*\{?([A-Z])\}?", lambda m: _BLACKBOARD.get(m.group(1), m.group(1)), body)
    body = re.sub(r"\\mathcal\s*\{?([A-Z])\}?", r"\1", body)
    for _ in range(3):  # innermost first, so nested fractions and roots come out right
        body = re.sub(
            r"\\sqrt\s*" + _BRACED,
            lambda m: "√" + (m[1] if re.fullmatch(r"\w{1,3}|\w_\w+", m[1]) else f"({m[1]})"),
            body,
        )
        body = re.sub(r"\\[dt]?frac\s*" + _BRACED + r"\s*" + _BRACED, lambda m: _fraction(m[1], m[2]), body)
    body = re.sub(r"\\sqrt\s*(\w)", r"√\1", body)
    body = re.sub(r"\\(?:hat|tilde|bar|vec)\s*\{?(\w)\}?", r"\1", body)
    for command in sorted(_SYMBOLS, key=len, reverse=True):
        # A word command (\in) must not match the start of a longer one (\infty); \| or \, can be followed by anything.
        boundary = r"(?![A-Za-z])" if command[-1].isalpha() else ""
        body = re.sub(re.escape(command) + boundary, lambda _m, c=command: _SYMBOLS[c], body)
    body = re.sub(r"\s*·\s*", "·", body).replace("^ᵀ", "ᵀ")
    body = re.sub(r"\^" + _BRACED, lambda m: _superscript(m.group(1).replace("{", "").replace("}", "")), body)
    body = re.sub(r"\^([\w−-])", lambda m: _superscript(m.group(1)), body)
    body = re.sub(r"_" + _BRACED, lambda m: _subscript(m.group(1).replace("{", "").replace("}", "")), body)
    body = re.sub(r"_(\w)", lambda m: _subscript(m.group(1)), body)
    body = re.sub(r"\s*&\s*", " ", body).replace("\\\\", "\n")
    return body.replace("{", "").replace("}", "")


def _fraction(num: str, den: str) -> str:
    simple = re.compile(r"[\w.√]+|√\(.*\)")
    top = num if simple.fullmatch(num) else f"({num})"
    bottom = den if simple.fullmatch(den) else f"({den})"
    return f"{top}/{bottom}"


def latex_to_unicode(text: str) -> str:
    r"""Make LaTeX readable in a terminal: $\sqrt{d_k}$ → √d_k, x^{2} → x², \frac{a}{b+c} → a/(b+c),
    \mathbb{R}^{d} → ℝᵈ, x_{1} → x₁. Display math ($$…$$) goes on its own indented line."""

    def replace(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return "\n\n    " + _math(match.group(1)).strip() + "\n\n"
        return _math(match.group(2))

    return re.sub(r"\$\$(.+?)\$\$|(?<![\\\w])\$(?!\s)(.+?)(?<!\s)\$", replace, text, flags=re.S)


# --------------------------------------------------------------------------------------------------
# Cards. A card is either the pydantic Card or an index QuizCard; the views read only fields both have.


def _field(item: Any, name: str) -> Any:
    return item[name] if isinstance(item, dict) else getattr(item, name)


def _topic_title(card: Any) -> str:
    title = getattr(card, "topic_title", None)
    return title or getattr(card.topic, "title", str(card.topic))


_INLINE = re.compile(r"\*\*(.+?)\*\*|`([^`]+)`|(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")


def inline_markdown(text: str) -> Text:
    """Bold, italics and code spans as rich Text: enough for a question, without the Markdown renderer."""
    out = Text()
    pos = 0
    for match in _INLINE.finditer(text):
        out.append(text[pos : match.start()])
        if match.group(1):
            out.append(match.group(1), style="bold")
        elif match.group(2):
            out.append(match.group(2), style="cyan")
        else:
            out.append(match.group(3), style="italic")
        pos = match.end()
    out.append(text[pos:])
    return out


def reflow(text: str) -> str:
    """Join the lines of each paragraph, as Markdown would: YAML block text is wrapped at 100 columns."""
    return re.sub(r"(?<!\n)\n(?!\n|\s*[-*+] |\s*\d+\. )", " ", text)


def _markdown(text: str) -> RenderableType:
    from rich.markdown import Markdown

    return Markdown(latex_to_unicode(text))


def question_panel(
    card: Any, position: str = "", body: str | None = None, note: str = "", plain: bool = False
) -> RenderableType:
    """The question (or ``body``, e.g. a drawn numeric prompt) in a panel titled with the card; with
    ``plain`` (output is not a terminal) a heading line instead of a box, so logs and pipes stay readable."""
    subtitle = f"{_topic_title(card)} · {card.difficulty}" + (f" · {position}" if position else "")
    text = inline_markdown(latex_to_unicode(reflow((body or card.question).strip())))
    if note:
        text = Text.assemble(Text(note + "\n\n", style="yellow"), text)
    if plain:
        return Text.assemble(Text(f"\n## {card.title} ({subtitle})\n\n", style="bold"), text, "\n")
    return Panel(text, title=card.title, subtitle=subtitle, expand=False)


def choices_view(choices: list[Any]) -> Text:
    text = Text()
    for letter, choice in zip("abcdefghij", choices, strict=False):
        text.append(f"  {letter}) ", style="bold")
        text.append_text(inline_markdown(latex_to_unicode(_field(choice, "text"))))
        text.append("\n")
    return text


def verdict(correct: bool, feedback: str) -> Text:
    head = Text("✓ Right. ", style="bold green") if correct else Text("✗ Not quite. ", style="bold red")
    return Text.assemble(head, inline_markdown(latex_to_unicode(feedback.strip())))


def answer_view(card: Any, results: list[ClaimResult] | None = None, explanation: bool = True) -> RenderableType:
    parts: list[RenderableType] = [Panel(_markdown(card.answer), title="Answer", border_style="green")]
    if explanation:
        parts.append(_markdown("## Explanation\n\n" + card.explanation))
    pitfalls = card.pitfalls
    if explanation and pitfalls:
        lines = []
        for p in pitfalls:
            source = _field(p, "source")
            lines.append(
                f"- **{str(_field(p, 'verdict')).upper()}:** “{_field(p, 'myth')}”"
                + (f" *({source})*" if source else "")
                + f"\n  {_field(p, 'truth')}"
            )
        parts.append(_markdown("## Pitfalls\n\n" + "\n".join(lines)))
    if explanation and card.unmeasured:
        parts.append(_markdown("**Not measured here:** " + card.unmeasured))
    if results is not None:
        parts.append(evidence_table(results, show_card=False))
    return Group(*parts)


def evidence_table(results: list[ClaimResult], show_card: bool = True) -> Table:
    from answers.evidence import format_value

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
