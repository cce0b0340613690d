"""Overall standings of a benchmark: one ranking across several criteria (leaderboards).

The criteria of a benchmark rate the same models on the same prompts, each with its own votes.
How they are combined:

1. Each criterion is fitted on its own, exactly as :func:`ranking.compute_standings` fits it
   (same model, prior and ``inverse`` handling), giving centred ratings on the same scale
   (its ``score`` column, reported here as ``score_<criterion>``).
2. A model's overall rating is the weighted mean of its per-criterion ratings, each criterion
   re-centred over the models rated in every criterion (so the overall scores average 1000;
   when every model is rated everywhere, this is exactly the weighted mean of the criteria's
   published scores). A weighted mean of ratings, not a fit of the pooled votes: pooling
   would weight a criterion by how many votes it happens to have, and a difference of 100
   points means the same odds on every criterion, so averaging ratings is averaging like
   with like. Weights default to equal and are normalised to sum to 1.
3. Uncertainty: the prompt-clustered Poisson bootstrap of :mod:`ranking.uncertainty`, done
   **jointly**: one Poisson weight per prompt name per replicate, applied to that prompt's
   votes in every criterion, each criterion refitted, the replicate combined as in 2. A
   prompt is the same prompt in every criterion, and a model good at a prompt tends to be
   good at it on every criterion, so the criteria's errors are correlated; resampling the
   criteria independently would treat them as independent and give intervals too narrow
   (see ``benchmarks/overall_calibration.py``). Votes without a prompt are resampled one by
   one. Intervals are ``z +- t_(G-1) * sqrt(G/(G-1)) * se`` with ``G`` the distinct prompts
   over all criteria (:func:`ranking.uncertainty.interval_halfwidth`), floored at the
   combined Fisher interval where any criterion floors it in
   :func:`ranking.compute_standings` (1-9 prompts, fewer than 10 wins or losses). With
   ``n_bootstrap=0`` a joint cluster-robust sandwich replaces the bootstrap (each prompt's
   influence summed over criteria before squaring).
4. Rank ranges and tied groups come from those intervals, as in compute_standings.

A model without votes in some chosen criterion is not ranked: comparing it on fewer
criteria than the others would mix unlike scores (a model rated only on its best criterion
would climb). It is listed after the ranked models with ``complete`` False, ``NaN``
overall score and interval, and its ``score_<criterion>`` where it has one. (So a criterion
without any votes yet leaves every model unranked: leave it out of ``criteria`` until rated.)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy.stats import norm

from ranking.errors import RankingError
from ranking.openskill_models import OpenSkillModel, OpenSkillScale, resolve_scale
from ranking.pairs import resampling_units
from ranking.prepare import prepare
from ranking.standings import _check_options, fit_board
from ranking.uncertainty import (
    bootstrap_ratings,
    category_meat,
    cluster_scores,
    interval_halfwidth,
    needs_floor,
    rank_ranges,
    tied_groups,
)
from ranking.votes import Vote, VoteArrays, as_vote_arrays

__all__ = ["OVERALL_COLUMNS", "compute_overall_standings"]

#: Leading columns of :func:`compute_overall_standings`; one ``score_<criterion>`` follows per criterion.
OVERALL_COLUMNS = [
    "rank", "name", "score", "ci_low", "ci_high", "rank_low", "rank_high", "tied_group",
    "votes", "complete",
]


def _weights(names: list[str], weights: Mapping[str, float] | None) -> np.ndarray:
    if weights is None:
        return np.full(len(names), 1.0 / len(names))
    unknown = sorted(set(weights) - set(names))
    if unknown:
        raise RankingError(f"weights name unknown criterion {unknown[0]!r}; criteria: {names}.")
    missing = [c for c in names if c not in weights]
    if missing:
        raise RankingError(f"weights has no weight for criterion {missing[0]!r}; give every "
                           "criterion one (or leave weights out for equal weights).")
    values = []
    for c in names:
        w = weights[c]
        if (isinstance(w, bool) or not isinstance(w, (int, float, np.integer, np.floating))
                or not math.isfinite(w) or w <= 0):
            raise RankingError(f"weight {w!r} of criterion {c!r} must be a positive finite number.")
        values.append(float(w))
    return np.array(values) / sum(values)


def _inverse(names: list[str], inverse: Mapping[str, bool] | None) -> list[bool]:
    inverse = dict(inverse or {})
    unknown = sorted(set(inverse) - set(names))
    if unknown:
        raise RankingError(f"inverse names unknown criterion {unknown[0]!r}; criteria: {names}.")
    for c, flag in inverse.items():
        if not isinstance(flag, (bool, np.bool_)):
            raise RankingError(f"inverse[{c!r}] is {flag!r}; use True or False.")
    return [bool(inverse.get(c, False)) for c in names]


def _criteria(criteria: Mapping[str, VoteArrays | Iterable[Vote]]) -> tuple[list[str], list[VoteArrays]]:
    if not isinstance(criteria, Mapping) or not criteria:
        raise RankingError("criteria must be a non-empty mapping of criterion name to votes.")
    for c in criteria:
        if not isinstance(c, str) or not c:
            raise RankingError(f"criterion name {c!r} must be a non-empty string.")
    return list(criteria), [as_vote_arrays(v) for v in criteria.values()]


def compute_overall_standings(
    criteria: Mapping[str, VoteArrays | Iterable[Vote]],
    *,
    weights: Mapping[str, float] | None = None,
    inverse: Mapping[str, bool] | None = None,
    method: str | OpenSkillModel = "plackett_luce",
    confidence: float = 0.95,
    n_bootstrap: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """One ranking across several criteria of a benchmark, with jointly resampled intervals.

    See :mod:`ranking.overall` for how criteria are combined and why.

    :param criteria: criterion name -> its votes. Models and prompts are matched by name
        across criteria (each may list them in its own order, or only some of them).
    :param weights: criterion name -> positive weight, one for every criterion (default:
        equal); normalised to sum to 1.
    :param inverse: criterion name -> True for a "which is worse?" criterion (missing: False).
    :param method: the OpenSkill model, as in :func:`ranking.compute_standings`.
    :param confidence: level of the intervals and rank ranges.
    :param n_bootstrap: joint bootstrap replicates; 0 uses the joint sandwich (fast).
    :param seed: seed of the bootstrap; the same votes in any order give identical output.
    :return: one row per model named by any criterion: :data:`OVERALL_COLUMNS`, then
        ``score_<criterion>`` per criterion (that criterion's compute_standings score, ``NaN``
        where the model has no votes there). ``votes`` counts the model's used votes over all
        criteria; ``complete`` says it has votes in every criterion. Complete models come
        first, by rank; the others follow by name with ``NaN`` score and interval,
        ``rank_low`` 1, ``rank_high`` the number of models and one shared last
        ``tied_group``. ``df.attrs``: ``weights`` (normalised, by criterion), ``inverse``,
        ``votes`` (by criterion), ``prompts`` (``G``), ``method``, ``link``,
        ``score_per_unit``, ``interval_method``, ``confidence``, ``n_bootstrap``.
    :raises RankingError: for unknown or missing criteria in ``weights``/``inverse``, a
        weight that is not a positive finite number, or bad ``confidence``/``n_bootstrap``.
    """
    names, boards_va = _criteria(criteria)
    w = _weights(names, weights)
    flags = _inverse(names, inverse)
    _check_options(confidence, n_bootstrap)
    scale = resolve_scale(method)
    preps = [prepare(va, flag) for va, flag in zip(boards_va, flags)]
    models = sorted(set().union(*(va.models for va in boards_va)))
    rated = [set(p.names) for p in preps]
    complete = [m for m in models if all(m in r for r in rated)]
    prompt_names = sorted({va.prompts[k] for p, va in zip(preps, boards_va) if va.prompts
                           for k in np.unique(va.prompt[p.rows])} - {""})
    g_all = len(prompt_names)
    prompt_id = {name: k for k, name in enumerate(prompt_names)}

    k_n = len(complete)
    z = np.zeros(k_n)
    se = np.zeros(k_n)
    fisher_var = np.zeros(k_n)
    floor = np.full(k_n, n_bootstrap == 1 or 0 < g_all < 10)
    scores: dict[str, dict[str, float]] = {}
    parts = []
    for c, va, prep in zip(names, boards_va, preps):
        if not len(prep.rated):
            scores[c] = {}
            continue
        board = fit_board(prep, scale)
        scores[c] = dict(zip(prep.names, scale.to_score(board.z)))
        lookup = {m: i for i, m in enumerate(prep.names)}
        idx = np.array([lookup[m] for m in complete], dtype=np.int64)
        global_of = np.array([prompt_id.get(p, -1) for p in va.prompts] or [-1], dtype=np.int64)
        cluster = global_of[va.prompt[prep.rows]] if va.prompts else np.full(len(prep.rows), -1)
        units = resampling_units(board.pair_idx, board.s_lo, cluster, len(board.table), g_all)
        parts.append((c, board, units, idx))
        if k_n:
            floor |= needs_floor(units, prep.wins[prep.rated], prep.losses[prep.rated])[idx]
    weight = dict(zip(names, w))
    by_prompt = g_all >= 2
    if k_n and parts:
        for c, board, _, idx in parts:
            z += weight[c] * (board.z[idx] - board.z[idx].mean())
            fisher_var += weight[c] ** 2 * board.sigma_z[idx] ** 2
        se = (_bootstrap_se(parts, weight, scale, int(n_bootstrap), seed, g_all, by_prompt)
              if n_bootstrap else _sandwich_se(parts, weight, scale, g_all, by_prompt))
    half = interval_halfwidth(se, g_all if by_prompt else 0, confidence)
    fisher = norm.ppf(0.5 + confidence / 2.0) * np.sqrt(fisher_var)
    half = np.where(floor, np.maximum(half, fisher), half)
    low, high = z - half, z + half
    rank, rank_low, rank_high = rank_ranges(z, low, high)
    group = tied_groups(rank, low, high)

    order = np.argsort(rank, kind="stable")
    listed = [complete[k] for k in order] + [m for m in models if m not in set(complete)]
    n, nan = len(models), np.full(len(models) - k_n, np.nan)
    total = {m: 0 for m in models}
    for va, prep in zip(boards_va, preps):
        played = prep.wins + prep.losses + prep.ties
        for k, m in enumerate(va.models):
            total[m] += int(played[k])
    frame = pd.DataFrame({
        "rank": np.arange(1, n + 1, dtype=np.int64),
        "name": listed,
        "score": np.r_[scale.to_score(z[order]), nan],
        "ci_low": np.r_[scale.to_score(low[order]), nan],
        "ci_high": np.r_[scale.to_score(high[order]), nan],
        "rank_low": np.r_[rank_low[order], np.ones(n - k_n)].astype(np.int64),
        "rank_high": np.r_[rank_high[order], np.full(n - k_n, n)].astype(np.int64),
        "tied_group": np.r_[group[order], np.full(n - k_n, int(group.max(initial=0)) + 1)].astype(np.int64),
        "votes": np.array([total[m] for m in listed], dtype=np.int64),
        "complete": np.r_[np.ones(k_n, bool), np.zeros(n - k_n, bool)],
        **{f"score_{c}": [scores[c].get(m, np.nan) for m in listed] for c in names},
    })
    unit = "prompt" if by_prompt else "vote"
    frame.attrs.update(
        weights={c: float(v) for c, v in weight.items()},
        inverse=dict(zip(names, flags)),
        votes={c: int(len(p.rows)) for c, p in zip(names, preps)},
        prompts=g_all,
        method=scale.method,
        link=scale.link,
        score_per_unit=scale.score_per_unit,
        interval_method=(f"joint {unit} {'bootstrap' if n_bootstrap else 'sandwich'}"
                         if k_n else "none"),
        confidence=float(confidence),
        n_bootstrap=int(n_bootstrap),
    )
    return frame


def _bootstrap_se(parts: list, weight: dict, scale: OpenSkillScale, n_bootstrap: int, seed: int,
                  g_all: int, by_prompt: bool) -> np.ndarray:
    """Sd of the combined ratings over joint replicates: one Poisson weight per prompt per
    replicate for every criterion; each criterion's prompt-less votes drawn on its own."""
    rng = np.random.default_rng(seed)
    joint = rng.poisson(1.0, size=(n_bootstrap, g_all)).astype(np.float64) if by_prompt else None
    combined = 0.0
    for k, (c, board, units, idx) in enumerate(parts):
        reps = bootstrap_ratings(board.table, units, board.z, scale.link, scale.prior_precision,
                                 n_bootstrap, seed + 1 + k, joint if units.n_clusters else None)
        reps = reps[:, idx]
        combined = combined + weight[c] * (reps - reps.mean(axis=1, keepdims=True))
    if n_bootstrap < 2:
        return np.zeros(len(parts[0][3]))
    return np.asarray(combined).std(axis=0, ddof=1)


def _sandwich_se(parts: list, weight: dict, scale: OpenSkillScale, g_all: int, by_prompt: bool) -> np.ndarray:
    """Joint cluster-robust sandwich: each prompt's influence on the combined ratings is
    summed over criteria before its outer product is taken."""
    k_n = len(parts[0][3])
    influence = np.zeros((g_all if by_prompt else 0, k_n))
    cov = np.zeros((k_n, k_n))
    for c, board, units, idx in parts:
        m = board.table.n
        project = np.zeros((k_n, m))
        project[np.arange(k_n), idx] = 1.0
        project -= project.mean(axis=0, keepdims=True)  # re-centre over the complete models
        lift = weight[c] * project @ board.cov  # combined rating per unit of score
        cov += lift @ category_meat(board.table, units, board.z, scale.link) @ lift.T
        if units.n_clusters:
            influence += np.asarray(cluster_scores(board.table, units, board.z, scale.link) @ lift.T)
    cov += influence.T @ influence
    return np.sqrt(np.maximum(np.diag(cov), 0.0))
