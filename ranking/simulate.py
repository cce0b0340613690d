"""Simulated boards with known truth, for benchmarks and demonstrations.

Not used by any ranking computation. Tests keep their own simulators so that no expected
value comes from this package.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize
from scipy.special import expit, ndtr

from ranking.votes import VoteArrays

__all__ = ["population_strengths", "simulate_criteria", "simulate_votes"]


def simulate_votes(
    n_models: int,
    n_votes: int,
    *,
    n_prompts: int = 0,
    prompt_sd: float = 0.0,
    strength_sd: float = 1.0,
    link: str = "logit",
    tie_prob: float = 0.0,
    random_share: float = 0.0,
    position_bias: float = 0.0,
    seed: int = 0,
) -> tuple[VoteArrays, np.ndarray]:
    """Votes between uniformly drawn pairs of models, with known true strengths.

    ``P(a chosen) = F(theta_a + d_ap - theta_b - d_bp + position_bias)`` with
    ``theta ~ N(0, strength_sd^2)``, a per (model, prompt) deviation ``d ~ N(0, prompt_sd^2)``
    and ``F`` the logistic or the normal CDF; a share ``random_share`` of votes comes from
    voters who pick a side at random. With probability ``tie_prob`` a vote is a tie instead.
    Times increase with the row number, one vote a minute. :func:`population_strengths`
    gives what a fit of such votes estimates.

    :return: the votes and ``theta`` (log-odds or probit units).
    """
    rng = np.random.default_rng(seed)
    theta = rng.normal(0.0, strength_sd, n_models)
    a = rng.integers(0, n_models, n_votes)
    b = (a + rng.integers(1, n_models, n_votes)) % n_models
    n_p = max(n_prompts, 1)
    prompt = rng.integers(0, n_p, n_votes)
    dev = rng.normal(0.0, prompt_sd, (n_models, n_p))
    va = _votes(rng, theta, dev, a, b, prompt, bool(n_prompts), link=link, tie_prob=tie_prob,
                random_share=random_share, position_bias=position_bias)
    return va, theta


def _votes(rng: np.random.Generator, theta: np.ndarray, dev: np.ndarray, a: np.ndarray,
           b: np.ndarray, prompt: np.ndarray, named: bool, *, link: str, tie_prob: float,
           random_share: float, position_bias: float) -> VoteArrays:
    """Draw the outcomes of the matchups ``a``/``b`` on ``prompt`` (see :func:`simulate_votes`)."""
    n_votes = len(a)
    d = theta[a] + dev[a, prompt] - theta[b] - dev[b, prompt] + position_bias
    p = expit(d) if link == "logit" else ndtr(d)
    if random_share:
        p = np.where(rng.random(n_votes) < random_share, 0.5, p)
    score = (rng.random(n_votes) < p).astype(np.float64)
    score[rng.random(n_votes) < tie_prob] = 0.5
    prompts = tuple(f"prompt {k:05d}" for k in range(dev.shape[1])) if named else ("",)
    return VoteArrays(
        models=tuple(f"model {k:04d}" for k in range(len(theta))),
        prompts=prompts,
        raters=("",),
        a=a.astype(np.int32),
        b=b.astype(np.int32),
        score_a=score,
        prompt=prompt.astype(np.int32),
        rater=np.zeros(n_votes, dtype=np.int32),
        time=1.7e9 + 60.0 * np.arange(n_votes),
        excluded=np.zeros(n_votes, dtype=np.bool_),
    )


def simulate_criteria(
    n_models: int,
    n_votes: int,
    *,
    n_criteria: int = 2,
    n_prompts: int = 100,
    prompt_sd: float = 0.0,
    prompt_shared: float = 1.0,
    strength_corr: float = 0.5,
    strength_sd: float = 1.0,
    tie_prob: float = 0.0,
    seed: int = 0,
) -> tuple[dict[str, VoteArrays], dict[str, np.ndarray]]:
    """Votes of several criteria of one benchmark (shared models and prompts), known truth.

    Each criterion ``"c0"``, ``"c1"``, ... gets ``n_votes`` votes drawn as in
    :func:`simulate_votes` (logistic), with true strengths ``theta_c = sqrt(r) * common +
    sqrt(1 - r) * own`` (``r = strength_corr``, both ``N(0, strength_sd^2)``) and per (model,
    prompt) deviations ``sqrt(s) * shared + sqrt(1 - s) * own`` (``s = prompt_shared``, both
    ``N(0, prompt_sd^2)``): with ``s = 1`` a model good at a prompt is equally good at it on
    every criterion, the case where the criteria's errors are correlated.
    ``population_strengths(theta_c, prompt_sd=prompt_sd, tie_prob=tie_prob)`` is what a fit of
    criterion ``c`` estimates.

    :return: votes and ``theta`` per criterion.
    """
    rng = np.random.default_rng(seed)
    common = rng.normal(0.0, strength_sd, n_models)
    shared = rng.normal(0.0, prompt_sd, (n_models, n_prompts))
    votes, thetas = {}, {}
    for k in range(n_criteria):
        theta = np.sqrt(strength_corr) * common + np.sqrt(1 - strength_corr) * rng.normal(
            0.0, strength_sd, n_models)
        dev = np.sqrt(prompt_shared) * shared + np.sqrt(1 - prompt_shared) * rng.normal(
            0.0, prompt_sd, (n_models, n_prompts))
        a = rng.integers(0, n_models, n_votes)
        b = (a + rng.integers(1, n_models, n_votes)) % n_models
        prompt = rng.integers(0, n_prompts, n_votes)
        votes[f"c{k}"] = _votes(rng, theta, dev, a, b, prompt, True, link="logit",
                                tie_prob=tie_prob, random_share=0.0, position_bias=0.0)
        thetas[f"c{k}"] = theta
    return votes, thetas


def population_strengths(
    theta: np.ndarray,
    *,
    prompt_sd: float = 0.0,
    link: str = "logit",
    tie_prob: float = 0.0,
    random_share: float = 0.0,
    position_bias: float = 0.0,
) -> np.ndarray:
    """Centred strengths a fit of :func:`simulate_votes` votes tends to with endless votes
    and prompts: the paired-comparison (``link``) projection of the expected scores.

    Expected score of ``i`` against ``j`` (either side equally often, prompt deviations
    integrated by Gauss-Hermite quadrature): ``(1 - tie_prob) * ((1 - random_share) * P +
    random_share / 2) + tie_prob / 2``. The strengths solve ``sum_j expected = sum_j F(phi_i -
    phi_j)`` (every pair equally often), with ``sum(phi) = 0``.
    """
    cdf = expit if link == "logit" else ndtr
    x, w = np.polynomial.hermite_e.hermegauss(61)
    w = w / w.sum()
    diff = theta[:, None, None] - theta[None, :, None] + x * np.sqrt(2.0) * prompt_sd
    win = 0.5 * ((cdf(diff + position_bias) + cdf(diff - position_bias)) * w).sum(axis=-1)
    expected = (1 - tie_prob) * ((1 - random_share) * win + random_share / 2) + tie_prob / 2
    np.fill_diagonal(expected, 0.0)

    def equations(phi: np.ndarray) -> np.ndarray:
        model = cdf(phi[:, None] - phi[None, :])
        np.fill_diagonal(model, 0.0)
        residual = (expected - model).sum(axis=1)
        residual[0] += phi.sum()
        return residual

    phi = optimize.root(equations, theta - theta.mean(), tol=1e-12).x
    return phi - phi.mean()
