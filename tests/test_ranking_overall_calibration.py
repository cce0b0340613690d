"""Overall standings on simulated benchmarks with known truth per criterion: the 95% intervals
cover the true weighted overall strength 92-97% of the time, where combining each criterion's
own interval as if the criteria were independent covers less.

The simulator and the truth are this file's own (no expected value comes from ``ranking``):
per criterion, the Bradley-Terry projection of the expected scores with the prompt deviations
integrated out; a model's deviation on a prompt is the same in every criterion.
``benchmarks/overall_calibration.py`` runs more settings at full size.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from ranking import VoteArrays, compute_overall_standings, compute_standings
from ranking_support import bradley_terry_projection

MODELS, VOTES, PROMPTS, PROMPT_SD, TIES = 12, 4_000, 30, 0.8, 0.1
WEIGHTS = {"aesthetics": 2.0, "alignment": 1.0}


def simulate(seed: int) -> tuple[dict[str, VoteArrays], np.ndarray]:
    """Two criteria on shared prompts, and the true overall strengths (log-odds, centred)."""
    rng = np.random.default_rng(seed)
    common = rng.normal(0.0, 1.0, MODELS)
    dev = rng.normal(0.0, PROMPT_SD, (MODELS, PROMPTS))  # shared by both criteria
    x, w = np.polynomial.hermite_e.hermegauss(41)
    votes, truth = {}, np.zeros(MODELS)
    for name, weight in WEIGHTS.items():
        theta = np.sqrt(0.5) * common + np.sqrt(0.5) * rng.normal(0.0, 1.0, MODELS)
        a = rng.integers(0, MODELS, VOTES)
        b = (a + rng.integers(1, MODELS, VOTES)) % MODELS
        p = rng.integers(0, PROMPTS, VOTES)
        score = (rng.random(VOTES) < expit(theta[a] + dev[a, p] - theta[b] - dev[b, p])).astype(float)
        score[rng.random(VOTES) < TIES] = 0.5
        votes[name] = VoteArrays(
            tuple(f"m{k:02d}" for k in range(MODELS)), tuple(f"p{k}" for k in range(PROMPTS)),
            ("",), a, b, score, p, np.zeros(VOTES, int), np.arange(VOTES, dtype=float),
            np.zeros(VOTES, bool))
        diff = theta[:, None, None] - theta[None, :, None] + x * np.sqrt(2.0) * PROMPT_SD
        expected = (1 - TIES) * (expit(diff) * w / w.sum()).sum(-1) + TIES / 2
        truth += weight / sum(WEIGHTS.values()) * bradley_terry_projection(expected, theta)
    return votes, truth


def test_overall_intervals_cover_the_weighted_truth() -> None:
    """40 benchmarks x 12 models: 0.942 here (0.94-0.965 over ten such blocks of seeds)."""
    joint, independent = [], []
    for seed in range(40):
        votes, truth = simulate(seed)
        table = compute_overall_standings(votes, weights=WEIGHTS, seed=seed).set_index("name")
        table = table.sort_index()
        unit = table.attrs["score_per_unit"]
        z, low, high = ((table[c].to_numpy() - 1000.0) / unit for c in ("score", "ci_low", "ci_high"))
        joint.append(np.mean((low <= truth) & (truth <= high)))
        half_sq = 0.0  # each criterion's own interval, combined as if independent
        for k, (name, va) in enumerate(votes.items()):
            alone = compute_standings(va, seed=seed + 1 + k).set_index("name").sort_index()
            half = (alone["ci_high"] - alone["ci_low"]).to_numpy() / 2 / unit
            half_sq = half_sq + (WEIGHTS[name] / sum(WEIGHTS.values()) * half) ** 2
        independent.append(np.mean(np.abs(z - truth) <= np.sqrt(half_sq)))
    print(f"\njoint {np.mean(joint):.3f}, independent {np.mean(independent):.3f}")
    assert 0.92 <= np.mean(joint) <= 0.97
    assert np.mean(independent) < np.mean(joint) - 0.03  # 0.898 here: the criteria share prompts


def test_simulate_criteria_shares_models_and_prompts() -> None:
    from ranking.simulate import simulate_criteria

    votes, thetas = simulate_criteria(6, 500, n_criteria=3, n_prompts=7, prompt_sd=0.5,
                                      strength_corr=1.0, seed=2)
    assert list(votes) == list(thetas) == ["c0", "c1", "c2"]
    assert len({(va.models, va.prompts) for va in votes.values()}) == 1
    assert all(len(va) == 500 and len(va.prompts) == 7 for va in votes.values())
    assert np.allclose(thetas["c0"], thetas["c2"])  # strength_corr=1: one truth for all
    again, _ = simulate_criteria(6, 500, n_criteria=3, n_prompts=7, prompt_sd=0.5,
                                 strength_corr=1.0, seed=2)
    assert np.array_equal(again["c1"].score_a, votes["c1"].score_a)
