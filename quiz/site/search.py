"""Search that finds what people type: each card's ``keywords`` go into a field of their own in Material's
search index, boosted above titles, on the entry for the card page's first section; and code blocks (the proofs'
source) leave the index, so "sqrt" finds the √d_k card rather than a ``torch.sqrt`` in a proof."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

# Above a title match (1e3) so that "sqrt" finds the √d_k card before a page whose title merely contains a
# word like it; below tags (1e6), which Material boosts most.
KEYWORD_BOOST = 1e5
_CODE_BLOCK = re.compile(r"<pre>.*?</pre>", re.S)


def add_keywords(index_file: Path, keywords: dict[str, list[str]]) -> int:
    """Add ``keywords`` (page URL → words) to the index at ``index_file`` and drop its code blocks; returns the
    entries given keywords."""
    if not index_file.is_file():
        return 0
    index = json.loads(index_file.read_text(encoding="utf-8"))
    changed = apply_keywords(index, keywords)
    index_file.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return changed


def apply_keywords(index: dict[str, Any], keywords: dict[str, list[str]]) -> int:
    """``add_keywords`` on an index already read; entries already done are left as they are."""
    index["config"].setdefault("fields", {})["keywords"] = {"boost": KEYWORD_BOOST}
    changed = 0
    for entry in index["docs"]:
        entry["text"] = _CODE_BLOCK.sub(" ", entry["text"])
        words = keywords.get(entry["location"])
        if words:
            entry["keywords"] = " ".join(words)
            changed += 1
    return changed
