"""Simulated boards with known truth, for benchmarks and demonstrations.

Not used by any ranking computation. Tests keep their own simulators so that no expected
value comes from this package.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize
from scipy.special import expit, ndtr

from ranking.votes import VoteArrays

__all__ = ["RATER_KINDS", "population_strengths", "simulate_crowd", "simulate_criteria", "simulate_votes"]


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
    return _arrays(len(theta), prompts, ("",), a, b, score, prompt, np.zeros(n_votes, dtype=np.int32))


def _arrays(n_models: int, prompts: tuple[str, ...], raters: tuple[str, ...], a: np.ndarray,
            b: np.ndarray, score: np.ndarray, prompt: np.ndarray, rater: np.ndarray) -> VoteArrays:
    """Simulated votes as arrays: models ``model 0000``..., one vote a minute."""
    return VoteArrays(
        models=tuple(f"model {k:04d}" for k in range(n_models)),
        prompts=prompts,
        raters=raters,
        a=a.astype(np.int32),
        b=b.astype(np.int32),
        score_a=score,
        prompt=prompt.astype(np.int32),
        rater=rater.astype(np.int32),
        time=1.7e9 + 60.0 * np.arange(len(a)),
        excluded=np.zeros(len(a), dtype=np.bool_),
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
    judge_link: str | None = None,
    judge_scale: float = 1.0,
) -> np.ndarray:
    """Centred strengths a fit of :func:`simulate_votes` votes tends to with endless votes
    and prompts: the paired-comparison (``link``) projection of the expected scores.

    The votes' own link is ``link`` unless ``judge_link`` is given, with differences divided by
    ``judge_scale``: ``judge_link="probit", judge_scale=1.702`` are the honest raters of
    :func:`simulate_crowd` (``random_share`` then being the share of random clickers' votes).

    Expected score of ``i`` against ``j`` (either side equally often, prompt deviations
    integrated by Gauss-Hermite quadrature): ``(1 - tie_prob) * ((1 - random_share) * P +
    random_share / 2) + tie_prob / 2``. The strengths solve ``sum_j expected = sum_j F(phi_i -
    phi_j)`` (every pair equally often), with ``sum(phi) = 0``.
    """
    cdf = expit if link == "logit" else ndtr
    x, w = np.polynomial.hermite_e.hermegauss(61)
    w = w / w.sum()
    diff = theta[:, None, None] - theta[None, :, None] + x * np.sqrt(2.0) * prompt_sd
    judge = cdf if judge_link is None else (expit if judge_link == "logit" else ndtr)
    win = 0.5 * ((judge((diff + position_bias) / judge_scale)
                  + judge((diff - position_bias) / judge_scale)) * w).sum(axis=-1)
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


#: Kinds of simulated raters in :func:`simulate_crowd`.
RATER_KINDS = ("honest", "random", "left")


def simulate_crowd(
    n_models: int,
    n_votes: int,
    *,
    n_raters: int = 60,
    random_share: float = 0.15,
    left_share: float = 0.10,
    left_bias: float = 1.5,
    spread: float = 2.0,
    n_prompts: int = 30,
    prompt_sd: float = 0.3,
    activity_sd: float = 0.5,
    seed: int = 0,
) -> tuple[VoteArrays, np.ndarray, np.ndarray]:
    """Votes of a crowd of raters of three kinds, with known true strengths.

    True strengths are spread evenly over ``+-spread`` log-odds, with per (model, prompt)
    deviations ``N(0, prompt_sd^2)``; pairs and prompts are drawn uniformly, model ``a`` being
    the left side. Of ``n_raters`` raters the first ``round(random_share * n_raters)`` click at
    random, the next ``round(left_share * n_raters)`` prefer the left side (a judgement shifted
    by ``left_bias`` log-odds towards the left), the rest are honest. Judgements have normal
    noise: ``P(left) = Phi((d + bias) / 1.702)``, ``d`` the log-odds difference (so they are
    close to, but not exactly, the logistic model a fit assumes). Each vote's rater is drawn in
    proportion to a lognormal activity (``activity_sd``), so some raters vote much more than
    others. Times increase with the row number.

    :return: the votes, ``theta`` (log-odds, ``models[k]`` has ``theta[k]``) and each rater's
        kind (an index into :data:`RATER_KINDS`).
    """
    rng = np.random.default_rng(seed)
    theta = np.linspace(spread, -spread, n_models)
    n_random, n_left = round(random_share * n_raters), round(left_share * n_raters)
    kind = np.zeros(n_raters, dtype=np.int64)
    kind[:n_random], kind[n_random:n_random + n_left] = 1, 2
    activity = np.exp(rng.normal(0.0, activity_sd, n_raters))
    rater = rng.choice(n_raters, n_votes, p=activity / activity.sum())
    a = rng.integers(0, n_models, n_votes)
    b = (a + rng.integers(1, n_models, n_votes)) % n_models
    prompt = rng.integers(0, n_prompts, n_votes)
    dev = rng.normal(0.0, prompt_sd, (n_models, n_prompts))
    d = theta[a] + dev[a, prompt] - theta[b] - dev[b, prompt] + np.where(kind[rater] == 2, left_bias, 0.0)
    p = np.where(kind[rater] == 1, 0.5, ndtr(d / 1.702))
    va = _arrays(n_models, tuple(f"prompt {k:05d}" for k in range(n_prompts)),
                 tuple(f"rater {k:04d}" for k in range(n_raters)), a, b,
                 (rng.random(n_votes) < p).astype(np.float64), prompt, rater)
    return va, theta, kind
