"""RatingState: the incremental path for the matchmaker.

Reference: the same posterior (Bradley-Terry log-likelihood plus OpenSkill's default
prior in log-odds units) maximised here with scipy's BFGS, and its Hessian written out.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from openskill.models import PlackettLuce
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from ranking import RankingError, RatingState, Vote, VoteArrays

_OS = PlackettLuce()
PRIOR = (math.sqrt(2) * _OS.beta / _OS.sigma) ** 2


def _random_votes(seed: int, n_models: int = 6, n_votes: int = 300) -> VoteArrays:
    rng = np.random.default_rng(seed)
    strength = rng.normal(0, 1, n_models)
    votes = []
    for _ in range(n_votes):
        a, b = rng.choice(n_models, 2, replace=False)
        u = rng.random()
        outcome = "tie" if u < 0.1 else ("a" if rng.random() < expit(strength[a] - strength[b]) else "b")
        votes.append(Vote(f"m{a}", f"m{b}", outcome))
    return VoteArrays.from_votes(votes, models=[f"m{k}" for k in range(n_models + 1)])


def _reference(va: VoteArrays, extra: list[tuple[int, int, float]] = ()) -> tuple[np.ndarray, np.ndarray]:
    a = np.r_[va.a, [e[0] for e in extra]].astype(int)
    b = np.r_[va.b, [e[1] for e in extra]].astype(int)
    s = np.r_[va.score_a, [e[2] for e in extra]]
    n = len(va.models)

    def negative_log_posterior(mu: np.ndarray) -> tuple[float, np.ndarray]:
        d = mu[a] - mu[b]
        value = -(s * log_expit(d) + (1 - s) * log_expit(-d)).sum() + 0.5 * PRIOR * (mu**2).sum()
        residual = s - expit(d)
        gradient = -np.bincount(a, residual, n) + np.bincount(b, residual, n) + PRIOR * mu
        return value, gradient

    mu = minimize(negative_log_posterior, np.zeros(n), jac=True, method="BFGS",
                  options={"gtol": 1e-11}).x
    p = expit(mu[a] - mu[b])
    hessian = PRIOR * np.eye(n)
    for i, j, w in zip(a, b, p * (1 - p), strict=True):
        hessian[i, i] += w
        hessian[j, j] += w
        hessian[i, j] -= w
        hessian[j, i] -= w
    return mu, np.linalg.inv(hessian)


def test_from_votes_matches_direct_maximisation() -> None:
    va = _random_votes(0)
    state = RatingState.from_votes(va)
    mu, cov = _reference(va)
    np.testing.assert_allclose(state.mu, mu, atol=1e-6)
    np.testing.assert_allclose(state.cov, cov, atol=1e-6)
    assert state.mu[-1] == pytest.approx(0.0, abs=1e-9)  # the model without votes sits at the prior
    assert state.cov[-1, -1] == pytest.approx(1 / PRIOR)
    assert state.var_diff(0, 1) == pytest.approx(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1], rel=1e-6)
    games = np.bincount(np.r_[va.a, va.b], minlength=len(va.models))
    np.testing.assert_array_equal(state.n_games, games)


def test_add_and_refit_equals_refitting_everything() -> None:
    va = _random_votes(1)
    state = RatingState.from_votes(va)
    extra = [(0, 6, 1.0), (3, 2, 0.5), ("m4", "m1", 0.0)]
    for i, j, s in extra:
        state.add(i, j, s)
    with pytest.raises(RankingError, match="refit"):
        _ = state.mu
    state.refit()
    index = {f"m{k}": k for k in range(7)}
    numeric = [(index.get(i, i), index.get(j, j), s) for i, j, s in extra]
    mu, cov = _reference(va, numeric)
    np.testing.assert_allclose(state.mu, mu, atol=1e-6)
    np.testing.assert_allclose(state.cov, cov, atol=1e-6)
    assert state.n_games[6] == 1


def test_win_probability_and_quick_standings() -> None:
    va = _random_votes(2)
    state = RatingState.from_votes(va)
    mu = state.mu
    assert state.win_probability(0, 1) == pytest.approx(expit(mu[0] - mu[1]))
    table = state.standings()
    assert table["name"].iloc[-1] == "m6"  # never played: last
    played = table.iloc[:-1]
    assert played["score"].is_monotonic_decreasing
    assert played["score"].mean() == pytest.approx(1000.0)
    assert (played["se"] > 0).all()


def test_exclusion_and_inverse() -> None:
    votes = [Vote("x", "y", "a")] * 5 + [Vote("x", "y", "b", excluded=True)] * 50
    assert RatingState.from_votes(votes).mu[0] > 0
    assert RatingState.from_votes(votes, inverse=True).mu[0] < 0


def test_errors_name_the_problem() -> None:
    state = RatingState.from_votes([Vote("x", "y", "a")])
    with pytest.raises(RankingError, match="'z'"):
        state.add("z", "x", 1.0)
    with pytest.raises(RankingError, match="outside"):
        state.add(0, 5, 1.0)
    with pytest.raises(RankingError, match="two different"):
        state.add(0, 0, 1.0)
    with pytest.raises(RankingError, match="score_i"):
        state.add(0, 1, 2.0)
