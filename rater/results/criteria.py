"""Results across a benchmark's criteria: overall standings and win/loss matrices.

Each leaderboard of a benchmark rates the same participants on the same prompts under its own
criterion. :func:`overall_standings` combines them with :func:`ranking.compute_overall_standings`
(a weighted mean of each criterion's ratings, the prompt-clustered bootstrap done jointly over
the criteria); prompts are named by their identifiers there, so a prompt is the same resampling
unit in every criterion.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

import ranking
from rater.errors import ValidationError
from rater.store import Store, catalog

from .quality import rater_stats
from .standings import BoardInfo, board_votes

__all__ = ["MIN_REPEATS_FOR_WEIGHT", "overall_standings", "rater_weights", "win_loss_matrix"]

#: Repeats a rater needs before their agreement becomes their weight (fewer: weight 1).
MIN_REPEATS_FOR_WEIGHT = 3


def _criterion_votes(store: Store, board: BoardInfo, tags: Sequence[str] | None) -> ranking.VoteArrays:
    arrays = board_votes(store, board, tags)
    identifiers = tuple(p["identifier"] for p in catalog.list_prompts(store.conn, board.id))
    return replace(arrays, prompts=identifiers)


def overall_standings(store: Store, boards: Sequence[BoardInfo], *, tags: Sequence[str] | None = None,
                      weights: Mapping[str, float] | None = None, **options: Any) -> pd.DataFrame:
    """One ranking across ``boards`` (criteria of one benchmark), best first.

    Leaderboards without a vote yet are left out (an empty criterion cannot rank anyone);
    ``df.attrs["leaderboards"]`` lists the ones used. A participant not yet rated on every
    used criterion is listed after the others with ``complete`` False and no score.
    ``weights`` are by leaderboard id (equal by default). Columns: see
    :func:`ranking.compute_overall_standings`; per-criterion scores are ``score_<board id>``.
    """
    criteria = {b.id: _criterion_votes(store, b, tags) for b in boards}
    used = {k: v for k, v in criteria.items() if len(v.a)}
    if weights is not None:
        unknown = [k for k in weights if k not in criteria]
        if unknown:
            raise ValidationError(f"weights name leaderboard {unknown[0]!r}, not one of {', '.join(criteria)}")
        weights = {k: w for k, w in weights.items() if k in used}
    if not used:
        return pd.DataFrame(columns=list(ranking.OVERALL_COLUMNS))
    inverse = {b.id: bool(b.inverse_ranking) for b in boards if b.id in used}
    try:
        table = ranking.compute_overall_standings(used, weights=weights, inverse=inverse, **options)
    except ranking.RankingError as exc:
        raise ValidationError(str(exc)) from exc
    table.attrs["leaderboards"] = list(used)
    return table


def rater_weights(store: Store, leaderboard_id: str) -> dict[str, float]:
    """Each rater's quality weight on the board: their agreement with themselves on
    quality-control repeats (the share of repeated pairs judged the same way), once they have
    at least :data:`MIN_REPEATS_FOR_WEIGHT` repeats; 1.0 before that. Excluded raters count
    nowhere anyway. (A rater flipping coins agrees half the time and so counts half.)"""
    return {s.name: (float(s.agreement) if s.agreement is not None and s.repeats >= MIN_REPEATS_FOR_WEIGHT else 1.0)
            for s in rater_stats(store, leaderboard_id)}


def win_loss_matrix(store: Store, boards: Sequence[BoardInfo], *, tags: Sequence[str] | None = None,
                    participant_ids: Sequence[int] | None = None,
                    use_weighted_scoring: bool = False) -> pd.DataFrame:
    """Win counts summed over ``boards``: cell ``[row, col]`` is how often the row participant
    beat the column one (a tie adds half to both; "which is worse?" boards count the other side
    as the winner). With ``use_weighted_scoring`` each vote counts its rater's
    :func:`rater_weights` instead of 1. ``participant_ids`` keeps only those participants."""
    total: pd.DataFrame | None = None
    for board in boards:
        arrays = board_votes(store, board, tags)
        weights = None
        if use_weighted_scoring:
            by_rater = rater_weights(store, board.id)
            weights = np.array([by_rater.get(arrays.raters[r], 1.0) for r in arrays.rater], dtype=float)
        frame = ranking.win_count_matrix(arrays, inverse=bool(board.inverse_ranking), weights=weights)
        total = frame if total is None else total.add(frame, fill_value=0.0)
    if total is None:
        return pd.DataFrame()
    if participant_ids is not None:
        names = _participant_names(store, boards, participant_ids)
        total = total.loc[[n for n in total.index if n in names], [n for n in total.columns if n in names]]
    order = list(total.index)
    return total.loc[order, order].fillna(0.0)


def _participant_names(store: Store, boards: Sequence[BoardInfo], ids: Sequence[int]) -> set[str]:
    known = {int(m["id"]): m["name"] for b in boards for m in catalog.list_models(store.conn, b.id)}
    wanted = [int(i) for i in ids]
    missing = [i for i in wanted if i not in known]
    if missing:
        raise ValidationError(f"participant id {missing[0]} is not rated on these leaderboards")
    return {known[i] for i in wanted}
