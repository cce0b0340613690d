"""Aggregating votes into pair counts: what every fit in :mod:`ranking` works on.

A model pair ``(i, j)`` with ``i < j`` is summarised by its number of games and the score
of ``i`` (wins + ties/2). Scores are multiples of 0.5, so these sums are exact in floating
point and do not depend on the order of the votes. For the prompt-clustered bootstrap and
sandwich, the same counts are kept per resampling unit: one unit per named prompt, and one
per vote for votes without a prompt (grouped by pair and outcome, since such votes are
interchangeable).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

__all__ = ["PairTable", "Units", "pair_table", "resampling_units"]

#: With fewer distinct named prompts (one) there is no prompt-to-prompt spread to resample,
#: so every vote becomes its own resampling unit.
MIN_CLUSTERS = 2
_DENSE_KEYS = 20_000_000


@dataclass(frozen=True)
class PairTable:
    """Pair counts of ``n`` models: ``games`` and ``score`` (of ``i``) for each ``i < j``."""

    n: int
    i: np.ndarray
    j: np.ndarray
    games: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.i)

    @classmethod
    def from_dense(cls, games: np.ndarray, score: np.ndarray) -> PairTable:
        """From ``n x n`` matrices (``score[i, j]``: score of ``i`` against ``j``)."""
        n = games.shape[0]
        iu, ju = np.triu_indices(n, 1)
        g = games[iu, ju] + games[ju, iu]
        s = score[iu, ju] + (games[ju, iu] - score[ju, iu])
        keep = g > 0
        return cls(n, iu[keep], ju[keep], g[keep].astype(float), s[keep].astype(float))


def _group(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ``keys`` (sorted) and each element's position among them."""
    if size <= _DENSE_KEYS:
        present = np.bincount(keys, minlength=size) > 0
        distinct = np.flatnonzero(present)
        position = np.zeros(size, dtype=np.int64)
        position[distinct] = np.arange(len(distinct))
        return distinct, position[keys]
    distinct, inverse = np.unique(keys, return_inverse=True)
    return distinct, inverse.reshape(-1)


def pair_table(
    a: np.ndarray, b: np.ndarray, score_a: np.ndarray, n: int
) -> tuple[PairTable, np.ndarray, np.ndarray]:
    """Aggregate votes into a :class:`PairTable`.

    :param a: index of model a per vote (``0 <= a < n``).
    :param b: index of model b per vote.
    :param score_a: 1.0, 0.5 or 0.0 per vote.
    :return: the table, each vote's pair index, and each vote's score for the lower index.
    """
    a64 = a.astype(np.int64)
    b64 = b.astype(np.int64)
    lo = np.minimum(a64, b64)
    hi = np.maximum(a64, b64)
    s_lo = np.where(a64 < b64, score_a, 1.0 - score_a)
    keys, pair_idx = _group(lo * n + hi, n * n)
    games = np.bincount(pair_idx, minlength=len(keys)).astype(np.float64)
    score = np.bincount(pair_idx, weights=s_lo, minlength=len(keys))
    table = PairTable(n, keys // n, keys % n, games, score)
    return table, pair_idx, s_lo


@dataclass(frozen=True)
class Units:
    """Resampling units for the bootstrap and the cluster-robust sandwich.

    ``cluster_games`` and ``cluster_score`` are sparse ``(clusters x pairs)`` matrices (one
    row per named prompt, in prompt-name order). Votes without a prompt form categories
    (pair, score of the lower index) with ``cat_count`` interchangeable votes each.
    """

    cluster_games: sparse.csr_matrix
    cluster_score: sparse.csr_matrix
    cat_pair: np.ndarray
    cat_score: np.ndarray
    cat_count: np.ndarray
    by_prompt: bool
    n_prompts: int

    @property
    def n_clusters(self) -> int:
        return int(self.cluster_games.shape[0])


def resampling_units(
    pair_idx: np.ndarray, s_lo: np.ndarray, cluster: np.ndarray, n_pairs: int,
    n_clusters: int | None = None,
) -> Units:
    """Group votes into resampling units.

    :param pair_idx: each vote's pair index (from :func:`pair_table`).
    :param s_lo: each vote's score for the pair's lower index.
    :param cluster: each vote's cluster id (``0..k-1``, ordered by prompt name) or -1 when
        its prompt is unknown. With fewer than :data:`MIN_CLUSTERS` clusters (a single
        prompt) every vote is treated as independent.
    :param n_clusters: number of clusters when some ids have no vote here (joint resampling
        of several boards over one prompt set numbers the prompts of all of them); defaults
        to the largest id + 1.
    """
    named = cluster >= 0
    n_named = int(cluster.max()) + 1 if named.any() else 0
    if n_clusters is not None:
        n_named = max(n_named, int(n_clusters))
    n_prompts = n_named
    by_prompt = n_named >= MIN_CLUSTERS
    if not by_prompt:
        named = np.zeros(len(cluster), dtype=np.bool_)
        n_named = 0
    single = ~named
    cat_keys, cat_idx = _group(pair_idx[single] * 3 + (2.0 * s_lo[single]).astype(np.int64),
                               3 * max(n_pairs, 1))
    cat_count = np.bincount(cat_idx, minlength=len(cat_keys)).astype(np.float64)
    cat_pair, cat_score = cat_keys // 3, (cat_keys % 3) / 2.0

    c = cluster[named].astype(np.int64)
    cell_keys, cell_idx = _group(c * n_pairs + pair_idx[named], n_named * n_pairs)
    cell_games = np.bincount(cell_idx, minlength=len(cell_keys)).astype(np.float64)
    cell_score = np.bincount(cell_idx, weights=s_lo[named], minlength=len(cell_keys))
    rows, cols = cell_keys // max(n_pairs, 1), cell_keys % max(n_pairs, 1)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n_named))])
    shape = (n_named, n_pairs)
    games = sparse.csr_matrix((cell_games, cols, indptr), shape=shape)
    score = sparse.csr_matrix((cell_score, cols, indptr), shape=shape)
    return Units(games, score, cat_pair, cat_score, cat_count, by_prompt, n_prompts)
