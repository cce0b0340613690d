"""Weighted standings: each rater's votes count by a reliability estimated jointly with the
model strengths (a Crowd-BT-style model with a side term).

**Model.** A vote of rater ``r`` between model ``a`` (the *left* side: the store hands votes
over with ``a`` = left, ``b`` = right, and this module assumes that) and model ``b`` chooses
``a`` with probability::

    P = w_r * F(z_a - z_b) + (1 - w_r) * lambda_r

``F`` is the link of the chosen OpenSkill model, exactly as in
:func:`ranking.compute_standings`. With probability ``w_r`` (the rater's *reliability*) the
vote is a judgement like an honest rater's; otherwise it is a *lapse* that picks the left side
with probability ``lambda_r`` without looking. With ``lambda_r = 1/2`` this is Crowd-BT
(``eta F + (1 - eta)(1 - F)``) restricted to ``eta`` in ``[1/2, 1]``, ``w = 2 eta - 1``: a
random clicker has ``w = 0``. ``lambda_r`` near 1 describes a rater who clicks left whenever
they do not look. ``w`` is kept in ``[0, 1]``: a rater who picks the worse model on purpose
gets a reliability near 0 (their votes count for nothing) rather than being read backwards as
Crowd-BT's ``eta < 1/2`` would.

**Priors.** ``z``: OpenSkill's ``N(mu, sigma^2)`` per model, as in ``compute_standings``.
``w_r``: spike and slab: with probability ``trusted_share`` the rater is trusted,
``w ~ Beta(rater_prior + 1, 1)`` (within ~5% of 1 for the default 100), otherwise ``w`` is
uniform on ``[0, 1]``; ``trusted_share`` is itself estimated (the share of raters in the spike,
prior mean :data:`ranking.crowd.TRUSTED_SHARE`, see :func:`ranking.crowd.fit_crowd`). So a
rater stays trusted, and counts fully, until their votes show otherwise, and a rater who
clearly lapses is not pulled back up. The prior is not centred on a population mean
reliability because that mean is not identified: a crowd in which everyone lapses alike votes
almost exactly like an honest crowd judging a narrower field (with a Beta prior at the pooled
mean, an all-honest simulated crowd drifted to ``w ~ 0.9`` and 10-30% wider scores).
Reliabilities are therefore relative to the trusted raters, and an all-honest crowd gets the
unweighted standings back. ``lambda_r``: a Beta prior centred at 1/2 worth
:data:`ranking.crowd.SIDE_PRIOR` pseudo-votes.

**Fit.** The posterior mode of all parameters at once by Fisher scoring
(:mod:`ranking.crowd`), from a fit where every rater has one voice per model pair (so a
prolific rater cannot start it in their own optimum); the raters are first fitted to that
start from both kinds of mode (trusted and unreliable), each keeping the better. A tie counts
half a vote each way, as in ``compute_standings``.

**Intervals.** The cluster-robust sandwich ``J^-1 M J^-1`` of the mixture likelihood over
all parameters (strengths and raters, so the raters' own uncertainty is included), on the
resampling units of ``compute_standings`` (prompts, or single votes without a prompt or on a
one-prompt board), with the same small-sample correction (:func:`ranking.uncertainty.interval_halfwidth`)
and Fisher floor (:func:`ranking.uncertainty.needs_floor`). The prompt bootstrap of
``compute_standings`` refits pair counts, which cannot carry per-rater weights; with
``n_bootstrap > 0`` prompts are resampled and the whole joint fit is redone per replicate
instead (warm-started; about one fit per replicate, so slow).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import linalg
from scipy.stats import norm

from ranking.crowd import (
    Keys,
    Posterior,
    RaterPrior,
    aggregate,
    fit_crowd,
    fit_posterior,
    one_voice_start,
    robust_covariance,
)
from ranking.errors import RankingError
from ranking.openskill_models import OpenSkillModel, OpenSkillScale, resolve_scale
from ranking.pairs import pair_table, resampling_units
from ranking.prepare import prepare, prompt_clusters
from ranking.standings import _check_options, _frame
from ranking.uncertainty import interval_halfwidth, needs_floor, rank_ranges, tied_groups
from ranking.votes import Vote, VoteArrays, as_vote_arrays

__all__ = ["RATER_PRIOR", "compute_weighted_standings", "crowd_bootstrap"]

#: Default ``rater_prior``: strength of the "trusted" spike of the reliability prior.
RATER_PRIOR = 100.0


def crowd_bootstrap(keys: Keys, post: Posterior, scale: OpenSkillScale, rater_prior: RaterPrior,
                    n_clusters: int, n_bootstrap: int, seed: int) -> np.ndarray:
    """Centred strengths of ``n_bootstrap`` resampled data sets, ``(B, n)``, each refitted
    jointly (raters re-estimated too), warm-started at ``post``. Prompts get Poisson(1) weights
    (votes that are their own unit, one each), drawn in the canonical key order so that vote
    order cannot matter."""
    rng = np.random.default_rng(seed)
    count = keys.left + keys.right
    single = keys.cluster < 0
    out = np.empty((n_bootstrap, len(post.z)))
    for rep in range(n_bootstrap):
        factor = np.empty(len(count))
        factor[~single] = rng.poisson(1.0, n_clusters)[keys.cluster[~single]]
        factor[single] = rng.poisson(count[single]) / count[single]
        drawn = replace(keys, left=keys.left * factor, right=keys.right * factor)
        out[rep] = fit_posterior(drawn, scale, rater_prior, post.z, post.w, post.lam, tol=1e-7).z
    return out - out.mean(axis=1, keepdims=True)


def compute_weighted_standings(
    votes: VoteArrays | Iterable[Vote],
    *,
    method: str | OpenSkillModel = "plackett_luce",
    inverse: bool = False,
    confidence: float = 0.95,
    n_bootstrap: int = 0,
    seed: int = 0,
    rater_prior: float = RATER_PRIOR,
) -> pd.DataFrame:
    """Standings where each rater's votes count by their estimated reliability, best first.

    See :mod:`ranking.weighted` for the model. ``votes`` must have ``a`` = the left side (as
    the store provides them), since raters' side preferences are part of the model.

    :param votes: :class:`~ranking.VoteArrays` or an iterable of :class:`~ranking.Vote`.
    :param method: the OpenSkill model whose link and prior are used, as in
        :func:`ranking.compute_standings`.
    :param inverse: the board asks "which is worse?": the chosen model is the worse one.
    :param confidence: level of ``ci_low``/``ci_high`` and hence of the rank ranges.
    :param n_bootstrap: 0 (default) gives the cluster-robust sandwich interval; more
        resamples prompts that many times and redoes the joint fit for each (slow).
    :param seed: seed of the bootstrap; the same votes in any order give identical output.
    :param rater_prior: strength (pseudo-votes) of the reliability prior's "trusted" spike
        ``Beta(rater_prior + 1, 1)`` (> 0): the larger, the closer to 1 trusted raters stay.
    :return: the columns of :data:`ranking.STANDINGS_COLUMNS` with the same meaning as in
        ``compute_standings`` (``wins``/``losses``/``ties`` count the votes unweighted);
        ``score`` is on the scale of a judging rater, so it spreads wider than the unweighted
        score when many votes are lapses. ``df.attrs`` holds those of ``compute_standings``
        (``interval_method`` e.g. "prompt sandwich (crowd)" or "prompt bootstrap (crowd)")
        plus ``rater_reliability`` (rater name -> ``w``) and ``rater_left_share`` (rater
        name -> share of their lapses that click the left side), for raters with used votes,
        ``rater_prior``, ``trusted_share`` (the estimated prior share of trusted raters) and
        ``iterations`` (Fisher scoring steps).

    Example::

        >>> from ranking import Vote, compute_weighted_standings
        >>> votes = [Vote("x", "y", "a", rater="ann"), Vote("y", "z", "a", rater="bob")]
        >>> list(compute_weighted_standings(votes)["name"])
        ['x', 'y', 'z']
    """
    va = as_vote_arrays(votes)
    _check_options(confidence, n_bootstrap)
    if (not isinstance(rater_prior, (int, float, np.integer, np.floating)) or isinstance(rater_prior, bool)
            or not np.isfinite(rater_prior) or rater_prior <= 0):
        raise RankingError(f"rater_prior={rater_prior!r} must be a number of pseudo-votes > 0, e.g. 100.")
    scale = resolve_scale(method)
    prep = prepare(va, inverse)
    m, n = len(prep.rated), len(va.models)
    z = low = high = sigma_z = np.zeros(m)
    reliability: dict[str, float] = {}
    left_share: dict[str, float] = {}
    interval_method, iterations, trusted = "none", 0, float("nan")
    if m:
        cluster = prompt_clusters(prep)
        table, pair_idx, s_lo = pair_table(prep.local[prep.a], prep.local[prep.b], prep.score, m)
        units = resampling_units(pair_idx, s_lo, cluster, len(table))
        unclustered = np.full(len(cluster), -1)
        keys = aggregate(prep, cluster if units.by_prompt else unclustered)
        pooled = aggregate(prep, unclustered) if units.by_prompt else keys  # fewer keys to fit
        post, prior = fit_crowd(pooled, scale, float(rater_prior), one_voice_start(pooled, scale))
        z, iterations, trusted = post.z - post.z.mean(), post.iterations, prior.trusted
        centre = np.eye(m) - 1.0 / m
        cov = linalg.cho_solve(linalg.cho_factor(post.schur), np.eye(m))
        sigma_z = np.sqrt(np.maximum(np.diag(centre @ cov @ centre), 0.0))
        if n_bootstrap:
            reps = crowd_bootstrap(keys, post, scale, prior, units.n_clusters,
                                   int(n_bootstrap), seed)
            se = reps.std(axis=0, ddof=1) if n_bootstrap > 1 else np.zeros(m)  # 1: Fisher
        else:
            se = np.sqrt(np.maximum(np.diag(centre @ robust_covariance(keys, scale, post) @ centre), 0.0))
        half = interval_halfwidth(se, units.n_clusters, confidence)
        floor = needs_floor(units, prep.wins[prep.rated], prep.losses[prep.rated]) | (n_bootstrap == 1)
        half = np.where(floor, np.maximum(half, norm.ppf(0.5 + confidence / 2.0) * sigma_z), half)
        low, high = z - half, z + half
        interval_method = (f"{'prompt' if units.by_prompt else 'vote'} "
                           f"{'bootstrap' if n_bootstrap else 'sandwich'} (crowd)")
        used = np.bincount(keys.rater, keys.left + keys.right, keys.n_raters) > 0
        names = va.raters if va.raters else ("",)
        for r in np.flatnonzero(used):
            name = names[keys.rater_index[r]]
            reliability[name] = float(post.w[r])
            left_share[name] = float(1.0 - post.lam[r] if inverse else post.lam[r])
    rank, rank_low, rank_high = rank_ranges(z, low, high) if m else (np.zeros(0, int),) * 3
    group = tied_groups(rank, low, high) if m else np.zeros(0, dtype=np.int64)
    frame = _frame(prep, scale, z, low, high, sigma_z, rank, rank_low, rank_high, group, n)
    frame.attrs.update(
        votes=int(len(prep.rows)), excluded_votes=int(prep.n_excluded), self_votes=int(prep.self_votes),
        method=scale.method, link=scale.link, c=scale.c, score_per_unit=scale.score_per_unit,
        interval_method=interval_method, confidence=float(confidence), n_bootstrap=int(n_bootstrap),
        inverse=bool(inverse), rater_reliability=reliability, rater_left_share=left_share,
        rater_prior=float(rater_prior), trusted_share=trusted, iterations=int(iterations),
    )
    return frame
