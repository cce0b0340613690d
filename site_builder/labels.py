"""Short chart labels for user-typed text (model names), cut on character boundaries.

Vega's own ``labelLimit`` truncation cuts JavaScript strings, that is UTF-16 code units, so it
can split an emoji's surrogate pair, and vl-convert then fails on the broken string. Charts
therefore shorten labels here, in Python, and turn Vega's truncation off. A cut never lands
inside a character, and it avoids splitting a grapheme: combining marks, variation selectors,
emoji modifiers and zero-width-joiner sequences stay with their base character or go with it.

Labels are also made drawable: line and paragraph separators (U+2028, U+2029) break Vega's
expression parser and control characters crash vl-convert's SVG text layout (the whole
process, not just the chart), so :func:`printable` turns them into spaces first.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence

__all__ = ["printable", "shorten", "unique_labels"]

ELLIPSIS = "…"
_ZWJ = "\u200d"


def _extends(ch: str) -> bool:
    """True for a character that belongs to the grapheme before it."""
    cp = ord(ch)
    return (unicodedata.category(ch) in ("Mn", "Mc", "Me") or ch == _ZWJ
            or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF  # variation selectors
            or 0x1F3FB <= cp <= 0x1F3FF  # emoji skin tones
            or 0xE0020 <= cp <= 0xE007F)  # emoji tag sequences (subdivision flags)


def _regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF  # flags are pairs of these


def _width(ch: str) -> float:
    """Roughly how many average Latin letters wide ``ch`` is drawn."""
    if _extends(ch) or unicodedata.category(ch) == "Cf":
        return 0.25  # drawn on top of the previous character, or not at all
    return 2.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 1.0


def _boundary(text: str, cut: int) -> int:
    """The nearest grapheme boundary at or before ``cut``."""
    while 0 < cut < len(text) and (_extends(text[cut]) or text[cut - 1] == _ZWJ):
        cut -= 1
    if 0 < cut < len(text) and _regional(text[cut]):
        run = 0
        while cut - run > 0 and _regional(text[cut - run - 1]):
            run += 1
        cut -= run % 2  # do not separate the two halves of a flag
    return cut


def shorten(text: str, units: float) -> str:
    """``text`` if it is at most ``units`` wide (see :func:`_width`), else its start and "…"."""
    widths = [_width(ch) for ch in text]
    if sum(widths) <= units:
        return text
    used, cut = 0.0, 0
    for w in widths:
        if used + w > units - 1:  # room for the ellipsis
            break
        used += w
        cut += 1
    return text[:_boundary(text, cut)].rstrip() + ELLIPSIS


def printable(text: str) -> str:
    """``text`` with each control character, line or paragraph separator, lone surrogate or
    noncharacter replaced by a space (or U+FFFD for the last two)."""
    out = []
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif category == "Cs" or (ord(ch) & 0xFFFE) == 0xFFFE or 0xFDD0 <= ord(ch) <= 0xFDEF:
            out.append("\ufffd")
        else:
            out.append(ch)
    return "".join(out)


def unique_labels(names: Sequence[str], units: float) -> list[str]:
    """One short label per name; names whose labels would coincide get " #1", " #2", …

    Distinct names always get distinct labels, so a chart keyed by the label keeps them apart.
    """
    names = [printable(str(n)) for n in names]
    short = [shorten(n, units) for n in names]
    counts = Counter(short)
    taken = {s for s in short if counts[s] == 1}
    labels: list[str] = []
    for name, label in zip(names, short):
        if counts[label] > 1:  # shared with another name: number it, skipping labels in use
            number = 0
            while number == 0 or label in taken:
                number += 1
                suffix = f" #{number}"
                label = shorten(str(name), units - len(suffix)) + suffix
        taken.add(label)
        labels.append(label)
    return labels
