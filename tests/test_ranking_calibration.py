"""Calibrated intervals: 95% intervals cover the truth 94-96% of the time on simulated boards
with prompt effects, random voters, position bias and ties; boards of 4-8 prompts cover at
least ~93% (wider, not overconfident); and the Fisher floor stays only where resampling cannot
see the spread (few prompts, few wins or losses).

The simulator and the truth are this file's own (no expected value comes from ``ranking``):
the truth is the Bradley-Terry projection of the expected scores, with the prompt deviations
integrated out by Gauss-Hermite quadrature. ``benchmarks/interval_calibration.py`` runs the
same check at full size.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from scipy.stats import norm

from ranking import VoteArrays, compute_standings
from ranking_support import bradley_terry_projection

MODELS, VOTES = 20, 10_000
MIX = dict(prompt_sd=0.5, random_share=0.08, bias=0.2, tie_prob=0.25, n_prompts=50)
TIES_ONLY_NOISE = dict(prompt_sd=0.0, random_share=0.0, bias=0.0, tie_prob=0.25, n_prompts=200)


def simulate(seed: int, prompt_sd: float, random_share: float, bias: float, tie_prob: float,
             n_prompts: int, n_votes: int = VOTES) -> tuple[VoteArrays, np.ndarray]:
    """Votes and the population truth (centred log-odds strengths)."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(0.0, 1.0, MODELS)
    a = rng.integers(0, MODELS, n_votes)
    b = (a + rng.integers(1, MODELS, n_votes)) % MODELS
    prompt = rng.integers(0, n_prompts, n_votes)
    dev = rng.normal(0.0, prompt_sd, (MODELS, n_prompts))
    p = expit(theta[a] + dev[a, prompt] - theta[b] - dev[b, prompt] + bias)
    p = np.where(rng.random(n_votes) < random_share, 0.5, p)
    score = (rng.random(n_votes) < p).astype(float)
    score[rng.random(n_votes) < tie_prob] = 0.5
    va = VoteArrays(
        models=tuple(f"m{k:02d}" for k in range(MODELS)),
        prompts=tuple(f"prompt {k}" for k in range(n_prompts)), raters=("",),
        a=a, b=b, score_a=score, prompt=prompt, rater=np.zeros(n_votes, dtype=int),
        time=np.arange(n_votes, dtype=float), excluded=np.zeros(n_votes, dtype=bool),
    )
    x, w = np.polynomial.hermite_e.hermegauss(61)
    diff = theta[:, None, None] - theta[None, :, None] + x * np.sqrt(2.0) * prompt_sd
    win = (0.5 * (expit(diff + bias) + expit(diff - bias)) * w / w.sum()).sum(-1)
    expected = (1 - tie_prob) * ((1 - random_share) * win + random_share / 2) + tie_prob / 2
    return va, bradley_terry_projection(expected, theta)


def interval_and_fisher(table: pd.DataFrame, va: VoteArrays) -> tuple[np.ndarray, ...]:
    """Centre, low, high and the Fisher half-width ``q * sigma``, in log-odds, model order."""
    rows = table.set_index("name").loc[list(va.models)]
    unit = table.attrs["score_per_unit"]
    z, low, high = ((rows[c].to_numpy() - 1000.0) / unit for c in ("score", "ci_low", "ci_high"))
    fisher = norm.ppf(0.975) * rows["sigma"].to_numpy() / table.attrs["c"]
    return z, low, high, fisher


def coverages(effects: dict, seeds: range) -> dict[str, float]:
    """Coverage of ours, of ours floored at Fisher everywhere (the old rule), and of a vote
    bootstrap that does not know the prompts."""
    hits: dict[str, list[float]] = {"ours": [], "fisher floor": [], "votes only": []}
    for seed in seeds:
        va, truth = simulate(seed, **effects)
        z, low, high, fisher = interval_and_fisher(compute_standings(va, seed=seed), va)
        hits["ours"].append(np.mean((low <= truth) & (truth <= high)))
        low_f, high_f = np.minimum(low, z - fisher), np.maximum(high, z + fisher)
        hits["fisher floor"].append(np.mean((low_f <= truth) & (truth <= high_f)))
        if not effects["prompt_sd"]:
            continue
        blind = VoteArrays(va.models, ("",), va.raters, va.a, va.b, va.score_a,
                           np.zeros(len(va), dtype=int), va.rater, va.time, va.excluded)
        _, low_v, high_v, _ = interval_and_fisher(compute_standings(blind, seed=seed), va)
        hits["votes only"].append(np.mean((low_v <= truth) & (truth <= high_v)))
    return {rule: float(np.mean(h)) for rule, h in hits.items() if h}


