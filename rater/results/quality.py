"""Quality control of raters: how consistent, how biased and how fast each one votes.

Three figures per rater, all from stored matchups and votes:

- **agreement**: on *repeats* (a pair the rater already judged, served again with the sides
  swapped) the share of votes that pick the same media as the rater's earlier vote on that pair
  (a tie agrees only with a tie). Sides are compared by media, not by position, so ``"left"`` now
  agrees with ``"right"`` then when the sides were swapped.
- **left_rate**: the share of non-tie votes that went to the left side (A). Around 0.5 is
  healthy; far from it suggests position bias.
- **median_seconds**: the median time a pair was on screen before the vote: from when it was
  served, or from the rater's previous vote on the board if that came later (the rating app
  prepares the next pair before the current one is voted on).

- **gold accuracy**: the share of votes on gold pairs (known-answer pairs) that picked the
  better side; with ``reason``, why a rater is excluded (by the owner, a failed qualification,
  accuracy or agreement below the board's threshold: :mod:`rater.matchmaking.gold`).

Excluding a rater keeps their votes stored and leaves them out of standings; including them again
restores them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rater.errors import NotFoundError
from rater.store import gold, votes

if TYPE_CHECKING:
    from rater.store import Store

__all__ = ["RaterStats", "rater_stats", "set_rater_excluded"]


@dataclass(frozen=True)
class RaterStats:
    """One rater's figures on one leaderboard.

    :param name: the rater id stored on each vote.
    :param votes: votes cast on this board, repeats included.
    :param repeats: repeat votes whose original pair this rater had voted on.
    :param agreement: share of those repeats agreeing with the earlier vote; None without repeats.
    :param left_rate: share of non-tie votes for the left side; None without non-tie votes.
    :param median_seconds: median seconds from pair shown to vote; None without votes.
    :param excluded: whether the rater's votes are left out of standings.
    :param gold_votes: votes on gold pairs; ``gold_correct``: those that picked the better side.
    :param gold_accuracy: their share; None without gold votes.
    :param reason: why the rater is excluded (or still qualifying); None when included.
    :param qualified: True/False once the board's qualification is decided; else None.
    """

    name: str
    votes: int
    repeats: int
    agreement: float | None
    left_rate: float | None
    median_seconds: float | None
    excluded: bool
    gold_votes: int = 0
    gold_correct: int = 0
    gold_accuracy: float | None = None
    reason: str | None = None
    qualified: bool | None = None


def _empty(name: str, excluded: bool) -> RaterStats:
    return RaterStats(name, 0, 0, None, None, None, excluded)


def _figures(rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    """One row per rater: votes, repeats, agreement, left_rate, median_seconds."""
    df = pd.DataFrame(rows, columns=["rater", "vote_id", "voted_at", "served_at", "choice", "agrees"])
    df = df.sort_values(["rater", "voted_at", "vote_id"], kind="stable")
    previous = df.groupby("rater", sort=False)["voted_at"].shift().fillna(-np.inf)
    df["seconds"] = (df["voted_at"] - np.maximum(df["served_at"], previous)).clip(lower=0.0)
    df["left"] = (df["choice"] == "left").astype(float)
    df["decided"] = (df["choice"] != "tie").astype(float)
    df["agrees"] = pd.to_numeric(df["agrees"], errors="coerce")
    out = df.groupby("rater").agg(
        votes=("choice", "size"), lefts=("left", "sum"), decided=("decided", "sum"),
        repeats=("agrees", "count"), agreeing=("agrees", "sum"), median_seconds=("seconds", "median"),
    )
    out["agreement"] = out["agreeing"] / out["repeats"].where(out["repeats"] > 0)
    out["left_rate"] = out["lefts"] / out["decided"].where(out["decided"] > 0)
    return out


def _number(value: Any) -> float | None:
    return None if pd.isna(value) else float(value)


def rater_stats(store: Store, leaderboard_id: str) -> list[RaterStats]:
    """Figures for everyone who was served a pair on the board, most votes first."""
    conn = store.conn
    excluded = votes.excluded_raters(conn, leaderboard_id)
    stats = {name: _empty(name, name in excluded) for name in votes.rater_names(conn, leaderboard_id)}
    rows = votes.rater_vote_rows(conn, leaderboard_id)
    if rows:
        for name, r in _figures(rows).iterrows():
            stats[name] = RaterStats(
                name=str(name), votes=int(r["votes"]), repeats=int(r["repeats"]),
                agreement=_number(r["agreement"]), left_rate=_number(r["left_rate"]),
                median_seconds=_number(r["median_seconds"]), excluded=name in excluded,
            )
    tallies, records = gold.gold_tallies(conn, leaderboard_id), gold.gold_rows(conn, leaderboard_id)
    for name, s in stats.items():
        cast, right = tallies.get(name, (0, 0))
        record = records.get(name, {})
        qualified = record.get("qualified")
        stats[name] = replace(s, gold_votes=cast, gold_correct=right,
                              gold_accuracy=right / cast if cast else None,
                              reason=record.get("reason") if s.excluded else None,
                              qualified=None if qualified is None else bool(qualified))
    return sorted(stats.values(), key=lambda s: (-s.votes, s.name))


def set_rater_excluded(store: Store, leaderboard_id: str, rater_id: str, excluded: bool) -> None:
    """Leave a rater's votes out of standings (``excluded=True``) or count them again; the
    owner's decision stands (no automatic rule of :mod:`rater.matchmaking.gold` overrides it).

    :raises NotFoundError: nobody of that name was served a pair on this board.
    """
    with store.write() as conn:
        if not votes.rater_known(conn, leaderboard_id, rater_id):
            known = votes.rater_names(conn, leaderboard_id)
            shown = ", ".join(repr(n) for n in known[:10]) or "none yet"
            raise NotFoundError(
                f"no rater named {rater_id!r} on leaderboard {leaderboard_id} (raters: {shown})"
            )
        votes.set_rater_excluded(conn, leaderboard_id, rater_id, bool(excluded))
        gold.set_rater_judgement(conn, leaderboard_id, rater_id, excluded=bool(excluded),
                                 reason="excluded by the owner" if excluded else None, by_owner=True)
