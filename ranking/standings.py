"""Published standings: a full-data fit under the chosen OpenSkill model, with honest intervals.

How a standings table is made (and what OpenSkill does in it):

1. Excluded votes are dropped; with ``inverse=True`` each vote is flipped (the chosen
   model is the worse one).
2. Votes are aggregated into pair counts (exact, so vote order cannot matter) and the
   posterior mode is found by Newton's method under the selected OpenSkill model's
   two-player likelihood and OpenSkill's own ``N(mu=25, sigma=25/3)`` prior, both read
   from the OpenSkill model object (see :mod:`ranking.openskill_models`). OpenSkill's
   ``rate()`` is *not* replayed vote by vote for the published order: that result depends
   on vote order, and on 100k simulated votes of 50 models it reaches a Kendall tau of
   ~0.87 against the true order where this fit reaches ~0.97 (and 1.0 against the
   Bradley-Terry maximum-likelihood order). :func:`ranking.replay_openskill` offers the
   online view.
3. ``mu`` is the posterior mode on OpenSkill's scale, ``mu = 25 + sqrt(2)*beta*z`` (mean
   25 over rated models), and ``sigma`` its model-based posterior standard deviation
   relative to the board average (Laplace approximation).
4. ``score`` is the display score ``1000 + 400 * log10-odds`` against an average model,
   as in Elo and Chatbot Arena: 400 points apart means 10:1 odds (for Thurstone, probit
   units are converted with the usual factor 1.702, so this is approximate).
5. ``ci_low``/``ci_high`` are ``z +- t * sqrt(G/(G-1)) * se`` with ``se`` the standard
   deviation of a bootstrap that resamples whole prompts (votes without a prompt are
   resampled one by one; on a board of one prompt every vote is), so prompt-to-prompt
   variation widens them as it should; ``G`` is the number of prompts resampled and ``t``
   Student's quantile with ``G - 1`` degrees of freedom, or the normal one when votes are
   resampled (:func:`ranking.uncertainty.interval_halfwidth`). With ``n_bootstrap=0`` ``se`` comes
   from a cluster-robust sandwich instead (fast). The fit's own (Fisher) interval is a
   floor only where resampling cannot see the spread: boards with 1-9 prompts (a few prompts
   can by chance resample alike; one prompt cannot show how another would rank the models),
   and models with fewer than 10 wins or 10 losses (:func:`ranking.uncertainty.needs_floor`).
   So few-prompt boards get wide intervals: 2-3 prompts leave almost every model tied.
6. Ranks respect the intervals: see :func:`ranking.uncertainty.rank_ranges` and
   :func:`ranking.uncertainty.tied_groups`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from ranking.errors import RankingError
from ranking.fit import fit
from ranking.openskill_models import OpenSkillModel, OpenSkillScale, resolve_scale
from ranking.pairs import PairTable, pair_table, resampling_units
from ranking.prepare import Prepared, prepare, prompt_clusters
from ranking.uncertainty import (
    bootstrap_ratings,
    interval_halfwidth,
    needs_floor,
    rank_ranges,
    sandwich_covariance,
    tied_groups,
)
from ranking.votes import Vote, VoteArrays, as_vote_arrays, prompt_mask

__all__ = ["BoardFit", "STANDINGS_COLUMNS", "compute_standings", "fit_board", "standings_by_prompt"]

#: Columns of :func:`compute_standings`, in order.
STANDINGS_COLUMNS = [
    "rank", "name", "score", "ci_low", "ci_high", "rank_low", "rank_high", "tied_group",
    "mu", "sigma", "wins", "losses", "ties", "total_matches", "win_rate",
]


def _check_options(confidence: float, n_bootstrap: int) -> None:
    if not isinstance(confidence, (int, float)) or isinstance(confidence, bool) or not 0.0 < confidence < 1.0:
        raise RankingError(f"confidence={confidence!r} must be between 0 and 1, e.g. 0.95.")
    if (not isinstance(n_bootstrap, (int, float, np.integer)) or isinstance(n_bootstrap, bool)
            or n_bootstrap < 0 or int(n_bootstrap) != n_bootstrap):
        raise RankingError(
            f"n_bootstrap={n_bootstrap!r} must be a whole number >= 0 "
            "(0 uses the fast sandwich interval)."
        )


@dataclass(frozen=True)
class BoardFit:
    """One board's full-data fit: its pair table (models in ``prep.rated`` order), each used
    vote's pair index and score for the pair's lower model, the centred ratings ``z`` (link
    units), the posterior covariance ``cov`` and the centred ratings' Fisher sd ``sigma_z``."""

    prep: Prepared
    table: PairTable
    pair_idx: np.ndarray
    s_lo: np.ndarray
    z: np.ndarray
    cov: np.ndarray
    sigma_z: np.ndarray


