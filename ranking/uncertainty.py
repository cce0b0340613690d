"""Honest uncertainty: intervals that respect prompt clustering, and ranks that respect them.

Votes on the same prompt are correlated (a model may simply be good at that prompt), so
treating them as independent makes intervals too narrow. Two interval methods, both on
the resampling units of :func:`ranking.pairs.resampling_units` (a named prompt, or a
single vote when its prompt is unknown):

* :func:`bootstrap_ratings`: Poisson bootstrap of whole units, done on aggregated
  per-unit pair counts (one sparse product per batch) and refitted for all replicates at
  once; percentile intervals of the centred ratings.
* :func:`sandwich_covariance`: the cluster-robust sandwich ``H^-1 M H^-1`` at the fit
  (used when ``n_bootstrap=0``; cheap).

Intervals are ``z +- t_(G-1) * sqrt(G / (G-1)) * se`` (:func:`interval_halfwidth`), with
``G`` prompts resampled: the usual small-sample correction of a cluster bootstrap or sandwich,
which on its own is ``(G-1)/G`` too small in variance and normal, not Student, in shape. On
simulated boards (``benchmarks/interval_calibration.py``) this covers the truth 94-96% of
the time for a nominal 95%, with and without prompt effects and ties, where percentile
intervals under-cover (91-94%) and the old "never narrower than Fisher" rule over-covers
(96-98%) on boards with ties. Boards of 2-9 prompts resample prompts too: with prompt
effects this covers 96-99% where resampling votes one by one covered 49-62%, at 2.8x (8
prompts) to 5.9x (4 prompts) the width; a single prompt has only its votes to resample. The
Fisher interval stays as a floor only where resampling cannot see the spread
(:func:`needs_floor`).

Ranks: :func:`rank_ranges` applies Chatbot Arena's rule in both directions and
:func:`tied_groups` groups models whose intervals overlap the group's leader.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.stats import norm
from scipy.stats import t as student_t

from ranking.fit import fit_batch, laplacian, pair_terms
from ranking.pairs import PairTable, Units

__all__ = [
    "FEW_PROMPTS", "MIN_OUTCOMES", "bootstrap_ratings", "category_meat", "cluster_scores",
    "interval_halfwidth", "needs_floor", "rank_ranges", "sandwich_covariance", "tied_groups",
]

_BATCH_CELLS = 20_000_000

#: A board naming fewer prompts than this keeps the Fisher interval as a floor.
FEW_PROMPTS = 10

#: A model with fewer wins or fewer losses than this keeps the Fisher interval as a floor.
MIN_OUTCOMES = 10


def interval_halfwidth(se: np.ndarray, n_prompts: int, confidence: float) -> np.ndarray:
    """Half-width ``t_(G-1) * sqrt(G / (G-1)) * se`` of a two-sided interval.

    :param se: standard errors from a bootstrap or sandwich that resamples ``n_prompts``
        (``G``) prompts. Both are ``(G-1)/G`` too small in variance, and their ratio to the
        truth is Student rather than normal with ``G - 1`` degrees of freedom. When votes
        are resampled one by one (``n_prompts`` 0) the normal quantile is used: thousands of
        units need no correction, and a handful gets the Fisher floor (:func:`needs_floor`).
    """
    if n_prompts < 2:
        return norm.ppf(0.5 + confidence / 2.0) * se
    g = float(n_prompts)
    return student_t.ppf(0.5 + confidence / 2.0, g - 1) * np.sqrt(g / (g - 1.0)) * se


def needs_floor(units: Units, wins: np.ndarray, losses: np.ndarray) -> np.ndarray:
    """Models whose interval must not be narrower than the fit's own (Fisher) one.

    Resampling cannot see spread that the data never shows: every model when the board
    names 1 to :data:`FEW_PROMPTS` - 1 prompts (2-9 prompts are resampled, but a handful
    of draws can by chance look alike; a single prompt has its votes resampled one by one,
    blind to how another prompt would rank the models), and a model with fewer than
    :data:`MIN_OUTCOMES` wins or losses (only ties, or a handful of identical outcomes,
    resample to almost no spread; that is not certainty).
    """
    few_prompts = 0 < units.n_prompts < FEW_PROMPTS
    return few_prompts | (wins < MIN_OUTCOMES) | (losses < MIN_OUTCOMES)


def _resampled_counts(
    table: PairTable, units: Units, rng: np.random.Generator, n_rep: int,
    weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap replicates of the pair counts: ``(n_rep, pairs)`` games and scores.

    ``weight`` gives the clusters' Poisson weights ``(n_rep, clusters)`` (drawn here when
    ``None``); the votes without a prompt are always drawn from ``rng``.
    """
    n_pairs = len(table)
    games = np.zeros((n_rep, n_pairs))
    score = np.zeros((n_rep, n_pairs))
    if units.n_clusters:
        if weight is None:
            weight = rng.poisson(1.0, size=(n_rep, units.n_clusters)).astype(np.float64)
        games += np.asarray(units.cluster_games.T @ weight.T).T
        score += np.asarray(units.cluster_score.T @ weight.T).T
    if len(units.cat_pair):
        # Each of a category's k interchangeable votes gets a Poisson(1) weight: Poisson(k).
        drawn = rng.poisson(units.cat_count, size=(n_rep, len(units.cat_pair))).astype(float)
        onehot = sparse.csr_matrix(
            (np.ones(len(units.cat_pair)), (np.arange(len(units.cat_pair)), units.cat_pair)),
            shape=(len(units.cat_pair), n_pairs),
        )
        games += np.asarray(onehot.T @ drawn.T).T
        score += np.asarray(onehot.T @ (drawn * units.cat_score).T).T
    return games, score


