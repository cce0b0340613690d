"""The stopping rule, and the value of one more vote on a pair.

:func:`analyse` applies the stopping rule: a pair of neighbours in the order is resolved once
its difference is :data:`SEPARATION_Z` standard deviations from zero, or its direct votes reached
the board's ``max_pair_votes``; a model is placed once it has :data:`MIN_PLACED_VOTES` votes and
both its neighbours are resolved. On boards with a local posterior a pair counts as separated
only once its exact variance has been checked (:func:`separated`).

:func:`information_values` is what the "information" strategy
(:mod:`rater.matchmaking.pick`) ranks candidates by: for each candidate pair of models near
each other in the current order, how much one more vote on that pair would shrink the expected
mis-ordering of the *target* pairs: the unresolved pairs of models at most
:data:`TARGET_WINDOW` places apart. A vote on ``(a, b)`` updates the posterior covariance
(:mod:`rater.matchmaking.model`) by a rank-one step (the Fisher information ``p(1 - p)`` of
that comparison), which shrinks the standard deviation ``s`` of every target difference it is
correlated with; the gain of a target with mean difference ``m`` is the drop of its expected
ordering loss ``s*phi(m/s) - |m|*Phi(-|m|/s)`` (:func:`expected_loss`, the expected size of the
error made by ordering the pair by its posterior mean). Pairs that are already separated, or
whose direct votes reached the board's ``max_pair_votes``, are not targets any more. Matchups
served but not yet voted on divide the value of their pair (``1 + pending``).

Cost: the candidates are the pairs at most :data:`CANDIDATE_WINDOW` places apart, so one
computation is O(n * window * targets), whatever the number of votes; when that is many cells,
candidates are first ranked by the first-order drop ``phi(m/s) * (s - s_new)`` and only the
best few are scored exactly (:func:`candidate_values`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from rater.matchmaking.model import LocalPosterior, Posterior, var_diff
from rater.matchmaking.state import BoardState

__all__ = [
    "CANDIDATE_WINDOW",
    "MIN_PLACED_VOTES",
    "NEWCOMER_VOTES",
    "SEPARATION_Z",
    "TARGET_WINDOW",
    "Analysis",
    "analyse",
    "candidate_values",
    "expected_loss",
    "information_values",
    "separated",
]

#: A pair of models counts as separated when its difference is this many standard deviations
#: away from zero (95% two-sided).
SEPARATION_Z = 1.96
#: A model is "placing" until it has this many votes and both its neighbours are resolved.
MIN_PLACED_VOTES = 10
#: Models with fewer votes than this are matched first (the one with fewest votes).
NEWCOMER_VOTES = MIN_PLACED_VOTES
#: Pairs up to this many places apart in the current order are candidates for the next vote
#: (simulated: 4 places needed ~20% more votes than 7 or 10; all pairs did worse than 7).
CANDIDATE_WINDOW = 7
#: Pairs up to this many places apart are the targets whose order the next vote should settle.
TARGET_WINDOW = 3
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
_EXACT_CELLS = 40_000  # candidate x target cells scored exactly; beyond, a first-order pass
_EXACT_TOP = 24  # ...picks this many candidates to score exactly


@dataclass(frozen=True)
class Analysis:
    """The board seen through the stopping rule.

    ``order`` lists the matchable models best first; ``resolved[k]`` says whether the pair
    ``(order[k], order[k + 1])`` is separated or has reached ``max_pair_votes``, and ``gap[k]``
    and ``sd[k]`` are the size of its difference and the standard deviation used to judge it;
    ``placed`` has one flag per model of the board.
    """

    order: np.ndarray
    resolved: np.ndarray
    placed: np.ndarray
    settled: bool
    gap: np.ndarray
    sd: np.ndarray


def analyse(state: BoardState, max_pair_votes: int, check_budget: int = 0) -> Analysis:
    """Apply the stopping rule to the current posterior.

    :param check_budget: on big boards, how many pairs that look separated under the block
        variances may be checked exactly now (see :func:`separated`).
    """
    n = len(state.model_ids)
    idx = np.flatnonzero(state.active())
    placed = np.zeros(n, dtype=bool)
    if len(idx) < 2:
        none = np.zeros(0)
        return Analysis(idx, np.zeros(0, dtype=bool), placed, False, none, none)
    post = state.posterior
    order = idx[np.argsort(-post.mu[idx], kind="stable")]
    a, b = order[:-1], order[1:]
    capped = state.pair_games(a, b) >= max_pair_votes
    gap, sd = np.abs(post.mu[a] - post.mu[b]), np.sqrt(post.var_diff(a, b))
    sep = separated(post, a, b, gap, sd, ~capped, check_budget)
    # A participant whose run reached its response budget (level_of_detail) is placed: the
    # stopping rule may end a run earlier than its budget, never later.
    spent = state.model_games >= state.budget
    resolved = sep | capped | (spent[a] & spent[b])
    ok = np.ones(len(order), dtype=bool)
    ok[:-1] &= resolved
    ok[1:] &= resolved
    placed[order] = ok & (state.model_games[order] >= MIN_PLACED_VOTES) | spent[order]
    return Analysis(order, resolved, placed, bool(placed[order].all()), gap, sd)


def separated(
    post: Posterior | LocalPosterior, a: np.ndarray, b: np.ndarray, gap: np.ndarray,
    sd: np.ndarray, wanted: np.ndarray, check_budget: int,
) -> np.ndarray:
    """Whether each pair ``(a[k], b[k])``, ``gap[k]`` apart with standard deviation
    ``sd[k]``, is separated: ``gap >= SEPARATION_Z * sd``.

    Exact with a dense posterior. With a local one, the block variances are lower bounds, so a
    pair they do not separate is not separated; one they do is separated only once its exact
    variance is known (``wanted`` pairs, up to ``check_budget`` new ones per call; the others
    count as not separated yet).
    """
    sep = gap >= SEPARATION_Z * sd
    if isinstance(post, LocalPosterior) and sep.any():
        maybe = np.flatnonzero(sep & wanted)
        exact = post.exact_var_diff(a[maybe], b[maybe], check_budget)
        sep[:] = False
        sep[maybe] = gap[maybe] >= SEPARATION_Z * np.sqrt(np.nan_to_num(exact, nan=np.inf))
    return sep


def _window_pairs(order: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    firsts, seconds = [], []
    for d in range(1, min(width, len(order) - 1) + 1):
        firsts.append(order[:-d])
        seconds.append(order[d:])
    return np.concatenate(firsts), np.concatenate(seconds)


def expected_loss(m: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``E[size of the error]`` when a pair with difference ``N(m, s^2)``, ``m >= 0``, is
    ordered by ``m``: ``s*phi(m/s) - m*Phi(-m/s)``."""
    z = m / s
    return s * _INV_SQRT_2PI * np.exp(-0.5 * z * z) - m * ndtr(-z)


