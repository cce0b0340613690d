"""Weighted scoring against unweighted standings on simulated crowds (issue #14).

A crowd of raters (:func:`ranking.simulate.simulate_crowd`): 15% click at random, 10% prefer
the left side (their judgement shifted by ``--left-bias`` log-odds), the rest are honest with
normal noise; 20 models spread evenly over +-2 log-odds, 30 prompts with prompt effects, votes
on uniformly drawn pairs. For each seed the same vote stream is read by
:func:`ranking.compute_standings` (the baseline, ``n_bootstrap=0``: the order does not depend on
the interval method) and :func:`ranking.compute_weighted_standings`, checked every ``--step``
votes.

Two experiments, each on the same votes for both methods:

* **votes to tau**: votes until the standings first reach Kendall tau >= 0.95 against the
  true order (median over seeds, quartiles, and the median of the per-seed paired ratios
  unweighted / weighted). Target: weighted needs fewer.
  For scale, an *oracle* row: the unweighted standings of the honest raters' votes alone
  (the bad raters' votes still count towards the votes cast): the most any weighting can gain.
* **all honest**: the same worlds with every rater honest; Kendall tau of both at fixed vote
  counts (mean over seeds, and in how many seeds weighted is below unweighted). Target:
  weighted never worse.
* **coverage**: share of 95% intervals (sandwich, the default) holding the true strength, on
  ``--boards`` boards of 4,000 votes with 15% random clickers (no left-biased raters, so the
  truth is plain: the logistic projection of the honest raters' judgements for weighted, of
  all votes' expected scores for unweighted, :func:`ranking.simulate.population_strengths`).

Usage::

    python benchmarks/weighted_scoring.py                 # 20 seeds, default crowd
    python benchmarks/weighted_scoring.py --seeds 5 --raters 200 --left-bias 3 --boards 0
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

import numpy as np
from scipy.stats import kendalltau

from ranking import VoteArrays, compute_standings, compute_weighted_standings
from ranking.simulate import population_strengths, simulate_crowd

TARGET_TAU = 0.95
HONEST_BUDGETS = (250, 500, 1000, 2000, 4000)


def _tau(frame: object, va: VoteArrays, theta: np.ndarray) -> float:
    score = frame.set_index("name")["score"]  # type: ignore[attr-defined]
    return float(kendalltau([score.get(m, -np.inf) for m in va.models], theta)[0])


def _both(va: VoteArrays, theta: np.ndarray) -> tuple[float, float, float]:
    """Tau of the unweighted and weighted standings, and the weighted fit's seconds."""
    plain = _tau(compute_standings(va, n_bootstrap=0), va, theta)
    start = time.perf_counter()
    weighted = compute_weighted_standings(va)
    return plain, _tau(weighted, va, theta), time.perf_counter() - start


def votes_to_tau(va: VoteArrays, theta: np.ndarray, honest: np.ndarray,
                 step: int) -> tuple[list[int | None], float]:
    """First checkpoint (every ``step`` votes) where each of unweighted, weighted and the
    oracle (unweighted on the ``honest`` votes among them) reaches the target tau."""
    found: list[int | None] = [None, None, None]
    seconds = 0.0
    for n in range(step, len(va) + 1, step):
        rows = np.arange(n)
        if found[0] is None and _tau(compute_standings(va.subset(rows), n_bootstrap=0), va, theta) >= TARGET_TAU:
            found[0] = n
        if found[1] is None:
            start = time.perf_counter()
            frame = compute_weighted_standings(va.subset(rows))
            seconds = max(seconds, time.perf_counter() - start)
            if _tau(frame, va, theta) >= TARGET_TAU:
                found[1] = n
        oracle = va.subset(rows[honest[:n]])
        if found[2] is None and _tau(compute_standings(oracle, n_bootstrap=0), va, theta) >= TARGET_TAU:
            found[2] = n
        if None not in found:
            break
    return found, seconds


def coverage(boards: int, n_models: int, n_raters: int) -> tuple[float, float, float, float]:
    """Coverage and mean width of the weighted and unweighted 95% intervals, the width in
    units of the true scores' standard deviation (the weighted scores spread wider)."""
    hits, widths = [[], []], [[], []]
    for seed in range(boards):
        va, theta, kind = simulate_crowd(n_models, 4000, n_raters=n_raters, random_share=0.15,
                                         left_share=0.0, seed=5000 + seed)
        share = float(np.mean(kind[va.rater] == 1))
        honest_truth = population_strengths(theta, prompt_sd=0.3, judge_link="probit", judge_scale=1.702)
        plain_truth = population_strengths(theta, prompt_sd=0.3, judge_link="probit", judge_scale=1.702,
                                           random_share=share)
        for k, (frame, truth) in enumerate(((compute_weighted_standings(va), honest_truth),
                                            (compute_standings(va, n_bootstrap=0), plain_truth))):
            table = frame.set_index("name").loc[list(va.models)]
            true_score = 1000.0 + frame.attrs["score_per_unit"] * truth
            hits[k] += list((table["ci_low"] <= true_score) & (true_score <= table["ci_high"]))
            widths[k] += list((table["ci_high"] - table["ci_low"]) / true_score.std())
    return float(np.mean(hits[0])), float(np.mean(widths[0])), float(np.mean(hits[1])), float(np.mean(widths[1]))


