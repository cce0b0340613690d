"""Checks on what users type: names, prompts, instructions and flags."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Sequence

from rater.errors import UnregisteredPromptError, ValidationError

__all__ = [
    "check_flag",
    "MAX_NAME_LENGTH",
    "MAX_TEXT_LENGTH",
    "check_name",
    "check_text",
    "closest_prompt",
    "unregistered_prompt_error",
]

MAX_NAME_LENGTH = 200
MAX_TEXT_LENGTH = 10_000
MAX_TAG_LENGTH = 60  # a prompt tag or tag category


def _control_chars(value: str, allowed: str) -> list[str]:
    return [
        repr(ch)
        for ch in dict.fromkeys(value)
        if ch not in allowed and unicodedata.category(ch) in ("Cc", "Cs")
    ]


def _check(value: object, what: str, max_length: int, allowed: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{what} must be text, got {type(value).__name__}")
    if not value.strip():
        raise ValidationError(f"{what} is empty" + (" (only whitespace)" if value else ""))
    if all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in value):
        raise ValidationError(f"{what} has nothing visible (only invisible formatting characters)")
    if len(value) > max_length:
        raise ValidationError(
            f"{what} is {len(value):,} characters long; the limit is {max_length:,}"
        )
    bad = _control_chars(value, allowed)
    if bad:
        raise ValidationError(f"{what} contains control characters ({', '.join(bad[:5])})")
    return value


def check_name(value: object, what: str, *, max_length: int = MAX_NAME_LENGTH) -> str:
    """A one-line name (model, leaderboard, rater): non-empty, no control characters.

    The value is returned exactly as given (no trimming): what a user typed is what is stored.
    """
    return _check(value, what, max_length, "")


def check_text(value: object, what: str, *, max_length: int = MAX_TEXT_LENGTH) -> str:
    """Free text (prompt, instruction): like :func:`check_name` but tabs and newlines allowed."""
    return _check(value, what, max_length, "\t\n\r")


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def closest_prompt(prompt: str, registered: Sequence[str]) -> str | None:
    """The registered prompt most like ``prompt``, or None when nothing is close."""
    folded = _fold(prompt)
    for candidate in registered:
        if _fold(candidate) == folded:
            return candidate
    by_fold = {_fold(c): c for c in registered}
    match = difflib.get_close_matches(folded, list(by_fold), n=1, cutoff=0.5)
    return by_fold[match[0]] if match else None


def unregistered_prompt_error(prompt: str, registered: Sequence[str], where: str,
                              what: str = "prompt") -> UnregisteredPromptError:
    """An error naming the unregistered prompt (or, ``what="identifier"``, a benchmark's
    prompt identifier) and the closest registered one."""
    shown = prompt if len(prompt) <= 120 else prompt[:117] + "..."
    on = "this benchmark" if what == "identifier" else "this leaderboard"
    message = f"{where}: {what} {shown!r} is not registered on {on}"
    closest = closest_prompt(prompt, registered)
    if closest is not None:
        if _fold(closest) == _fold(prompt):
            message += f"; it differs only in case or whitespace from {closest!r}"
        else:
            message += f"; did you mean {closest!r}?"
    else:
        shown_by = "`rater benchmark show --prompts`" if what == "identifier" else "`rater show`"
        message += f" ({len(registered)} {what}s are registered; see {shown_by})"
    return UnregisteredPromptError(message)


def check_count(value: object, what: str, minimum: int = 0) -> int:
    """``value`` if it is an integer (not a bool) of at least ``minimum``.

    :raises ValidationError: anything else.
    """
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer of at least {minimum}"
        raise ValidationError(f"{what} must be {kind}, got {value!r}")
    return value


def check_flag(value: object, what: str) -> bool:
    """``value`` if it is True or False (not 1, not "yes").

    :raises ValidationError: anything else.
    """
    if not isinstance(value, bool):
        raise ValidationError(f"{what} must be True or False, got {value!r}")
    return value
