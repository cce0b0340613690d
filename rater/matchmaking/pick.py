"""Choosing the next pair: the "information" and "uniform" strategies.

**information.** The published order is wrong where two models are ordered differently from
the truth, and nearly all such mistakes are between models close in the order. So the
matchmaker picks the candidate pair where one more vote would most shrink the expected
mis-ordering of the pairs close in the order (:func:`rater.matchmaking.select.information_values`
says how that value is computed). Models with fewer than
:data:`~rater.matchmaking.select.NEWCOMER_VOTES` votes (a newly added model) are matched first,
against the opponent whose comparison is most informative, which is one close to the
newcomer's current estimate. For the chosen pair, the prompt is the one on which the two models
have had the fewest votes, so every model is judged across the prompts. Matchups served but not
yet voted on divide the value of their pair (``1 + pending``), so concurrent raters are not all
sent the same pair.

Boards of more than :data:`~rater.matchmaking.model.DENSE_MODELS` models have a local posterior
(no ``n x n`` matrix): the same values are computed within a stretch of :data:`REGION` places
of the order, around the newcomer, or else around the places where the most ordering loss is
still open (:func:`open_places`), with the covariance of that stretch's models
(:func:`pick_local`); one selection then costs the same at 1,000 or 10,000 models.

**uniform.** A random prompt, then two random models with media for it: the baseline.

Both never serve one rater a pair of media already served to them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from rater.matchmaking.model import LocalPosterior
from rater.matchmaking.select import (
    CANDIDATE_WINDOW,
    NEWCOMER_VOTES,
    SEPARATION_Z,
    TARGET_WINDOW,
    Analysis,
    expected_loss,
    information_values,
)
from rater.matchmaking.state import BoardState, MediaItem, RaterView

__all__ = [
    "REGION",
    "Plan",
    "open_places",
    "pick_information",
    "pick_local",
    "pick_uniform",
]

#: On boards with a local posterior, candidates and targets come from a stretch of this many
#: places of the order (where the most ordering loss is open, or around the newcomer)...
REGION = 48
#: ...trying up to this many stretches before falling back to a uniform pick.
REGION_TRIES = 4
_UNIFORM_TRIES = 40


@dataclass(frozen=True)
class Plan:
    """A chosen comparison: prompt ``q``, models ``a`` and ``b`` and a medium of each."""

    q: int
    a: int
    b: int
    media_a: MediaItem
    media_b: MediaItem


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
    newcomers = order[(games[order] < NEWCOMER_VOTES) & (games[order] < state.budget[order])]
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
    """A pair of the two models' media for prompt ``q`` that the rater has not seen, never two
    identical files (two models giving the same answer: a vote could only be noise)."""
    rng = state.rng
    left, right = state.media[(a, q)], state.media[(b, q)]
    options = [(x, y) for x in left for y in right]
    start = int(rng.integers(len(options)))
    for k in range(len(options)):
        x, y = options[(start + k) % len(options)]
        if x.sha256 != y.sha256 and not history.seen(x.id, y.id):
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
        if x.sha256 != y.sha256 and not history.seen(x.id, y.id):
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
    loss = expected_loss(gap, sd)
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
