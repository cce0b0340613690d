"""Shared first steps of every ranking function: drop excluded votes, apply ``inverse``,
count wins/losses/ties, and put the rated models in a canonical (name) order.

The canonical order makes results independent of how the caller ordered its model list,
on top of the order of the votes (aggregated counts never depend on that).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ranking.votes import VoteArrays

__all__ = ["Prepared", "prepare", "prompt_clusters"]


@dataclass(frozen=True)
class Prepared:
    """Votes ready to fit.

    ``rows`` are the used (not excluded) rows of ``va``; ``a``, ``b`` their model indices
    into ``va.models`` and ``score`` the score of ``a`` after ``inverse``. ``wins``,
    ``losses``, ``ties`` count per model of ``va.models``. ``rated`` lists the models with
    at least one used vote, sorted by name; ``local`` maps a model index to its position
    in ``rated`` (-1 when unrated). ``n_excluded`` counts the votes left out because their
    rater was excluded, ``self_votes`` the (not excluded) votes of a model against itself.
    """

    va: VoteArrays
    rows: np.ndarray
    a: np.ndarray
    b: np.ndarray
    score: np.ndarray
    wins: np.ndarray
    losses: np.ndarray
    ties: np.ndarray
    rated: np.ndarray
    local: np.ndarray
    n_excluded: int
    self_votes: int

    @property
    def names(self) -> list[str]:
        """Names of the rated models, in canonical order."""
        return [self.va.models[k] for k in self.rated]


def prepare(va: VoteArrays, inverse: bool = False, rows: np.ndarray | None = None) -> Prepared:
    """Select used votes (optionally only ``rows``), flip for ``inverse``, and count.

    Votes of a model against itself are never used (they are counted by ``self_votes``).

    With ``inverse=True`` the chosen model is the worse one, so the score is flipped:
    ``wins`` then counts the times a model was judged better.
    """
    if rows is None:
        rows = np.arange(len(va))
    excluded = va.excluded[rows]
    same = va.a[rows] == va.b[rows]
    n_excluded, self_votes = int(np.count_nonzero(excluded)), int(np.count_nonzero(same & ~excluded))
    rows = rows[~excluded & ~same]
    a, b = va.a[rows], va.b[rows]
    score = va.score_a[rows]
    if inverse:
        score = 1.0 - score
    n = len(va.models)
    a_won = (score == 1.0).astype(np.float64)
    b_won = (score == 0.0).astype(np.float64)
    tied = (score == 0.5).astype(np.float64)
    wins = np.bincount(a, a_won, n) + np.bincount(b, b_won, n)
    losses = np.bincount(a, b_won, n) + np.bincount(b, a_won, n)
    ties = np.bincount(a, tied, n) + np.bincount(b, tied, n)
    played = np.flatnonzero(wins + losses + ties > 0)
    rated = played[np.argsort(np.array([va.models[k] for k in played], dtype=object),
                              kind="stable")] if len(played) else played
    local = np.full(n, -1, dtype=np.int64)
    local[rated] = np.arange(len(rated))
    return Prepared(va, rows, a, b, score, wins.astype(np.int64), losses.astype(np.int64),
                    ties.astype(np.int64), rated, local, n_excluded, self_votes)


def prompt_clusters(prep: Prepared) -> np.ndarray:
    """Cluster id per used vote: named prompts numbered in name order, -1 when unknown."""
    va = prep.va
    if not va.prompts:
        return np.full(len(prep.rows), -1, dtype=np.int64)
    p = va.prompt[prep.rows]
    present = np.flatnonzero(np.bincount(p, minlength=len(va.prompts)))
    named = [k for k in present if va.prompts[k] != ""]
    named.sort(key=lambda k: va.prompts[k])
    cluster_of = np.full(len(va.prompts), -1, dtype=np.int64)
    cluster_of[named] = np.arange(len(named))
    return cluster_of[p]
