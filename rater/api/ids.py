"""Ids of benchmarks and leaderboards."""

from __future__ import annotations

import secrets

__all__ = ["new_leaderboard_id"]

_ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no look-alikes (l/1, o/0)


def new_leaderboard_id() -> str:
    """A short, URL-safe, random id such as ``"k7gq2mxa"``."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))