def _quartiles(values: list[float]) -> str:
    q = np.percentile(values, [25, 50, 75])
    return f"{q[1]:,.0f} (IQR {q[0]:,.0f}-{q[2]:,.0f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--raters", type=int, default=60)
    parser.add_argument("--random-share", type=float, default=0.15)
    parser.add_argument("--left-share", type=float, default=0.10)
    parser.add_argument("--left-bias", type=float, default=1.5)
    parser.add_argument("--max-votes", type=int, default=12_000)
    parser.add_argument("--step", type=int, default=100)
    parser.add_argument("--speed-votes", type=int, default=100_000)
    parser.add_argument("--boards", type=int, default=100)
    args = parser.parse_args(argv)
    print(f"$ python benchmarks/weighted_scoring.py {shlex.join(argv if argv is not None else sys.argv[1:])}")
    crowd = dict(n_raters=args.raters, left_bias=args.left_bias)
    start = time.perf_counter()

    plain_votes, weighted_votes, oracle_votes, ratios, fit_seconds = [], [], [], [], []
    for seed in range(args.seeds):
        va, theta, kind = simulate_crowd(args.models, args.max_votes, random_share=args.random_share,
                                         left_share=args.left_share, seed=seed, **crowd)
        (plain, weighted, oracle), seconds = votes_to_tau(va, theta, kind[va.rater] == 0, args.step)
        fit_seconds.append(seconds)
        plain_votes.append(plain or args.max_votes)
        weighted_votes.append(weighted or args.max_votes)
        oracle_votes.append(oracle or args.max_votes)
        ratios.append((plain or args.max_votes) / (weighted or args.max_votes))
        print(f"\rseed {seed + 1}/{args.seeds}: {time.perf_counter() - start:.0f} s", end="", file=sys.stderr)
    print(file=sys.stderr)

    honest: dict[int, list[tuple[float, float]]] = {n: [] for n in HONEST_BUDGETS}
    for seed in range(args.seeds):
        va, theta, _ = simulate_crowd(args.models, max(HONEST_BUDGETS), random_share=0.0,
                                      left_share=0.0, seed=1000 + seed, **crowd)
        for n in HONEST_BUDGETS:
            plain, weighted, _ = _both(va.subset(np.arange(n)), theta)
            honest[n].append((plain, weighted))

    cover = coverage(args.boards, args.models, args.raters) if args.boards else None
    speed, _, _ = simulate_crowd(args.models, args.speed_votes, random_share=args.random_share,
                                 left_share=args.left_share, seed=0, **crowd)
    t0 = time.perf_counter()
    compute_standings(speed, n_bootstrap=0)
    t1 = time.perf_counter()
    compute_weighted_standings(speed)
    t2 = time.perf_counter()

    world = (f"{args.models} models over +-2 log-odds, {args.raters} raters: {args.random_share:.0%} "
             f"random, {args.left_share:.0%} left-biased ({args.left_bias:g} log-odds), 30 prompts; "
             f"{args.seeds} seeds, checked every {args.step} votes")
    print(world)
    print()
    print(f"| experiment | weighted | unweighted (same votes) | ratio |")
    print("|---|---|---|---|")
    unreached = sum(v >= args.max_votes for v in weighted_votes + plain_votes)
    print(f"| votes to tau >= {TARGET_TAU} | {_quartiles(weighted_votes)} | {_quartiles(plain_votes)} | "
          f"{np.median(plain_votes) / np.median(weighted_votes):.2f}x fewer (paired median "
          f"{np.median(ratios):.2f}x, weighted fewer in {sum(r > 1 for r in ratios)}, equal in "
          f"{sum(r == 1 for r in ratios)} of {len(ratios)} seeds) |")
    print(f"| oracle: honest raters' votes only, votes to tau >= {TARGET_TAU} | {_quartiles(oracle_votes)} | "
          f"| {np.median(plain_votes) / np.median(oracle_votes):.2f}x fewer than unweighted |")
    if unreached:
        print(f"| (runs not reaching the target by {args.max_votes:,} votes, counted as that) | {unreached} | | |")
    worst = 0.0
    for n in HONEST_BUDGETS:
        plain = np.array([p for p, _ in honest[n]])
        weighted = np.array([w for _, w in honest[n]])
        worse = int(np.sum(weighted < plain - 1e-12))
        worst = min(worst, float((weighted - plain).min()))
        print(f"| all honest, tau at {n:,} votes | {weighted.mean():.4f} | {plain.mean():.4f} | "
              f"difference {weighted.mean() - plain.mean():+.4f}; weighted lower in {worse} of "
              f"{len(plain)} seeds (worst {float((weighted - plain).min()):+.4f}) |")
    if cover:
        print(f"| coverage of 95% intervals, {args.boards} boards x 4,000 votes, 15% random | "
              f"{cover[0]:.1%}, width {cover[1]:.3f} sd | {cover[2]:.1%}, width {cover[3]:.3f} sd | "
              f"widths {cover[1] / cover[3]:.2f}x (in sd of the true scores) |")
    print(f"| fit time, {args.speed_votes:,} votes | {t2 - t1:.2f} s | {t1 - t0:.2f} s | "
          f"{(t2 - t1) / max(t1 - t0, 1e-9):.0f}x slower |")
    print(f"| slowest weighted fit during the tau runs | {max(fit_seconds):.2f} s | | |")
    print()
    fewer = np.median(weighted_votes) < np.median(plain_votes)
    print(f"weighted needs fewer votes: {'met' if fewer else 'MISSED'}; never worse when all honest: "
          f"{'met' if worst >= 0 else f'MISSED (worst seed {worst:+.4f})'}")
    print(f"wall time {time.perf_counter() - start:.0f} s")
    return 0 if fewer and worst >= 0 else 1


if __name__ == "__main__":
    sys.exit(main())
