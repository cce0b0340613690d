"""Simulations with known truth: order independence, agreement with the full-data
Bradley-Terry maximum likelihood, and interval coverage when prompts matter.

References are computed here, independently of ``ranking``: the Bradley-Terry MLE by
Hunter's (2004) MM algorithm, and the population strengths implied by the generating
model (closed form for the probit; Gauss-Hermite quadrature plus root finding for the
logit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit, ndtr
from scipy.stats import kendalltau

from ranking import VoteArrays, compute_standings, replay_openskill
from ranking_support import bradley_terry_projection

PROMPT_SD = 0.5


def simulate(
    n_models: int, n_votes: int, seed: int, *, n_prompts: int = 0, link: str = "logit",
    prompt_names: bool = True,
) -> tuple[VoteArrays, np.ndarray]:
    """Uniformly drawn pairs; P(a chosen) = F(theta_a + dev_ap - theta_b - dev_bp)."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(0.0, 1.0, n_models)
    a = rng.integers(0, n_models, n_votes)
    b = (a + rng.integers(1, n_models, n_votes)) % n_models
    prompt = rng.integers(0, max(n_prompts, 1), n_votes)
    dev = rng.normal(0.0, PROMPT_SD if n_prompts else 0.0, (n_models, max(n_prompts, 1)))
    d = theta[a] + dev[a, prompt] - theta[b] - dev[b, prompt]
    p = expit(d) if link == "logit" else ndtr(d)
    score = (rng.random(n_votes) < p).astype(float)
    prompts = tuple(f"prompt {k}" for k in range(max(n_prompts, 1))) if prompt_names else ("",)
    if not prompt_names:
        prompt = np.zeros(n_votes, dtype=int)
    va = VoteArrays(
        models=tuple(f"m{k:03d}" for k in range(n_models)), prompts=prompts, raters=("",),
        a=a, b=b, score_a=score, prompt=prompt, rater=np.zeros(n_votes, dtype=int),
        time=np.arange(n_votes, dtype=float), excluded=np.zeros(n_votes, dtype=bool),
    )
    return va, theta


def bt_mle_mm(va: VoteArrays) -> np.ndarray:
    """Bradley-Terry MLE (log strengths) by Hunter's MM iteration; ties count half."""
    n = len(va.models)
    wins = np.zeros((n, n))
    np.add.at(wins, (va.a, va.b), va.score_a)
    np.add.at(wins, (va.b, va.a), 1.0 - va.score_a)
    games = wins + wins.T
    p = np.ones(n)
    for _ in range(5000):
        new = wins.sum(axis=1) / (games / (p[:, None] + p[None, :])).sum(axis=1)
        new /= np.exp(np.log(new).mean())
        if np.abs(new - p).max() < 1e-13:
            break
        p = new
    return np.log(p)


def scores_in_model_order(table: pd.DataFrame, va: VoteArrays, column: str = "score") -> np.ndarray:
    return table.set_index("name").loc[list(va.models), column].to_numpy()


@pytest.fixture(scope="module")
def big_board() -> tuple[VoteArrays, np.ndarray]:
    return simulate(50, 100_000, seed=7)


def test_published_order_matches_full_data_bradley_terry(big_board: tuple) -> None:
    va, theta = big_board
    ours = scores_in_model_order(compute_standings(va), va)
    mle = bt_mle_mm(va)
    tau_mle = kendalltau(ours, mle)[0]
    tau_truth = kendalltau(ours, theta)[0]
    print(f"\nKendall tau vs BT MLE {tau_mle:.4f}, vs truth {tau_truth:.4f} "
          f"(MLE vs truth {kendalltau(mle, theta)[0]:.4f})")
    assert tau_mle >= 0.98
    assert tau_truth >= 0.95


def test_identical_standings_for_any_vote_order(big_board: tuple) -> None:
    va, _ = big_board
    reference = compute_standings(va)
    rng = np.random.default_rng(0)
    for _ in range(3):
        shuffled = va.subset(rng.permutation(len(va)))
        pd.testing.assert_frame_equal(compute_standings(shuffled), reference, check_exact=True)


