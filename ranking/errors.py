"""The one exception type of :mod:`ranking`."""

from __future__ import annotations

__all__ = ["RankingError"]


class RankingError(ValueError):
    """Raised for invalid input to a :mod:`ranking` function.

    Messages name the offending value and say how to fix it. It subclasses
    :class:`ValueError`, so callers that already catch that keep working.
    """
