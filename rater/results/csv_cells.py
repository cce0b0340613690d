"""CSV cells that spreadsheets read as text, never as formulas (OWASP's CSV injection rule).

A model, prompt or rater text such as ``=HYPERLINK("http://evil.example", "x")`` lands in a
spreadsheet as a live formula when a CSV we wrote is opened. Every CSV writer passes user
text through :func:`safe_cell`, which prefixes a single quote to any text starting with one
of ``= + - @``, a tab, a carriage return or a line feed: spreadsheets then show it as text.
The quote is part of the cell; the JSON downloads keep the exact text.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FORMULA_STARTS", "csv_field", "safe_cell"]

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: Any) -> Any:
    """``value`` with a ``'`` in front when it is text starting like a formula; other values
    (numbers, None) unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_field(text: str) -> str:
    """One CSV field of user text: neutralised (:func:`safe_cell`), then quoted when it holds
    a comma, quote or line break (RFC 4180)."""
    text = safe_cell(text)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text