@pytest.mark.slow
def test_online_openskill_depends_on_order_and_trails_the_full_fit(big_board: tuple) -> None:
    va, theta = big_board
    va = va.subset(np.arange(50_000))  # half the board keeps the replay to a few seconds
    ours = kendalltau(scores_in_model_order(compute_standings(va, n_bootstrap=0), va), theta)[0]
    perm = np.random.default_rng(1).permutation(len(va))
    online = scores_in_model_order(replay_openskill(va), va, "mu")
    shuffled = scores_in_model_order(replay_openskill(va.subset(perm), order="given"), va, "mu")
    taus = kendalltau(online, theta)[0], kendalltau(shuffled, theta)[0]
    print(f"\nonline openskill tau vs truth: {taus[0]:.4f} / shuffled {taus[1]:.4f}; ours {ours:.4f}")
    assert not np.array_equal(online, shuffled)
    assert kendalltau(online, shuffled)[0] < 0.95
    assert max(taus) < ours


def population_truth(theta: np.ndarray, link: str) -> np.ndarray:
    """Strengths the fit estimates with infinitely many prompts and votes, centred.

    Probit: the prompt deviations integrate out exactly, giving theta / sqrt(1 + 2 sd^2).
    Logit: the Bradley-Terry projection of the marginal win probabilities (all pairs
    equally often), by quadrature and root finding.
    """
    if link == "probit":
        truth = theta / np.sqrt(1 + 2 * PROMPT_SD**2)
    else:
        x, w = np.polynomial.hermite_e.hermegauss(61)
        noise = x * np.sqrt(2) * PROMPT_SD
        marginal = (expit(theta[:, None, None] - theta[None, :, None] + noise) * (w / w.sum())).sum(-1)
        truth = bradley_terry_projection(marginal, theta * 0.8)
    return truth - truth.mean()


def coverage(
    link: str, seeds: range, *, n_bootstrap: int, prompt_names: bool = True
) -> tuple[float, float]:
    """Share of models whose interval holds the true strength, and whose rank range
    holds the true rank (1 = strongest), averaged over seeds."""
    method = "plackett_luce" if link == "logit" else "thurstone_mosteller_full"
    hits, rank_hits = [], []
    for seed in seeds:
        va, theta = simulate(20, 40_000, seed, n_prompts=200, link=link, prompt_names=prompt_names)
        table = compute_standings(va, method=method, n_bootstrap=n_bootstrap, seed=seed)
        unit = table.attrs["score_per_unit"]
        low = (scores_in_model_order(table, va, "ci_low") - 1000) / unit
        high = (scores_in_model_order(table, va, "ci_high") - 1000) / unit
        truth = population_truth(theta, link)
        hits.append(np.mean((low <= truth) & (truth <= high)))
        true_rank = np.argsort(np.argsort(-theta)) + 1
        rank_low = scores_in_model_order(table, va, "rank_low")
        rank_high = scores_in_model_order(table, va, "rank_high")
        rank_hits.append(np.mean((rank_low <= true_rank) & (true_rank <= rank_high)))
    return float(np.mean(hits)), float(np.mean(rank_hits))


@pytest.mark.parametrize("link", ["logit", "probit"])
@pytest.mark.parametrize("n_bootstrap", [200, 0])
def test_intervals_cover_true_strength_when_prompts_matter(link: str, n_bootstrap: int) -> None:
    covered, ranks_covered = coverage(link, range(40), n_bootstrap=n_bootstrap)
    print(f"\n{link} n_bootstrap={n_bootstrap}: coverage {covered:.3f}, "
          f"true rank within [rank_low, rank_high] {ranks_covered:.3f}")
    assert 0.90 <= covered <= 0.98
    assert ranks_covered >= 0.95


def test_ignoring_prompts_would_undercover() -> None:
    """The same votes with the prompt unknown are resampled vote by vote: too narrow."""
    covered, _ = coverage("logit", range(20), n_bootstrap=200, prompt_names=False)
    print(f"\nvote-level bootstrap coverage {covered:.3f}")
    assert covered < 0.88
