"""Standings over time: ranks and scores recomputed on all votes up to each period's end.

Each snapshot is the same full-data fit as :func:`ranking.compute_standings` (same model,
prior and canonical order, so the last snapshot's ranks equal the published ranks), without
intervals, warm-started from the previous snapshot. Periods are calendar days (weeks,
months) in UTC. At most ``max_periods`` snapshots are computed, evenly spread over the
periods that have votes and always including the first and the last.

A vote whose time cannot be placed on a calendar (not a number, before 1970, or after 2261,
where pandas' timestamps end: say an imported year 3000 or 1e300) is left out of the history
with a :class:`HistoryWarning`; the count is in the result's ``attrs["untimed_votes"]``.
Standings do not depend on times, so such votes still count there.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ranking.errors import RankingError
from ranking.fit import fit
from ranking.openskill_models import OpenSkillModel, resolve_scale
from ranking.pairs import PairTable, pair_table
from ranking.prepare import prepare
from ranking.votes import Vote, VoteArrays, as_vote_arrays

__all__ = ["HISTORY_COLUMNS", "HistoryWarning", "datable", "standings_history"]

#: Columns of :func:`standings_history`.
HISTORY_COLUMNS = ["period", "name", "rank", "score", "mu", "matches_so_far", "votes_so_far"]
_FREQ = {"day": "D", "week": "W", "month": "M"}
#: Vote times (Unix seconds) a calendar period can hold: 1970-01-01 up to 2262-01-01 UTC.
TIME_RANGE = (0.0, 9_214_646_400.0)


class HistoryWarning(UserWarning):
    """Some votes were left out of a history because their times cannot be dated."""


def datable(times: np.ndarray) -> np.ndarray:
    """True for each Unix time inside :data:`TIME_RANGE` (NaN and infinities are not)."""
    times = np.asarray(times, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return (times >= TIME_RANGE[0]) & (times < TIME_RANGE[1])


def _snapshot_indices(n_periods: int, max_periods: int) -> np.ndarray:
    if n_periods <= max_periods:
        return np.arange(n_periods)
    return np.unique(np.round(np.linspace(0, n_periods - 1, max_periods)).astype(np.int64))


def _local_table(
    gi: np.ndarray, gj: np.ndarray, games: np.ndarray, wins: np.ndarray,
    matches: np.ndarray, name_rank: np.ndarray,
) -> tuple[PairTable, np.ndarray]:
    """Pair table of the models rated so far, in the canonical (name) order used by
    :func:`ranking.compute_standings`, so both fit identical numbers."""
    rated = np.flatnonzero(matches)
    rated = rated[np.argsort(name_rank[rated])]
    local = np.full(len(matches), -1, dtype=np.int64)
    local[rated] = np.arange(len(rated))
    present = games > 0
    li, lj = local[gi[present]], local[gj[present]]
    g, w = games[present], wins[present]
    flip = li > lj
    lo, hi = np.where(flip, lj, li), np.where(flip, li, lj)
    w = np.where(flip, g - w, w)
    order = np.argsort(lo * len(rated) + hi)
    return PairTable(len(rated), lo[order], hi[order], g[order], w[order]), rated


def standings_history(
    votes: VoteArrays | Iterable[Vote],
    *,
    freq: str = "day",
    method: str | OpenSkillModel = "plackett_luce",
    inverse: bool = False,
    max_periods: int = 60,
) -> pd.DataFrame:
    """Long table of standings at the end of each period.

    :param freq: ``"day"``, ``"week"`` or ``"month"`` (UTC calendar periods of ``Vote.time``).
    :param method: OpenSkill model, as in :func:`ranking.compute_standings`.
    :param inverse: the chosen model is the worse one.
    :param max_periods: cap on the number of snapshots (evenly chosen; last always kept).
    :return: columns :data:`HISTORY_COLUMNS`: ``period`` is the period as text
        (``'2024-02-12'`` for a day, ``'2024-02-12/2024-02-18'`` for a week, ``'2024-02'``
        for a month); one row per model that had votes by then, ranked among those;
        ``matches_so_far`` counts the model's votes, ``votes_so_far`` the board's.
    """
    if freq not in _FREQ:
        raise RankingError(f"Unknown freq {freq!r}; use one of {sorted(_FREQ)}.")
    if max_periods < 1:
        raise RankingError(f"max_periods={max_periods!r} must be at least 1.")
    va = as_vote_arrays(votes)
    scale = resolve_scale(method)
    dated = datable(va.time)
    untimed = int((~dated & va.used).sum())
    if untimed:
        warnings.warn(f"{untimed} vote(s) with a time outside 1970-2261 (e.g. "
                      f"{float(va.time[~dated][0])!r}) left out of the standings history",
                      HistoryWarning, stacklevel=2)
    prep = prepare(va, inverse, rows=np.flatnonzero(dated))
    if len(prep.rows) == 0:
        empty = pd.DataFrame(columns=HISTORY_COLUMNS)
        empty.attrs["untimed_votes"] = untimed
        return empty

    stamps = pd.to_datetime(va.time[prep.rows], unit="s", utc=True).tz_localize(None)
    periods = pd.PeriodIndex(stamps, freq=_FREQ[freq])
    codes = periods.asi8
    by_time = np.argsort(codes, kind="stable")
    codes = codes[by_time]
    a, b, score = prep.a[by_time], prep.b[by_time], prep.score[by_time]
    distinct, first = np.unique(codes, return_index=True)
    ends = np.r_[first[1:], len(codes)]
    labels = pd.PeriodIndex.from_ordinals(distinct, freq=_FREQ[freq]).astype(str)

    n = len(va.models)
    names = np.array(va.models, dtype=object)
    name_rank = np.empty(n, dtype=np.int64)
    name_rank[np.argsort(names, kind="stable")] = np.arange(n)
    # Pair counts accumulate chunk by chunk: each vote is aggregated once, however many
    # snapshots there are.
    pairs, pair_idx, s_lo = pair_table(a, b, score, n)
    games = np.zeros(len(pairs))
    wins = np.zeros(len(pairs))
    matches = np.zeros(n, dtype=np.int64)
    z_prev = np.zeros(n)
    frames = []
    start = 0
    for k in _snapshot_indices(len(distinct), max_periods):
        end = int(ends[k])
        chunk = slice(start, end)
        games += np.bincount(pair_idx[chunk], minlength=len(pairs))
        wins += np.bincount(pair_idx[chunk], weights=s_lo[chunk], minlength=len(pairs))
        matches += np.bincount(a[chunk], minlength=n) + np.bincount(b[chunk], minlength=n)
        start = end
        table, rated = _local_table(pairs.i, pairs.j, games, wins, matches, name_rank)
        z = fit(table, scale.link, scale.prior_precision, z_prev[rated]).z
        z = z - z.mean()
        z_prev[rated] = z
        order = np.argsort(-z, kind="stable")
        frames.append(
            pd.DataFrame(
                {
                    "period": labels[k],
                    "name": names[rated[order]],
                    "rank": np.arange(1, len(rated) + 1),
                    "score": scale.to_score(z[order]),
                    "mu": scale.to_mu(z[order]),
                    "matches_so_far": matches[rated[order]],
                    "votes_so_far": end,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["name"] = out["name"].astype(str)
    out = out[HISTORY_COLUMNS]
    out.attrs["untimed_votes"] = untimed
    return out
