"""Card text made safe for the study site: a deck given with ``--questions`` is data, and its Markdown must
not put HTML, script or attributes into the pages (or into the self-test's innerHTML).

Applied to every card field before it is pasted into a page's Markdown. Math keeps working: arithmatex keeps
the entities written here as they are, the browser turns them back into characters, and KaTeX reads those.
The Markdown we write around the fields (admonitions, our own HTML, attr_list on our headings) is not
touched, since only the fields go through here.
"""

from __future__ import annotations

import html
import re
from typing import Any

# Outside code, every character that could start raw HTML, end a tag, quote an attribute or open attr_list's
# "{ ... }" is written as an entity: text to Markdown and to the browser, and, inside math, the character
# again by the time KaTeX reads it. A blockquote's leading ">" is kept.
_SPECIAL = re.compile(r"(^[ \t]*(?:>[ \t]*)*)|[<>{}=\"']", re.MULTILINE)
# Code spans as Python-Markdown finds them (a run of backticks to the same run, within one paragraph): their
# text is shown as written, so it is put in <code> here with every character an entity. Where Markdown would
# not have seen code, the result is still only text.
_CODE_SPAN = re.compile(r"(?<!\\)(`+)((?:(?!\n[ \t]*\n).)+?)(?<!`)\1(?!`)", re.DOTALL)
# A fenced block keeps its text (it is shown as code); only "<" is escaped, in case Markdown does not agree
# that it is a fence.
_FENCE = re.compile(r"^([ \t]*)(`{3,}|~{3,})[^\n]*\n.*?^\1\2[ \t]*$", re.DOTALL | re.MULTILINE)
# Inline links and images, "[text](target" and "![alt](target", and reference definitions "[id]: target".
# The target may hold balanced parentheses, as Python-Markdown allows: "javascript:alert('x')" is one target.
_INLINE_TARGET = re.compile(r"(\]\(\s*)([^()\n]*(?:\([^()\n]*\)[^()\n]*)*)")
_REFERENCE_TARGET = re.compile(r"^(\s{0,3}\[[^\]\n]+\]:\s*)(\S+)", re.MULTILINE)
_SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.-]*):")
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})


def safe_url(target: str) -> str:
    """``target`` if it is a web, mail or relative address, else "#": no javascript:, data: or vbscript:,
    however spelled (entities, case, control characters, spaces)."""
    plain = re.sub(r"[\x00-\x20\x7f]", "", html.unescape(target))
    scheme = _SCHEME.match(plain)
    return target if scheme is None or scheme.group(1).lower() in SAFE_SCHEMES else "#"


def _entity(match: re.Match[str]) -> str:
    return match.group(1) if match.group(1) is not None else f"&#{ord(match.group(0))};"


# Display math, "$$ … $$" from the start of a line to the end of one: arithmatex escapes such a block itself
# (an entity would reach KaTeX as "&#123;"), so only "<" and ">" change, to KaTeX's \\lt and \\gt.
_DISPLAY_MATH = re.compile(r"^[ \t]*\$\$.*?\$\$[ \t]*$", re.DOTALL | re.MULTILINE)


def _prose(text: str) -> str:
    pieces, pos = [], 0
    for math in _DISPLAY_MATH.finditer(text):
        pieces.append(_inline(text[pos : math.start()]))
        pieces.append(math.group(0).replace("<", r"\lt ").replace(">", r"\gt "))
        pos = math.end()
    pieces.append(_inline(text[pos:]))
    return "".join(pieces)


def _inline(text: str) -> str:
    pieces, pos = [], 0
    for code in _CODE_SPAN.finditer(text):
        pieces.append(_SPECIAL.sub(_entity, text[pos : code.start()]))
        content = code.group(2).strip() if code.group(2).strip() else code.group(2)
        pieces.append("<code>" + "".join(f"&#{ord(ch)};" for ch in content) + "</code>")
        pos = code.end()
    pieces.append(_SPECIAL.sub(_entity, text[pos:]))
    return "".join(pieces)


def deck_markdown(text: str) -> str:
    """A card field as Markdown that renders to text, formatting and math only."""
    text = _INLINE_TARGET.sub(lambda m: m.group(1) + safe_url(m.group(2)), text)
    text = _REFERENCE_TARGET.sub(lambda m: m.group(1) + safe_url(m.group(2)), text)
    pieces, pos = [], 0
    for fence in _FENCE.finditer(text):
        pieces.append(_prose(text[pos : fence.start()]))
        pieces.append(fence.group(0).replace("<", "&lt;"))
        pos = fence.end()
    pieces.append(_prose(text[pos:]))
    return "".join(pieces)


_INLINE_MARKDOWN: list[Any] = []  # one converter, reset between calls: building one costs more than a conversion


def inline_html(text: str) -> str:
    """Card Markdown as HTML for the self-test, with math left in arithmatex spans for KaTeX."""
    if not _INLINE_MARKDOWN:
        import markdown

        _INLINE_MARKDOWN.append(
            markdown.Markdown(
                extensions=["pymdownx.arithmatex", "tables"],
                extension_configs={"pymdownx.arithmatex": {"generic": True}},
            )
        )
    return _INLINE_MARKDOWN[0].reset().convert(text)


# Between tags, outside the raw-text elements whose content the browser does not decode.
_TAG_OR_RAW = re.compile(r"<(script|style|textarea)\b.*?</\1\s*>|<!--.*?-->|<[^>]*>", re.DOTALL | re.IGNORECASE)


def quote_text_nodes(page: str) -> str:
    """``page`` with every quote in its text written as an entity.

    ``deck_markdown`` writes a card's quotes as entities, but a plugin that re-serialises the page (glightbox
    parses it with lexbor) writes them back as characters. In a text node that is still only text; this puts
    them back as entities so that no card text reads like an attribute in the page's source either.
    """
    pieces, pos = [], 0
    for tag in _TAG_OR_RAW.finditer(page):
        pieces.append(page[pos : tag.start()].replace('"', "&quot;").replace("'", "&#39;"))
        pieces.append(tag.group(0))
        pos = tag.end()
    pieces.append(page[pos:].replace('"', "&quot;").replace("'", "&#39;"))
    return "".join(pieces)
