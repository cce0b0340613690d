"""Reading JSON Lines text: one JSON object per line, blank lines skipped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from .errors import LeaderboardError

__all__ = ["json_objects"]


def json_objects(
    text: str, where: str, error: type[LeaderboardError], expected: str = "a JSON object"
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, object)`` for each non-blank line.

    Lines are split on ``"\\n"`` only, not with ``str.splitlines()``: JSON text may hold U+2028
    and U+2029 unescaped inside strings.

    :param where: names the source in messages, e.g. ``"manifest out/m.jsonl"``.
    :param error: the exception raised for a malformed line.
    :param expected: what a line must be, for the message when it is not an object.
    """
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{where}, line {number}: not valid JSON ({exc.msg})") from None
        if not isinstance(item, dict):
            raise error(f"{where}, line {number}: expected {expected}")
        yield number, item
