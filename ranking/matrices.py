"""Pairwise matrices: observed win rates, vote counts and predicted win probabilities.

Rows and columns are model names. By default they follow ``votes.models`` (for votes) or
the standings order (for a standings table); pass ``order`` to choose, e.g.
``order=standings["name"]`` for a heat map sorted by rank. Excluded votes are left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ranking.errors import RankingError
from ranking.fit import win_probability
from ranking.openskill_models import ELO_PER_LOGIT, SCORE_CENTRE
from ranking.prepare import prepare
from ranking.standings import compute_standings
from ranking.votes import Vote, VoteArrays, as_vote_arrays

__all__ = ["predicted_win_matrix", "vote_count_matrix", "win_count_matrix", "win_rate_matrix"]


def _counts(va: VoteArrays, inverse: bool, weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``games[i, j]`` and ``score[i, j]`` (wins of ``i`` over ``j`` + ties/2), each vote
    counting ``weights[row]`` (1 when ``None``)."""
    prep = prepare(va, inverse)
    n = len(va.models)
    a, b = prep.a.astype(np.int64), prep.b.astype(np.int64)
    w = np.ones(len(prep.rows)) if weights is None else weights[prep.rows]
    games = np.bincount(a * n + b, weights=w, minlength=n * n).reshape(n, n)
    score_ab = np.bincount(a * n + b, weights=w * prep.score, minlength=n * n).reshape(n, n)
    score_ba = np.bincount(b * n + a, weights=w * (1.0 - prep.score), minlength=n * n).reshape(n, n)
    return games + games.T, score_ab + score_ba


def _ordered(frame: pd.DataFrame, order: Sequence[str] | None) -> pd.DataFrame:
    if order is None:
        return frame
    order = list(order)
    unknown = [m for m in order if m not in frame.index]
    if unknown:
        raise RankingError(f"order names unknown model(s) {unknown[:3]}; use names from the votes.")
    return frame.loc[order, order]


def vote_count_matrix(
    votes: VoteArrays | Iterable[Vote], *, order: Sequence[str] | None = None
) -> pd.DataFrame:
    """Number of votes between the row and column model (symmetric, zero diagonal)."""
    va = as_vote_arrays(votes)
    games, _ = _counts(va, False)
    frame = pd.DataFrame(games.astype(np.int64), index=list(va.models), columns=list(va.models))
    return _ordered(frame, order)


def win_count_matrix(
    votes: VoteArrays | Iterable[Vote],
    *,
    inverse: bool = False,
    weights: np.ndarray | None = None,
    order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """How often the row model beat the column model (the hosted SDK's win/loss matrix).

    A tie adds 0.5 to both cells; the diagonal is 0; excluded votes (and votes of a model
    against itself) are left out. ``weights`` (one non-negative finite number per vote row)
    makes each vote count that much, e.g. its rater's quality weight. Values are floats
    either way (whole numbers when there are no weights and no ties), so that tie halves
    and weights need no other type. ``inverse=True`` for "which is worse?" boards: a win is
    then being judged better.
    """
    va = as_vote_arrays(votes)
    if weights is not None:
        weights = np.asarray(weights, dtype=np.float64)
        if weights.shape != (len(va),):
            raise RankingError(f"weights has shape {weights.shape}; it needs one number per vote ({len(va)}).")
        if not np.all(np.isfinite(weights) & (weights >= 0)):
            raise RankingError("weights must be finite numbers >= 0 (one per vote).")
    _, score = _counts(va, inverse, weights)
    frame = pd.DataFrame(score, index=list(va.models), columns=list(va.models))
    return _ordered(frame, order)


def win_rate_matrix(
    votes: VoteArrays | Iterable[Vote],
    *,
    inverse: bool = False,
    order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Observed rate at which the row model beat the column model, ties counting half.

    ``NaN`` where the two never met (and on the diagonal). ``inverse=True`` for "which is
    worse?" boards: a win is then being judged better.
    """
    va = as_vote_arrays(votes)
    games, score = _counts(va, inverse)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(games > 0, score / np.where(games > 0, games, 1.0), np.nan)
    frame = pd.DataFrame(rate, index=list(va.models), columns=list(va.models))
    return _ordered(frame, order)


def predicted_win_matrix(
    standings_or_votes: pd.DataFrame | VoteArrays | Iterable[Vote],
    *,
    order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Predicted probability that the row model is chosen over the column model.

    :param standings_or_votes: a table from :func:`ranking.compute_standings` (its
        ``score`` and ``attrs`` are used, so the prediction uses the same model it was fitted
        with), or votes, which are ranked first with ``n_bootstrap=0``.
    Models without a score (no votes) have ``NaN`` rows and columns; the diagonal is ``NaN``.
    """
    if isinstance(standings_or_votes, pd.DataFrame):
        standings = standings_or_votes
        missing = {"name", "score"} - set(standings.columns)
        if missing:
            raise RankingError(
                f"predicted_win_matrix needs a standings table with 'name' and 'score' "
                f"columns; missing {sorted(missing)}. Pass compute_standings(...) output."
            )
    else:
        standings = compute_standings(standings_or_votes, n_bootstrap=0)
    per_unit = float(standings.attrs.get("score_per_unit", ELO_PER_LOGIT))
    link = str(standings.attrs.get("link", "logit"))
    z = (standings["score"].to_numpy(dtype=np.float64) - SCORE_CENTRE) / per_unit
    prob = win_probability(z[:, None] - z[None, :], link)
    np.fill_diagonal(prob, np.nan)
    names = list(standings["name"])
    return _ordered(pd.DataFrame(prob, index=names, columns=names), order)
