"""Model cards: who made a model, under what licence, when, and where to read about it.

Public leaderboards show these beside the standings. :func:`check_card` validates what an
owner types (``Leaderboard.set_model_info``) before anything is stored: a link must be an
``http(s)`` address (never ``javascript:`` or ``data:``), a release date a real calendar day,
every field one line of bounded length (the description may span lines).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from rater.errors import ValidationError

__all__ = ["CARD_FIELDS", "CARD_LIMITS", "ModelCard", "check_card", "check_link"]

#: The card's fields, in the order tables and files show them.
CARD_FIELDS = ("organization", "url", "license", "released", "description")
#: The longest value each field accepts, in characters.
CARD_LIMITS = {"organization": 100, "url": 500, "license": 100, "released": 10,
               "description": 1000}


@dataclass(frozen=True)
class ModelCard:
    """What the board's owner says about a model; ``""`` where nothing was set."""

    name: str
    organization: str = ""
    url: str = ""
    license: str = ""
    released: str = ""  # YYYY-MM-DD
    description: str = ""

    def as_dict(self) -> dict[str, str]:
        """The card's fields (without the name)."""
        return {f: getattr(self, f) for f in CARD_FIELDS}


def _one_line(value: object, field: str, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be text, got {type(value).__name__}")
    allowed = "\n" if multiline else ""
    bad = [repr(ch) for ch in dict.fromkeys(value)
           if ch not in allowed and unicodedata.category(ch) in ("Cc", "Cs")]
    if bad:
        raise ValidationError(f"{field} contains control characters ({', '.join(bad[:5])})"
                              + ("" if multiline else ": it must be one line"))
    value = value.strip()
    limit = CARD_LIMITS[field]
    if len(value) > limit:
        raise ValidationError(f"{field} is {len(value):,} characters long; the limit is {limit:,}")
    return value


def check_link(value: str, what: str = "url") -> str:
    """``value`` if it is empty or an ``http(s)://`` link without characters a link cannot have.

    :raises ValidationError: naming ``what``.
    """
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValidationError(f"{what} must be an http:// or https:// address, got {value!r}")
    bad = sorted(set(re.findall(r'[\s"<>\\^`{|}]', value)))
    if bad:
        raise ValidationError(f"{what} contains characters a link cannot have ({' '.join(map(repr, bad))}); "
                              "percent-encode them")
    return value


def _date(value: str) -> str:
    if not value:
        return value
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValidationError(f"released must be a date as YYYY-MM-DD, got {value!r}")
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"released is not a real date: {value!r}") from None
    return value


def check_card(changes: dict[str, Any]) -> dict[str, str]:
    """The given fields, checked and trimmed (``""`` clears a field; ``None`` entries are
    left out: those fields stay as they are).

    :raises ValidationError: an unknown field, a non-text value, control characters, too
        long, a link that is not http(s), a date that is not a real YYYY-MM-DD day.
    """
    out: dict[str, str] = {}
    for field, value in changes.items():
        if field not in CARD_FIELDS:
            raise ValidationError(f"unknown model card field {field!r}; "
                                  f"use {', '.join(CARD_FIELDS)}")
        if value is None:
            continue
        text = _one_line(value, field, multiline=field == "description")
        out[field] = check_link(text) if field == "url" else _date(text) if field == "released" else text
    return out