def candidate_values(
    mu: np.ndarray, cov: np.ndarray, ca: np.ndarray, cb: np.ndarray, ta: np.ndarray, tb: np.ndarray
) -> np.ndarray:
    """Expected drop of the summed ordering loss of the targets ``(ta, tb)`` from one more
    vote on each candidate pair ``(ca, cb)``, under strengths ``mu`` with covariance ``cov``
    (indices into both)."""
    p = 1.0 / (1.0 + np.exp(-(mu[ca] - mu[cb])))
    info = p * (1.0 - p)
    var_c = var_diff(cov, ca, cb)
    m_t = np.abs(mu[ta] - mu[tb])
    var_t = var_diff(cov, ta, tb)
    # cross[c, t] = cov(mu_a - mu_b, mu_i - mu_j), through the rows of the candidates
    rows = cov[ca] - cov[cb]
    cross = rows[:, ta] - rows[:, tb]
    shrink = cross * cross
    shrink *= (info / (1.0 + info * var_c))[:, None]
    np.subtract(var_t[None, :], shrink, out=shrink)
    np.clip(shrink, 1e-12, None, out=shrink)
    s_new = np.sqrt(shrink, out=shrink)
    before = expected_loss(m_t, np.sqrt(var_t)).sum()
    if s_new.size <= _EXACT_CELLS:
        gain = before - expected_loss(m_t[None, :], s_new).sum(axis=1)
    else:
        # Big boards: rank by the first-order drop phi(m/s) * (s - s_new) (no exp/ndtr per
        # cell), then score the best few exactly; the rest keep their order behind them.
        s_t = np.sqrt(var_t)
        density = _INV_SQRT_2PI * np.exp(-0.5 * (m_t / s_t) ** 2)
        gain = (s_t[None, :] - s_new) @ density
        top = np.argsort(-gain)[:_EXACT_TOP]
        exact = before - expected_loss(m_t[None, :], s_new[top]).sum(axis=1)
        gain = np.minimum(gain, exact.min()) - 1e-12
        gain[top] = exact
    # A tiny share of the candidate's own variance reduction breaks ties sensibly.
    return gain + 1e-6 * info * var_c * var_c / (1.0 + info * var_c)


