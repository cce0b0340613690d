"""Choosing the next pair: the stopping rule, and the "information" and "uniform" strategies.

**information.** The published order is wrong where two models are ordered differently from
the truth, and nearly all such mistakes are between models close in the order. So the
matchmaker keeps a Bradley-Terry posterior (:mod:`rater.matchmaking.model`) and, for each
candidate pair of models near each other in the current order, computes how much one more vote
on that pair would shrink the expected mis-ordering of the *target* pairs: the unresolved pairs
of models at most :data:`TARGET_WINDOW` places apart. A vote on ``(a, b)`` updates the
posterior covariance by a rank-one step (the Fisher information ``p(1 - p)`` of that
comparison), which shrinks the standard deviation ``s`` of every target difference it is
correlated with; the gain of a target with mean difference ``m`` is the drop of its expected
ordering loss ``s*phi(m/s) - |m|*Phi(-|m|/s)`` (the expected size of the error made by ordering
the pair by its posterior mean). Pairs that are already separated, or whose direct votes reached
the board's ``max_pair_votes``, are not targets any more. Models with fewer than
:data:`NEWCOMER_VOTES` votes (a newly added model) are matched first, against the opponent
whose comparison is most informative, which is one close to the newcomer's current estimate.
For the chosen pair, the prompt is the one on which the two models have had the fewest votes,
so every model is judged across the prompts. Matchups served but not yet voted on divide the
value of their pair (``1 + pending``), so concurrent raters are not all sent the same pair.

Cost: the candidates are the pairs at most :data:`CANDIDATE_WINDOW` places apart, so one
selection is O(n * window * targets), whatever the number of votes; when that is many cells,
candidates are first ranked by the first-order drop ``phi(m/s) * (s - s_new)`` and only the
best few are scored exactly. Boards of more than
:data:`~rater.matchmaking.model.DENSE_MODELS` models have a local posterior (no ``n x n``
matrix): the same values are computed within a stretch of :data:`REGION` places of the order,
around the newcomer, or else around the places where the most ordering loss is still open
(:func:`open_places`), with the covariance of that stretch's models; one selection then costs
the same at 1,000 or 10,000 models. On such boards a pair counts as separated only once its
exact variance has been checked (:func:`separated`).

**uniform.** A random prompt, then two random models with media for it: the baseline.

Both never serve one rater a pair of media already served to them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from rater.matchmaking.model import LocalPosterior, Posterior, var_diff
from rater.matchmaking.state import BoardState, MediaItem, RaterView

__all__ = [
    "CANDIDATE_WINDOW",
    "MIN_PLACED_VOTES",
    "NEWCOMER_VOTES",
    "REGION",
    "SEPARATION_Z",
    "TARGET_WINDOW",
    "Analysis",
    "Plan",
    "analyse",
    "candidate_values",
    "information_values",
    "open_places",
    "pick_information",
    "pick_local",
    "pick_uniform",
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
#: On boards with a local posterior, candidates and targets come from a stretch of this many
#: places of the order (where the most ordering loss is open, or around the newcomer)...
REGION = 48
#: ...trying up to this many stretches before falling back to a uniform pick.
REGION_TRIES = 4
_UNIFORM_TRIES = 40
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
_EXACT_CELLS = 40_000  # candidate x target cells scored exactly; beyond, a first-order pass
_EXACT_TOP = 24  # ...picks this many candidates to score exactly


@dataclass(frozen=True)
class Plan:
    """A chosen comparison: prompt ``q``, models ``a`` and ``b`` and a medium of each."""

    q: int
    a: int
    b: int
    media_a: MediaItem
    media_b: MediaItem


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
    resolved = sep | capped
    ok = np.ones(len(order), dtype=bool)
    ok[:-1] &= resolved
    ok[1:] &= resolved
    placed[order] = ok & (state.model_games[order] >= MIN_PLACED_VOTES)
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


def _expected_loss(m: np.ndarray, s: np.ndarray) -> np.ndarray:
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
    before = _expected_loss(m_t, np.sqrt(var_t)).sum()
    if s_new.size <= _EXACT_CELLS:
        gain = before - _expected_loss(m_t[None, :], s_new).sum(axis=1)
    else:
        # Big boards: rank by the first-order drop phi(m/s) * (s - s_new) (no exp/ndtr per
        # cell), then score the best few exactly; the rest keep their order behind them.
        s_t = np.sqrt(var_t)
        density = _INV_SQRT_2PI * np.exp(-0.5 * (m_t / s_t) ** 2)
        gain = (s_t[None, :] - s_new) @ density
        top = np.argsort(-gain)[:_EXACT_TOP]
        exact = before - _expected_loss(m_t[None, :], s_new[top]).sum(axis=1)
        gain = np.minimum(gain, exact.min()) - 1e-12
        gain[top] = exact
    # A tiny share of the candidate's own variance reduction breaks ties sensibly.
    return gain + 1e-6 * info * var_c * var_c / (1.0 + info * var_c)


def pick_information(
    state: BoardState,
    history: RaterView,
    analysis: Analysis,
    max_pair_votes: int,
    pending: dict[tuple[int, int], int],
) -> Plan | None:
    """The most informative pair this rater has not seen yet (see the module docstring)."""
    order = analysis.order
    if len(order) < 2:
        return None
    rng = state.rng
    games = state.model_games
    newcomers = order[games[order] < NEWCOMER_VOTES]
    focus = None
    if len(newcomers):
        fewest = newcomers[games[newcomers] == games[newcomers].min()]
        focus = int(rng.choice(fewest))
    if isinstance(state.posterior, LocalPosterior):
        return pick_local(state, history, analysis, max_pair_votes, pending, focus)
    ca, cb, values = information_values(state, analysis, max_pair_votes, pending, focus)
    if len(ca) == 0:
        return None
    return _best_plan(state, history, ca, cb, values) or pick_uniform(state, history)


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
        held = np.zeros(len(ca))
        for (x, y), count in pending.items():
            held[((ca == x) & (cb == y)) | ((ca == y) & (cb == x))] += count
        values = values / (1.0 + held)
    return ca, cb, values


def _best_plan(
    state: BoardState, history: RaterView, ca: np.ndarray, cb: np.ndarray, values: np.ndarray
) -> Plan | None:
    values = values * (1.0 + 1e-9 * state.rng.random(len(values)))  # random among equals
    for k in np.argsort(-values, kind="stable"):
        plan = _pick_media(state, history, int(ca[k]), int(cb[k]))
        if plan is not None:
            return plan
    return None


def _pick_media(state: BoardState, history: RaterView, a: int, b: int) -> Plan | None:
    """For models ``a`` and ``b``: the prompt where they have had the fewest votes, and a pair
    of their media for it that the rater has not seen; None if the rater has seen them all."""
    rng = state.rng
    prompts = np.flatnonzero(state.has_media[a] & state.has_media[b])
    if len(prompts) == 0:
        return None
    load = state.prompt_games[a, prompts] + state.prompt_games[b, prompts]
    for q in prompts[np.argsort(load + 0.5 * rng.random(len(prompts)), kind="stable")]:
        plan = _unseen_media(state, history, int(q), a, b)
        if plan is not None:
            return plan
    return None


def _unseen_media(state: BoardState, history: RaterView, q: int, a: int, b: int) -> Plan | None:
    rng = state.rng
    left, right = state.media[(a, q)], state.media[(b, q)]
    options = [(x, y) for x in left for y in right]
    start = int(rng.integers(len(options)))
    for k in range(len(options)):
        x, y = options[(start + k) % len(options)]
        if not history.seen(x.id, y.id):
            return Plan(q, a, b, x, y)
    return None


def pick_uniform(state: BoardState, history: RaterView) -> Plan | None:
    """A random prompt, then two random models with media for it, then a medium of each; a
    pair this rater has seen is drawn again, and after many misses every option is scanned."""
    rng = state.rng
    usable = np.flatnonzero(state.has_media.sum(axis=0) >= 2)
    if len(usable) == 0:
        return None
    for _ in range(_UNIFORM_TRIES):
        q = int(rng.choice(usable))
        models = np.flatnonzero(state.has_media[:, q])
        a, b = (int(x) for x in rng.choice(models, size=2, replace=False))
        x = state.media[(a, q)][int(rng.integers(len(state.media[(a, q)])))]
        y = state.media[(b, q)][int(rng.integers(len(state.media[(b, q)])))]
        if not history.seen(x.id, y.id):
            return Plan(q, a, b, x, y)
    for q in rng.permutation(usable):
        models = rng.permutation(np.flatnonzero(state.has_media[:, int(q)]))
        for i, a in enumerate(models):
            for b in models[i + 1:]:
                plan = _unseen_media(state, history, int(q), int(a), int(b))
                if plan is not None:
                    return plan
    return None


def pick_local(
    state: BoardState,
    history: RaterView,
    analysis: Analysis,
    max_pair_votes: int,
    pending: dict[tuple[int, int], int],
    focus: int | None,
) -> Plan | None:
    """:func:`pick_information` on a big board: the same values, computed within a stretch of
    :data:`REGION` places of the order (the whole order if it is shorter) around the newcomer,
    or else around the places where the most ordering loss is still open."""
    order = analysis.order
    n, half = len(order), REGION // 2
    if n <= REGION:
        centers = [n // 2]
    elif focus is not None:
        centers = [int(np.flatnonzero(order == focus)[0])]
    else:
        centers = open_places(state, analysis, pending)
    for c in centers:
        lo = min(max(0, c - half), max(0, n - REGION))
        region = np.arange(lo, min(n, lo + REGION))
        ca, cb, values = information_values(state, analysis, max_pair_votes, pending, focus, region)
        plan = _best_plan(state, history, ca, cb, values) if len(ca) else None
        if plan is not None:
            return plan
    return pick_uniform(state, history)


def open_places(
    state: BoardState, analysis: Analysis, pending: dict[tuple[int, int], int]
) -> list[int]:
    """Up to :data:`REGION_TRIES` places of the order, best first and at least half a region
    apart, ranked by the expected ordering loss of the open neighbouring pairs around them
    (divided by ``1 +`` the matchups pending there, so concurrent raters spread out)."""
    order, gap, sd = analysis.order, analysis.gap, analysis.sd
    loss = _expected_loss(gap, sd)
    loss[(gap >= SEPARATION_Z * sd) if analysis.settled else analysis.resolved] = 0.0
    score = np.convolve(loss, np.ones(2 * TARGET_WINDOW + 1), mode="same")
    if pending:
        place = np.empty(len(state.model_ids), dtype=np.intp)
        place[order] = np.arange(len(order))
        held = np.zeros(len(loss))
        for (x, y), count in pending.items():
            held[min(len(loss) - 1, (place[x] + place[y]) // 2)] += count
        score /= 1.0 + np.convolve(held, np.ones(2 * CANDIDATE_WINDOW + 1), mode="same")
    score *= 1.0 + 1e-9 * state.rng.random(len(score))  # random among equals
    chosen: list[int] = []
    for k in _descending(score):
        if all(abs(k - c) >= REGION // 2 for c in chosen):
            chosen.append(k)
            if len(chosen) == REGION_TRIES:
                break
    return chosen


def _descending(score: np.ndarray, first: int = 256) -> Iterator[int]:
    """Indices of ``score`` from the highest down: the top ``first`` found by a partition,
    the full sort only if the caller wants more."""
    if len(score) > first:
        top = np.argpartition(-score, first - 1)[:first]
        yield from top[np.argsort(-score[top], kind="stable")].tolist()
        rest = np.argsort(-score, kind="stable")
        yield from rest[first:].tolist()
    else:
        yield from np.argsort(-score, kind="stable").tolist()
