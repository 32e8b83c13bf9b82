r"""LaTeX made readable in a terminal: symbols, fractions, roots, super- and subscripts as Unicode text.
A text transform (no rich, no I/O); the site and Anki render real math instead.

Structure (fractions, roots, braces, sub- and superscripts, \underbrace, matrices) is handled here; the symbol of
any other command comes from pylatexenc's LaTeX-to-text tables, with the small table below first, for what
pylatexenc lacks or renders unlike a terminal reader expects (\top as ᵀ, \bmod, spacing). pylatexenc is imported
only when a command outside that table is met (about 27 ms, measured with python -X importtime), and each
command is looked up once.
"""

from __future__ import annotations

import functools
import re

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
    r"\bmod": "mod",
    r"\mod": "mod",
    r"\ln": "ln",
    r"\varphi": "φ",
    r"\Longrightarrow": "⟹",
    r"\implies": "⟹",
    r"\iff": "⟺",
    r"\lvert": "|",
    r"\rvert": "|",
    r"\vert": "|",
}
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
    # Unicode has subscripts for digits and a few letters only; d_model reads fine as it is, so keep the
    # underscore unless every character has a subscript form (never half a word: dₘodel).
    if text and all(c in _SUB_FROM for c in text) and len(text) <= 3:
        return text.translate(_SUBSCRIPTS)
    return f"_{text}" if re.fullmatch(r"[\w,.]+", text) else f"_({text})"


@functools.cache
def _symbol(command: str) -> str:
    """pylatexenc's text for one command (\varsigma → ς); the bare name when it has none."""
    from pylatexenc.latex2text import LatexNodes2Text  # lazy: only for commands outside _SYMBOLS

    text = LatexNodes2Text().latex_to_text("\\" + command).strip()
    return text if text and "\\" not in text else command


def _math(body: str) -> str:
    # \cdot\mathbf{W}: unwrapping \mathbf must not glue W onto \cdot
    body = re.sub(r"(\\[A-Za-z]+)(?=\\(?:text|math|operatorname|boldsymbol))", r"\1 ", body)
    body = re.sub(r"\\begin\{[pbv]?matrix\}(.*?)\\end\{[pbv]?matrix\}", _matrix, body, flags=re.S)
    # \underbrace{8nd^2}_{\text{FFN}}: the term, its label in brackets after it
    body = re.sub(r"\\underbrace\s*" + _BRACED + r"\s*_\s*" + _BRACED, r"\1 [\2]", body)
    body = re.sub(r"\\(?:underbrace|overbrace|underline|overline)\s*", "", body)
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
    body = re.sub(r"\\([A-Za-z]+)", lambda m: _symbol(m[1]), body)  # everything else, from pylatexenc
    body = re.sub(r"\s*·\s*", "·", body).replace("^ᵀ", "ᵀ")
    body = re.sub(r"\^" + _BRACED, lambda m: _superscript(m.group(1).replace("{", "").replace("}", "")), body)
    body = re.sub(r"\^([\w−-])", lambda m: _superscript(m.group(1)), body)
    body = re.sub(r"_" + _BRACED, lambda m: _subscript(m.group(1).replace("{", "").replace("}", "")), body)
    body = re.sub(r"_(\w+)", lambda m: _subscript(m.group(1)), body)
    body = re.sub(r"\s*&\s*", " ", body).replace("\\\\", "\n")
    return body.replace("{", "").replace("}", "")


def _matrix(match: re.Match[str]) -> str:
    rows = [" ".join(cell.strip() for cell in row.split("&")) for row in match[1].split("\\\\")]
    return "[" + "; ".join(r for r in rows if r) + "]"


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
