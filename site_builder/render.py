"""The Jinja environment: autoescaping, user template overrides, and display filters.

Templates are looked up first in the user's folder (``--templates DIR``), then in ours. Ours
are also reachable under the ``default/`` prefix, so a user's ``base.html`` can say
``{% extends "default/base.html" %}`` and override only the blocks it wants.
"""

from __future__ import annotations

import hashlib
import math
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jinja2

from .media import TextExcerpt, text_excerpt

__all__ = ["make_environment", "templates_digest"]


_NONCHARACTERS = "".join(chr(plane * 0x10000 + low) for plane in range(17) for low in (0xFFFE, 0xFFFF))
#: Code points HTML forbids in a document: controls other than whitespace, and noncharacters.
_FORBIDDEN = re.compile(f"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef{_NONCHARACTERS}]")


def printable_html(value: Any) -> Any:
    """Every ``{{ value }}`` of a page: text with code points HTML forbids (a control
    character in a model name from an old database) shown as U+FFFD; anything else as is."""
    if isinstance(value, str) and _FORBIDDEN.search(value):
        return type(value)(_FORBIDDEN.sub("\ufffd", value))
    return value


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_score(value: Any, digits: int = 0) -> str:
    """A score such as ``1,043``; an en dash when there is none."""
    return "–" if _missing(value) else f"{float(value):,.{digits}f}"


def fmt_pct(value: Any) -> str:
    """A share as ``62%``; an en dash when there is none."""
    return "–" if _missing(value) else f"{100 * float(value):.0f}%"


def fmt_int(value: Any) -> str:
    return "–" if _missing(value) else f"{int(value):,}"


def fmt_time(value: Any) -> str:
    """Unix seconds as ``2025-11-23 12:55 UTC`` (absolute, so pages do not go stale)."""
    if _missing(value):
        return "never"
    return _stamp(value, "%Y-%m-%d %H:%M UTC") or "unknown"


def _stamp(value: Any, layout: str) -> str:
    """Unix seconds in ``layout``; "" for a time no calendar holds (inf, 1e300)."""
    try:
        return datetime.fromtimestamp(float(value), timezone.utc).strftime(layout)
    except (OverflowError, OSError, ValueError):
        return ""


def iso_time(value: Any) -> str:
    """Unix seconds as a valid ``datetime`` attribute value."""
    if _missing(value):
        return ""
    return _stamp(value, "%Y-%m-%dT%H:%M:%SZ")


def rank_range(low: Any, high: Any) -> str:
    """``3`` or ``2–5``."""
    low, high = int(low), int(high)
    return str(low) if low == high else f"{low}–{high}"


def movement(delta: Any) -> str:
    """``▲2``, ``▼1`` or an empty string for a rank change (positive: moved up)."""
    if _missing(delta) or int(delta) == 0:
        return ""
    return f"▲{int(delta)}" if int(delta) > 0 else f"▼{-int(delta)}"


def isolate(value: Any) -> str:
    """User text wrapped in FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE, for places that
    cannot hold a ``<bdi>`` (the page title, attribute values): right-to-left text or an
    unterminated U+202E in it cannot reorder the text around it."""
    return f"\u2068{value}\u2069"


#: The mark standing for a model's output where no picture of it is shown.
KIND_MARKS = {"audio": "♪", "video": "▶", "text": "¶"}


def excerpt(entry: Any, limit: int) -> TextExcerpt | None:
    """The first ``limit`` characters of a text medium's entry (see :func:`text_excerpt`)."""
    return text_excerpt(Path(entry["source"]), limit)


def make_environment(user_templates: Path | None = None) -> jinja2.Environment:
    """The environment every page is rendered with (autoescape on, undefined is an error).

    :raises FileNotFoundError: ``user_templates`` is not a folder.
    """
    ours = jinja2.PackageLoader("site_builder", "templates")
    loaders: list[jinja2.BaseLoader] = []
    if user_templates is not None:
        if not Path(user_templates).is_dir():
            raise FileNotFoundError(f"templates folder not found: {user_templates}")
        loaders.append(jinja2.FileSystemLoader(str(user_templates)))
    loaders += [jinja2.PrefixLoader({"default": ours}), ours]
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=printable_html,
    )
    env.filters.update(score=fmt_score, pct=fmt_pct, int=fmt_int, time=fmt_time,
                       isotime=iso_time, movement=movement, isolate=isolate, excerpt=excerpt)
    env.globals.update(rank_range=rank_range, KIND_MARKS=KIND_MARKS)
    return env


def templates_digest(user_templates: Path | None) -> str:
    """A digest of every template and static file, ours and the user's, to notice edits."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for folder in (here / "templates", here / "static", user_templates):
        if folder is None or not Path(folder).is_dir():
            continue
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def write_page(env: jinja2.Environment, template: str, target: Path, **context: Any) -> int:
    """Render ``template`` to ``target``; return the bytes written."""
    html = env.get_template(template).render(**context)
    data = html.encode("utf-8")
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as fh:
        fh.write(data)
    return len(data)

