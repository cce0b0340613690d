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
* **all honest**: the same worlds with every rater honest; Kendall tau of both at fixed vote
  counts (mean over seeds, and in how many seeds weighted is below unweighted). Target:
  weighted never worse.

Usage::

    python benchmarks/weighted_scoring.py                 # 20 seeds, default crowd
    python benchmarks/weighted_scoring.py --seeds 5 --raters 200 --left-bias 3
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

import numpy as np
from scipy.stats import kendalltau

from ranking import VoteArrays, compute_standings, compute_weighted_standings
from ranking.simulate import simulate_crowd

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


def votes_to_tau(va: VoteArrays, theta: np.ndarray, step: int) -> tuple[int | None, int | None, float]:
    """First checkpoint (every ``step`` votes) where each method reaches the target tau."""
    found: list[int | None] = [None, None]
    seconds = 0.0
    for n in range(step, len(va) + 1, step):
        sub = va.subset(np.arange(n))
        if found[0] is None and _tau(compute_standings(sub, n_bootstrap=0), sub, theta) >= TARGET_TAU:
            found[0] = n
        if found[1] is None:
            start = time.perf_counter()
            frame = compute_weighted_standings(sub)
            seconds = max(seconds, time.perf_counter() - start)
            if _tau(frame, sub, theta) >= TARGET_TAU:
                found[1] = n
        if None not in found:
            break
    return found[0], found[1], seconds


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
    args = parser.parse_args(argv)
    print(f"$ python benchmarks/weighted_scoring.py {shlex.join(argv if argv is not None else sys.argv[1:])}")
    crowd = dict(n_raters=args.raters, left_bias=args.left_bias)
    start = time.perf_counter()

    plain_votes, weighted_votes, ratios, fit_seconds = [], [], [], []
    for seed in range(args.seeds):
        va, theta, _ = simulate_crowd(args.models, args.max_votes, random_share=args.random_share,
                                      left_share=args.left_share, seed=seed, **crowd)
        plain, weighted, seconds = votes_to_tau(va, theta, args.step)
        fit_seconds.append(seconds)
        plain_votes.append(plain or args.max_votes)
        weighted_votes.append(weighted or args.max_votes)
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
