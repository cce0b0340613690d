"""Simulated boards with known truth, for benchmarks and demonstrations.

Not used by any ranking computation. Tests keep their own simulators so that no expected
value comes from this package.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, ndtr

from ranking.votes import VoteArrays

__all__ = ["simulate_votes"]


def simulate_votes(
    n_models: int,
    n_votes: int,
    *,
    n_prompts: int = 0,
    prompt_sd: float = 0.0,
    strength_sd: float = 1.0,
    link: str = "logit",
    tie_prob: float = 0.0,
    seed: int = 0,
) -> tuple[VoteArrays, np.ndarray]:
    """Votes between uniformly drawn pairs of models, with known true strengths.

    ``P(a chosen) = F(theta_a + d_ap - theta_b - d_bp)`` with ``theta ~ N(0, strength_sd^2)``,
    a per (model, prompt) deviation ``d ~ N(0, prompt_sd^2)`` and ``F`` the logistic or the
    normal CDF. With probability ``tie_prob`` a vote is a tie instead. Times increase with
    the row number, one vote a minute.

    :return: the votes and ``theta`` (log-odds or probit units).
    """
    rng = np.random.default_rng(seed)
    theta = rng.normal(0.0, strength_sd, n_models)
    a = rng.integers(0, n_models, n_votes)
    b = (a + rng.integers(1, n_models, n_votes)) % n_models
    n_p = max(n_prompts, 1)
    prompt = rng.integers(0, n_p, n_votes)
    dev = rng.normal(0.0, prompt_sd, (n_models, n_p))
    d = theta[a] + dev[a, prompt] - theta[b] - dev[b, prompt]
    p = expit(d) if link == "logit" else ndtr(d)
    score = (rng.random(n_votes) < p).astype(np.float64)
    score[rng.random(n_votes) < tie_prob] = 0.5
    prompts = tuple(f"prompt {k:05d}" for k in range(n_p)) if n_prompts else ("",)
    va = VoteArrays(
        models=tuple(f"model {k:04d}" for k in range(n_models)),
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
    return va, theta
