"""Chatbot/GenAI-Arena compatible ratings ("Arena Elo").

The published Arena leaderboards are a Bradley-Terry fit by L2-penalised logistic
regression: every vote is stacked twice, with feature ``+ln(10)`` for ``model_a`` and
``-ln(10)`` for ``model_b`` (no intercept); the label is 1 when ``model_a`` won and a tie is
labelled 1 in the first copy and 0 in the second (one win each way); the objective is
``0.5 * ||w||^2 + C * sum(logloss)`` with ``C = 1`` (scikit-learn's defaults); the rating is
``1000 + 400 * w``. :func:`arena_elo` minimises exactly that objective, to convergence,
by Newton's method on aggregated pair counts (the published numbers come from an
optimiser that stopped early, so they differ by a few points; the order is the same).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ranking.errors import RankingError
from ranking.fit import fit
from ranking.pairs import PairTable, pair_table
from ranking.prepare import prepare
from ranking.votes import Vote, VoteArrays, as_vote_arrays

__all__ = ["arena_elo"]


def arena_elo(
    votes: VoteArrays | Iterable[Vote],
    *,
    anonymous_only: bool = False,
    C: float = 1.0,
    scale: float = 400.0,
    base: float = 10.0,
    init_rating: float = 1000.0,
) -> pd.DataFrame:
    """Arena-style Bradley-Terry ratings.

    :param votes: the votes; excluded ones are left out.
    :param anonymous_only: use only votes cast without seeing model names
        (``Vote.anonymous``), like the first "Arena Elo rating (anony)" column.
    :param C: inverse L2 strength of scikit-learn's ``LogisticRegression``.
    :param scale: rating points per ``log_base`` odds unit.
    :param base: odds base of the features (``+-ln(base)``).
    :param init_rating: rating of a model with ``w = 0``.
    :return: ``name, rating, votes`` for every model with at least one used vote, best first.
    """
    if C <= 0:
        raise RankingError(f"C={C!r} must be > 0 (scikit-learn's default is 1.0).")
    va = as_vote_arrays(votes)
    rows = None
    if anonymous_only and va.anonymous is not None:
        rows = np.flatnonzero(va.anonymous)
    prep = prepare(va, rows=rows)
    m = len(prep.rated)
    if m == 0:
        return pd.DataFrame({"name": [], "rating": [], "votes": []})
    table, _, _ = pair_table(prep.local[prep.a], prep.local[prep.b], prep.score, m)
    doubled = PairTable(m, table.i, table.j, 2.0 * table.games, 2.0 * table.score)
    log_base = math.log(base)
    # With z = ln(base) * w, the penalty 0.5 * ||w||^2 / C has precision 1 / (C ln(base)^2).
    result = fit(doubled, "logit", 1.0 / (C * log_base**2), tol=1e-12)
    rating = init_rating + scale * result.z / log_base
    played = (prep.wins + prep.losses + prep.ties)[prep.rated]
    frame = pd.DataFrame({"name": prep.names, "rating": rating, "votes": played})
    return frame.sort_values(["rating", "name"], ascending=[False, True], ignore_index=True)
