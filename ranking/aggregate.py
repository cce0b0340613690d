"""Majority aggregation: one vote per matchup (the hosted service's ``MAJORITY_VOTE``).

By default every vote counts (``ALL_VOTES``), which is what the ranking model handles best:
each vote is evidence, and the fit weighs a 9-1 matchup more than a 6-4 one. Majority
aggregation keeps one outcome per matchup (media pair), for boards that want each pair
judged by a panel rather than counted vote by vote.
"""

from __future__ import annotations

import numpy as np

from ranking.errors import RankingError
from ranking.votes import VoteArrays

__all__ = ["majority_votes"]


def majority_votes(votes: VoteArrays, matchup: np.ndarray, min_responses: int = 1) -> VoteArrays:
    """One vote per matchup: its majority outcome.

    :param votes: the board's votes.
    :param matchup: an integer key per vote row naming the media pair it judged (the caller
        builds it from the unordered pair of media, so both sides' orders share one key).
    :param min_responses: a matchup with fewer counted votes is dropped (>= 1).
    :return: the same models, prompts and raters with one row per kept matchup, ordered by
        key. Excluded votes and votes of a model against itself are not counted. Sides are
        aligned (``a`` is the pair's model listed first in ``votes.models``) and the mean
        score of ``a`` decides: above 0.5 gives 1.0, below gives 0.0, exactly 0.5 (a tie of
        the majority; a tie vote counts half each way) gives 0.5, which splits the matchup
        0.5/0.5 as the hosted service does. ``prompt`` is the matchup's prompt, ``time``
        its latest vote's, ``rater`` the rater of its earliest vote (the first to judge it;
        equal times: the first row), ``excluded`` False, ``anonymous`` True only when every
        counted vote was.
    :raises RankingError: when ``matchup`` is not one integer per row, ``min_responses`` is
        not a whole number >= 1, or one key holds votes of different model pairs or prompts.
    """
    key = np.asarray(matchup)
    if key.shape != (len(votes),) or (len(key) and not np.issubdtype(key.dtype, np.integer)):
        raise RankingError(f"matchup must hold one integer key per vote ({len(votes)}), "
                           f"got shape {key.shape} of {key.dtype}.")
    if isinstance(min_responses, bool) or not isinstance(min_responses, (int, np.integer)) or min_responses < 1:
        raise RankingError(f"min_responses={min_responses!r} must be a whole number >= 1.")
    rows = np.flatnonzero(votes.used)
    a, b = votes.a[rows].astype(np.int64), votes.b[rows].astype(np.int64)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    s_lo = np.where(a == lo, votes.score_a[rows], 1.0 - votes.score_a[rows])
    keys, group = np.unique(key[rows].astype(np.int64), return_inverse=True)
    group = group.reshape(-1)
    g = len(keys)
    count = np.bincount(group, minlength=g)
    first = _first(group, np.arange(len(rows)), g)
    for column, what in ((lo, "model pairs"), (hi, "model pairs"), (votes.prompt[rows], "prompts")):
        differs = column != column[first][group]
        if differs.any():
            raise RankingError(f"matchup key {int(keys[group[np.argmax(differs)]])} holds votes "
                               f"of different {what}; a key must name one media pair.")
    mean = np.bincount(group, s_lo, g) / np.maximum(count, 1)
    earliest = _first(group, np.lexsort((np.arange(len(rows)), votes.time[rows])), g)
    anonymous = (np.ones(len(rows), bool) if votes.anonymous is None else votes.anonymous[rows])
    latest = np.full(g, -np.inf)
    np.maximum.at(latest, group, votes.time[rows])
    all_anonymous = np.bincount(group, ~anonymous, g) == 0
    keep = count >= min_responses
    pick = earliest[keep]
    return VoteArrays(
        models=votes.models,
        prompts=votes.prompts,
        raters=votes.raters,
        a=lo[pick],
        b=hi[pick],
        score_a=np.where(mean > 0.5, 1.0, np.where(mean < 0.5, 0.0, 0.5))[keep],
        prompt=votes.prompt[rows][pick],
        rater=votes.rater[rows][pick],
        time=latest[keep],
        excluded=np.zeros(int(keep.sum()), dtype=np.bool_),
        anonymous=all_anonymous[keep],
    )


def _first(group: np.ndarray, order: np.ndarray, g: int) -> np.ndarray:
    """Per group, the first element of ``order`` (positions) belonging to it."""
    out = np.full(g, -1, dtype=np.int64)
    grouped = group[order]
    _, where = np.unique(grouped, return_index=True)
    out[grouped[where]] = order[where]
    return out
