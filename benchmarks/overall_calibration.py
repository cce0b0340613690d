"""Calibration of the overall (multi-criteria) standings' 95% intervals: coverage and width.

Usage::

    python benchmarks/overall_calibration.py              # 200 benchmarks per setting
    python benchmarks/overall_calibration.py --seeds 40   # quicker, noisier
    python benchmarks/overall_calibration.py --check      # exit 1 when ours leaves 93-97%

Simulated benchmarks (:func:`ranking.simulate.simulate_criteria`: 20 models, 10,000 votes per
criterion, 100 shared prompts; true strengths correlated 0.5 across criteria; a model's
per-prompt deviation shared by every criterion). Truth: the weighted mean of each criterion's
:func:`ranking.simulate.population_strengths` (what a fit estimates with endless votes and
prompts). Two interval rules, from the same votes:

* **joint**: :func:`ranking.compute_overall_standings` as shipped (one Poisson weight per prompt
  per replicate in every criterion);
* **independent**: each criterion's own :func:`ranking.compute_standings` interval (its own
  prompt bootstrap, same small-sample correction), combined as if the criteria were
  independent: ``half = sqrt(sum_c w_c^2 half_c^2)``. This is what combining the published
  leaderboards' intervals gives, and the peer each ratio is against.

Coverage: share of models whose interval holds the true overall strength; rank coverage: share
whose ``[rank_low, rank_high]`` holds the true overall rank. Widths are means over models, in
display points.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ranking import compute_overall_standings, compute_standings  # noqa: E402
from ranking.simulate import population_strengths, simulate_criteria  # noqa: E402
from ranking.uncertainty import rank_ranges  # noqa: E402

#: name -> (criteria, weights, simulate_criteria options)
SETTINGS = {
    "2 criteria, prompt effects": (2, None, dict(prompt_sd=0.5)),
    "2 criteria, no prompt effects": (2, None, dict(prompt_sd=0.0)),
    "3 criteria, prompt effects": (3, None, dict(prompt_sd=0.5)),
    "3 criteria, weights 3:2:1": (3, (3.0, 2.0, 1.0), dict(prompt_sd=0.5)),
    "2 criteria, effects half shared": (2, None, dict(prompt_sd=0.5, prompt_shared=0.5)),
    "2 criteria, 20 prompts, ties 20%": (2, None, dict(prompt_sd=0.5, n_prompts=20, tie_prob=0.2)),
}
RULES = ("joint", "independent")


def rules(votes: dict, weights: dict, n_bootstrap: int, seed: int) -> dict[str, tuple[np.ndarray, ...]]:
    """``(score, low, high)`` per rule, in display points, models in name order."""
    overall = compute_overall_standings(votes, weights=weights, n_bootstrap=n_bootstrap,
                                        seed=seed).set_index("name").sort_index()
    joint = tuple(overall[c].to_numpy() for c in ("score", "ci_low", "ci_high"))
    half_sq = 0.0
    for k, (c, va) in enumerate(votes.items()):
        alone = compute_standings(va, n_bootstrap=n_bootstrap, seed=seed + 1 + k).set_index("name")
        alone = alone.loc[overall.index]
        half_sq = half_sq + (weights[c] / sum(weights.values())) ** 2 * (
            (alone["ci_high"] - alone["ci_low"]).to_numpy() / 2) ** 2
    half = np.sqrt(half_sq)
    return {"joint": joint, "independent": (joint[0], joint[0] - half, joint[0] + half)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=200, help="simulated benchmarks per setting")
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--votes", type=int, default=10_000, help="votes per criterion")
    parser.add_argument("--prompts", type=int, default=100)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--check", action="store_true", help="exit 1 when joint coverage leaves 93-97%%")
    args = parser.parse_args()
    print(f"{'setting':34s} {'rule':12s} {'coverage':>8s} {'width':>7s} {'ratio':>6s} "
          f"{'rank cov':>8s} {'rank width':>10s}")
    missed = []
    for name, (n_criteria, weight_values, options) in SETTINGS.items():
        options = {"n_prompts": args.prompts, **options}
        stats: dict[str, list] = {rule: [] for rule in RULES}
        for seed in range(args.seeds):
            votes, thetas = simulate_criteria(args.models, args.votes, n_criteria=n_criteria,
                                              seed=seed, **options)
            weights = dict(zip(votes, weight_values or (1.0,) * n_criteria))
            per_unit = compute_standings(next(iter(votes.values())), n_bootstrap=0).attrs["score_per_unit"]
            truth = sum(weights[c] * population_strengths(
                thetas[c], prompt_sd=options.get("prompt_sd", 0.0), tie_prob=options.get("tie_prob", 0.0))
                for c in votes) / sum(weights.values())
            truth = 1000.0 + per_unit * truth  # models are named in index order, as sorted
            true_rank = np.argsort(np.argsort(-truth)) + 1
            for rule, (score, low, high) in rules(votes, weights, args.bootstrap, seed).items():
                _, rank_low, rank_high = rank_ranges(score, low, high)
                stats[rule].append([
                    np.mean((low <= truth) & (truth <= high)), np.mean(high - low),
                    np.mean((rank_low <= true_rank) & (true_rank <= rank_high)),
                    np.mean(rank_high - rank_low),
                ])
        means = {rule: np.mean(rows, axis=0) for rule, rows in stats.items()}
        for rule, (cov, width, rank_cov, rank_width) in means.items():
            print(f"{name:34s} {rule:12s} {cov:8.3f} {width:7.1f} "
                  f"{width / means['independent'][1]:6.2f} {rank_cov:8.3f} {rank_width:10.2f}")
        if not 0.93 <= means["joint"][0] <= 0.97:
            missed.append(name)
    if missed:
        print(f"\njoint coverage outside 93-97%: {', '.join(missed)}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