def fit_board(prep: Prepared, scale: OpenSkillScale) -> BoardFit:
    """Fit the rated models of ``prep`` (at least one) under ``scale``'s likelihood and prior."""
    m = len(prep.rated)
    table, pair_idx, s_lo = pair_table(prep.local[prep.a], prep.local[prep.b], prep.score, m)
    result = fit(table, scale.link, scale.prior_precision)
    cov = result.covariance()
    centre = np.eye(m) - 1.0 / m
    sigma_z = np.sqrt(np.maximum(np.diag(centre @ cov @ centre), 0.0))
    return BoardFit(prep, table, pair_idx, s_lo, result.z - result.z.mean(), cov, sigma_z)


def compute_standings(
    votes: VoteArrays | Iterable[Vote],
    *,
    method: str | OpenSkillModel = "plackett_luce",
    inverse: bool = False,
    confidence: float = 0.95,
    n_bootstrap: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Standings of every model of the board, best first.

    :param votes: :class:`~ranking.VoteArrays` or an iterable of :class:`~ranking.Vote`.
    :param method: ``"plackett_luce"`` (default), ``"bradley_terry_full"`` or
        ``"thurstone_mosteller_full"``: the OpenSkill model whose likelihood and prior are
        fitted; or an OpenSkill model object of one of those classes, whose ``mu``, ``sigma``
        and ``beta`` are then used (e.g. ``PlackettLuce(mu=1500, sigma=500, beta=250)``).
    :param inverse: the board asks "which is worse?": the chosen model is the worse one.
    :param confidence: level of ``ci_low``/``ci_high`` and hence of the rank ranges.
    :param n_bootstrap: bootstrap replicates (resampling prompts); 0 uses a cluster-robust
        sandwich interval instead, which is much faster.
    :param seed: seed of the bootstrap; the same votes in any order give identical output.
    :return: one row per model of the board with the columns :data:`STANDINGS_COLUMNS`.
        ``rank`` is 1 for the best; ``rank_low`` (best plausible rank) is 1 + the number of
        models whose interval lies wholly above this one's, ``rank_high`` (worst plausible)
        is the number of models minus those wholly below; ``tied_group`` numbers groups of
        models whose intervals reach their group leader's (1 = top group).
        Intervals are never narrower than the fit's own (Fisher) interval ``z +- q * sigma``
        on boards with 1-9 prompts and for models with fewer than 10 wins or 10 losses.
        Models without votes come last (by name) with ``NaN`` score, interval and win rate,
        ``mu``/``sigma`` at OpenSkill's prior, ``rank_low=1`` and ``rank_high`` = number of
        models, and one shared last ``tied_group``. ``df.attrs`` holds ``votes`` (votes used),
        ``excluded_votes``, ``self_votes`` (a model against itself: dropped), ``method``,
        ``link``, ``c`` (OpenSkill ``sqrt(2)*beta``), ``score_per_unit``, ``interval_method``,
        ``confidence``, ``n_bootstrap``, ``inverse``.

    Example::

        >>> from ranking import Vote, compute_standings
        >>> df = compute_standings([Vote("x", "y", "a"), Vote("y", "z", "a")], n_bootstrap=0)
        >>> list(df["name"])
        ['x', 'y', 'z']
    """
    va = as_vote_arrays(votes)
    _check_options(confidence, n_bootstrap)
    scale = resolve_scale(method)
    prep = prepare(va, inverse)
    m, n = len(prep.rated), len(va.models)

    z = np.zeros(m)
    low = high = np.zeros(m)
    sigma_z = np.zeros(m)
    interval_method = "none"
    if m:
        board = fit_board(prep, scale)
        table, z, cov, sigma_z = board.table, board.z, board.cov, board.sigma_z
        units = resampling_units(board.pair_idx, board.s_lo, prompt_clusters(prep), len(table))
        unit_name = "prompt" if units.by_prompt else "vote"
        if n_bootstrap:
            reps = bootstrap_ratings(table, units, z, scale.link, scale.prior_precision,
                                     int(n_bootstrap), seed)
            se = reps.std(axis=0, ddof=1) if n_bootstrap > 1 else np.zeros(m)  # 1: Fisher
            interval_method = f"{unit_name} bootstrap"
        else:
            se = np.sqrt(np.maximum(np.diag(sandwich_covariance(table, units, z, scale.link, cov)), 0))
            interval_method = f"{unit_name} sandwich"
        half = interval_halfwidth(se, units.n_clusters, confidence)
        floor = needs_floor(units, prep.wins[prep.rated], prep.losses[prep.rated])
        floor |= n_bootstrap == 1
        fisher = norm.ppf(0.5 + confidence / 2.0) * sigma_z  # the fit's own (Fisher) interval
        half = np.where(floor, np.maximum(half, fisher), half)
        low, high = z - half, z + half

    rank, rank_low, rank_high = rank_ranges(z, low, high) if m else (np.zeros(0, int),) * 3
    group = tied_groups(rank, low, high) if m else np.zeros(0, dtype=np.int64)
    frame = _frame(prep, scale, z, low, high, sigma_z, rank, rank_low, rank_high, group, n)
    frame.attrs.update(
        votes=int(len(prep.rows)),
        excluded_votes=int(prep.n_excluded),
        self_votes=int(prep.self_votes),
        method=scale.method,
        link=scale.link,
        c=scale.c,
        score_per_unit=scale.score_per_unit,
        interval_method=interval_method,
        confidence=float(confidence),
        n_bootstrap=int(n_bootstrap),
        inverse=bool(inverse),
    )
    return frame


def _frame(prep: Prepared, scale: OpenSkillScale, z: np.ndarray, low: np.ndarray, high: np.ndarray,
           sigma_z: np.ndarray, rank: np.ndarray, rank_low: np.ndarray, rank_high: np.ndarray,
           group: np.ndarray, n: int) -> pd.DataFrame:
    """Assemble the standings table: rated models by rank, then unrated ones by name."""
    va = prep.va
    m = len(prep.rated)
    unrated = sorted((k for k in range(n) if prep.local[k] < 0), key=lambda k: va.models[k])
    order = np.argsort(rank, kind="stable")
    model_index = np.r_[prep.rated[order], np.array(unrated, dtype=np.int64)].astype(np.int64)
    nan = np.full(n - m, np.nan)
    wins, losses, ties = prep.wins[model_index], prep.losses[model_index], prep.ties[model_index]
    total = wins + losses + ties
    win_rate = np.divide(wins + 0.5 * ties, total, out=np.full(n, np.nan), where=total > 0)
    last_group = (int(group.max()) if m else 0) + 1
    return pd.DataFrame(
        {
            "rank": np.arange(1, n + 1, dtype=np.int64),
            "name": [va.models[k] for k in model_index],
            "score": np.r_[scale.to_score(z[order]), nan],
            "ci_low": np.r_[scale.to_score(low[order]), nan],
            "ci_high": np.r_[scale.to_score(high[order]), nan],
            "rank_low": np.r_[rank_low[order], np.ones(n - m, dtype=np.int64)].astype(np.int64),
            "rank_high": np.r_[rank_high[order], np.full(n - m, n)].astype(np.int64),
            "tied_group": np.r_[group[order], np.full(n - m, last_group)].astype(np.int64),
            "mu": np.r_[scale.to_mu(z[order]), np.full(n - m, scale.mu0)],
            "sigma": np.r_[scale.c * sigma_z[order], np.full(n - m, scale.sigma0)],
            "wins": wins,
            "losses": losses,
            "ties": ties,
            "total_matches": total,
            "win_rate": win_rate,
        },
        columns=STANDINGS_COLUMNS,
    )


def standings_by_prompt(
    votes: VoteArrays | Iterable[Vote],
    prompts: Sequence[str] | None = None,
    **options: Any,
) -> dict[str, pd.DataFrame]:
    """Standings of each prompt on its own (a slice per prompt).

    :param prompts: the prompts to rank; defaults to every prompt with a vote.
    :param options: passed to :func:`compute_standings` (e.g. ``n_bootstrap=0``).
    For a tag (a set of prompts) use
    ``compute_standings(va.subset(prompt_mask(va, tag_prompts)))`` instead.
    """
    va = as_vote_arrays(votes)
    if prompts is None:
        used = np.unique(va.prompt) if len(va) else np.zeros(0, dtype=np.int64)
        prompts = sorted(va.prompts[k] for k in used) if va.prompts else []
    return {p: compute_standings(va.subset(prompt_mask(va, [p])), **options) for p in prompts}
