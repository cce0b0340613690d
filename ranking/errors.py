"""The one exception type of :mod:`ranking`, and its one warning."""

from __future__ import annotations

__all__ = ["RankingError", "RankingWarning"]


class RankingError(ValueError):
    """Raised for invalid input to a :mod:`ranking` function.

    Messages name the offending value and say how to fix it. It subclasses
    :class:`ValueError`, so callers that already catch that keep working.
    """


class RankingWarning(UserWarning):
    """Input that :mod:`ranking` repaired rather than refused, e.g. a vote between a model
    and itself (dropped: it cannot move any rating)."""