@pytest.mark.parametrize(("effects", "seeds"), [(MIX, range(50)), (TIES_ONLY_NOISE, range(100))],
                         ids=["prompts+random+bias+ties", "ties, no prompt effects"])
def test_intervals_cover_the_truth_as_often_as_they_claim(effects: dict, seeds: range) -> None:
    result = coverages(effects, seeds)
    print("\n" + ", ".join(f"{rule} {value:.3f}" for rule, value in result.items()))
    assert 0.935 <= result["ours"] <= 0.965
    if effects["prompt_sd"]:
        assert result["votes only"] < 0.935  # a vote bootstrap cannot see prompt effects
    else:
        assert result["fisher floor"] > 0.965  # the old floor: ties make Fisher too wide


@pytest.mark.parametrize("n_prompts", [4, 5, 8])
def test_few_prompt_boards_cover_the_truth_despite_prompt_effects(n_prompts: int) -> None:
    """2-9 prompts: resampling prompts (floored at Fisher) covers at least ~95%; resampling
    votes one by one (the rule before, floored at Fisher) covered 64-76% here."""
    with_effects = coverages(dict(MIX, n_prompts=n_prompts), range(30))
    without = coverages(dict(MIX, n_prompts=n_prompts, prompt_sd=0.0), range(30))
    print(f"\n{n_prompts} prompts: with effects {with_effects}, without {without}")
    assert with_effects["ours"] >= 0.93
    assert with_effects["votes only"] < 0.8  # prompt effects are real and large here
    assert without["ours"] >= 0.95  # over-covers without prompt effects: the price of few prompts


def test_few_prompt_width_cost_stays_bounded() -> None:
    """Without prompt effects the few-prompt interval is wider than Fisher's, but not
    absurdly: resampling 8 prompts costs little, 4 prompts about 2-3x."""
    ratios = {}
    for n_prompts in (4, 8):
        widths = []
        for seed in range(10):
            va, _ = simulate(seed, **dict(MIX, n_prompts=n_prompts, prompt_sd=0.0))
            z, low, high, fisher = interval_and_fisher(compute_standings(va, seed=seed), va)
            widths.append(np.mean(high - low) / np.mean(2 * fisher))
        ratios[n_prompts] = float(np.mean(widths))
    print(f"\nwidth / Fisher width without prompt effects: {ratios}")
    assert 1.0 <= ratios[8] < 1.5 and ratios[8] < ratios[4] < 3.5


def test_fisher_floor_only_where_resampling_cannot_see_the_spread() -> None:
    va, _ = simulate(3, **dict(MIX, n_prompts=200), n_votes=4_000)
    z, low, high, fisher = interval_and_fisher(compute_standings(va), va)
    assert np.mean(high - low < 2 * fisher - 1e-9) > 0.5  # many prompts: the floor is gone

    for n_prompts, unit in ((5, "prompt"), (1, "vote")):  # one prompt: nothing else to resample
        few = VoteArrays(va.models, tuple(f"p{k}" for k in range(n_prompts)), va.raters, va.a,
                         va.b, va.score_a, va.prompt % n_prompts, va.rater, va.time, va.excluded)
        table = compute_standings(few)
        assert table.attrs["interval_method"] == f"{unit} bootstrap"
        z, low, high, fisher = interval_and_fisher(table, few)
        assert np.all(high - low >= 2 * fisher - 1e-9)  # 1-9 prompts: never narrower than Fisher

    # A newcomer with 7 votes (5 wins, 1 tie, 1 loss) on the many-prompt board.
    opponents = np.arange(1, 8)
    newcomer = VoteArrays(
        va.models + ("newcomer",), va.prompts, va.raters,
        np.r_[va.a, np.full(7, MODELS)], np.r_[va.b, opponents],
        np.r_[va.score_a, [1, 1, 1, 1, 1, 0.5, 0]], np.r_[va.prompt, opponents],
        np.r_[va.rater, np.zeros(7, dtype=int)], np.r_[va.time, np.zeros(7)],
        np.r_[va.excluded, np.zeros(7, dtype=bool)],
    )
    table = compute_standings(newcomer)
    z, low, high, fisher = interval_and_fisher(table, newcomer)
    assert high[-1] - low[-1] >= 2 * fisher[-1] - 1e-9
    assert table.iloc[0]["name"] != "newcomer" or table.iloc[0]["rank_high"] > 1