def bootstrap_ratings(
    table: PairTable,
    units: Units,
    z_hat: np.ndarray,
    link: str,
    prior_precision: float,
    n_bootstrap: int,
    seed: int,
    cluster_weights: np.ndarray | None = None,
) -> np.ndarray:
    """Centred ratings (link units) of ``n_bootstrap`` resampled data sets, ``(B, n)``.

    Replicates are fitted in batches small enough to keep the dense Hessians under
    ~160 MB, each warm-started at ``z_hat``. The draws depend only on ``seed`` and the
    canonical order of units, never on the order of the votes.

    :param cluster_weights: ``(n_bootstrap, units.n_clusters)`` Poisson weights of the
        prompts, drawn by the caller to resample several boards jointly (one weight per
        prompt per replicate for all of them); drawn from ``seed`` when ``None``.
    """
    rng = np.random.default_rng(seed)
    batch = max(1, _BATCH_CELLS // max(table.n * table.n, 1))
    out = np.empty((n_bootstrap, table.n))
    for start in range(0, n_bootstrap, batch):
        stop = min(n_bootstrap, start + batch)
        weight = None if cluster_weights is None else cluster_weights[start:stop]
        games, score = _resampled_counts(table, units, rng, stop - start, weight)
        out[start:stop] = fit_batch(table, games, score, link, prior_precision, z_hat)
    return out - out.mean(axis=1, keepdims=True)


def cluster_scores(table: PairTable, units: Units, z: np.ndarray, link: str) -> np.ndarray | sparse.csr_matrix:
    """Score vector (gradient of the log-likelihood in ``z``) of each prompt cluster at
    ``z``: a ``(clusters, n)`` matrix, dense unless that would be big."""
    n = table.n
    d = z[table.i] - z[table.j]
    games, scores = units.cluster_games, units.cluster_score  # same sparsity pattern
    cluster = np.repeat(np.arange(units.n_clusters), np.diff(games.indptr))
    pair = games.indices
    resid, _ = pair_terms(d[pair], games.data, scores.data, link)
    rows = np.r_[cluster, cluster]
    cols = np.r_[table.i[pair], table.j[pair]]
    if units.n_clusters * n <= _BATCH_CELLS:
        flat = np.bincount(rows * n + cols, np.r_[resid, -resid], units.n_clusters * n)
        return flat.reshape(units.n_clusters, n)
    return sparse.csr_matrix((np.r_[resid, -resid], (rows, cols)), (units.n_clusters, n))


def category_meat(table: PairTable, units: Units, z: np.ndarray, link: str) -> np.ndarray:
    """Sum of the score vectors' outer products over the votes without a prompt, ``(n, n)``."""
    if not len(units.cat_pair):
        return np.zeros((table.n, table.n))
    pair = units.cat_pair
    d = z[table.i[pair]] - z[table.j[pair]]
    resid, _ = pair_terms(d, np.ones(len(pair)), units.cat_score, link)
    return laplacian(table.i[pair], table.j[pair], units.cat_count * resid**2, table.n)


def sandwich_covariance(
    table: PairTable,
    units: Units,
    z: np.ndarray,
    link: str,
    bread: np.ndarray,
) -> np.ndarray:
    """Cluster-robust covariance ``H^-1 M H^-1`` of the ratings (link units squared).

    :param bread: ``H^-1``, the inverse information matrix at ``z``.
    ``M`` sums, over resampling units, the outer product of each unit's score vector.
    Every vote's score vector sums to zero, so the result has the centred gauge.
    """
    meat = category_meat(table, units, z, link)
    if units.n_clusters:
        g = cluster_scores(table, units, z, link)
        meat += g.T @ g if isinstance(g, np.ndarray) else (g.T @ g).toarray()
    return bread @ meat @ bread


def rank_ranges(
    score: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rank, best plausible rank and worst plausible rank of each model.

    ``rank`` orders by ``score`` (ties by position). ``rank_low = 1 + #{m: low_m > high_k}``
    (Chatbot Arena's rank upper bound: models certainly better than ``k``) and
    ``rank_high = n - #{m: high_m < low_k}`` (models certainly worse). Both are clamped to
    contain ``rank``.
    """
    n = len(score)
    order = np.argsort(-score, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(1, n + 1)
    sorted_low, sorted_high = np.sort(low), np.sort(high)
    better = n - np.searchsorted(sorted_low, high, side="right")
    worse = np.searchsorted(sorted_high, low, side="left")
    rank_low = np.minimum(1 + better, rank)
    rank_high = np.maximum(n - worse, rank)
    return rank, rank_low, rank_high


def tied_groups(rank: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Group id per model (1 = top): walking down the ranks, a model joins the current
    group while its interval reaches the group leader's, i.e. ``high_k >= low_leader``;
    otherwise it starts the next group."""
    order = np.argsort(rank, kind="stable")
    group = np.empty(len(rank), dtype=np.int64)
    current, leader_low = 0, np.inf
    for k in order:
        if current == 0 or high[k] < leader_low:
            current += 1
            leader_low = low[k]
        group[k] = current
    return group