def information_values(
    state: BoardState,
    analysis: Analysis,
    max_pair_votes: int,
    pending: dict[tuple[int, int], int],
    focus: int | None,
    region: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate pairs ``(ca, cb)`` and the value of one more vote on each.

    The candidates are ``focus`` (a newcomer) against every model it can meet, or else the
    pairs at most :data:`CANDIDATE_WINDOW` places apart; the targets are the open pairs at most
    :data:`TARGET_WINDOW` places apart. ``region`` (positions in ``analysis.order``) limits
    all of them to that stretch of the order, with the covariance of its models only.
    """
    post = state.posterior
    models = analysis.order if region is None else analysis.order[region]
    if isinstance(post, LocalPosterior):
        mu, cov = post.mu[models], post.covariance(models)
    else:
        mu, cov = post.mu[models], post.cov[np.ix_(models, models)]
    spots = np.arange(len(models))  # positions in ``models``
    if focus is not None:
        at = int(np.flatnonzero(models == focus)[0])
        others = spots[state.shares_prompt(np.full(len(models), focus), models)]
        ca, cb = np.full(len(others), at), others
    else:
        ca, cb = _window_pairs(spots, CANDIDATE_WINDOW)
        keep = state.shares_prompt(models[ca], models[cb])
        ca, cb = ca[keep], cb[keep]
    if len(ca) == 0:
        return models[ca], models[cb], np.zeros(0)
    ta, tb = _window_pairs(spots, TARGET_WINDOW)
    sep = np.abs(mu[ta] - mu[tb]) >= SEPARATION_Z * np.sqrt(var_diff(cov, ta, tb))
    if not analysis.settled:
        sep |= state.pair_games(models[ta], models[tb]) >= max_pair_votes
    ta, tb = ta[~sep], tb[~sep]
    values = candidate_values(mu, cov, ca, cb, ta, tb)
    ca, cb = models[ca], models[cb]
    if pending:
        values = values / (1.0 + _held(pending, ca, cb))
    return ca, cb, values


def _held(pending: dict[tuple[int, int], int], ca: np.ndarray, cb: np.ndarray) -> np.ndarray:
    """Matchups pending on each candidate pair ``(ca[k], cb[k])`` (``pending`` is keyed by
    ``(min, max)``): one sorted lookup, not a pass over the candidates per pending pair."""
    keys = np.fromiter(((x << 32) | y for x, y in pending), dtype=np.int64, count=len(pending))
    counts = np.fromiter(pending.values(), dtype=float, count=len(pending))
    by_key = np.argsort(keys)
    keys, counts = keys[by_key], counts[by_key]
    wanted = (np.minimum(ca, cb).astype(np.int64) << 32) | np.maximum(ca, cb)
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[at] == wanted, counts[at], 0.0)
