"""Votes each matchmaking strategy needs, from simulated campaigns (issue #4).

Runs :func:`rater.simulate.campaign.run_campaigns` (the engine behind ``rater simulate``) for the
"information" strategy and the "uniform" baseline measured in the same run, and prints the
medians over the seeds with quartiles and range, the ratio uniform / information, and the
median of the per-seed paired ratios (both strategies see the same truth for a given seed).

Targets: information needs at least 2x fewer votes than uniform to reach Kendall tau 0.95
(20 models spread evenly over +-2 logits, 30 prompts), and places a new model within +-1 rank
in a median of <= 40 votes. The newcomer is measured twice: votes until it first sits within
+-1 rank of its true place (the target's wording), and votes after which it stays there until
the end of the campaign (stricter; reported, not part of the exit status).

Usage::

    python benchmarks/vote_efficiency.py                      # 20 seeds, default world
    python benchmarks/vote_efficiency.py --seeds 5 --noise thurstone --position-bias 0.2 \\
        --random-share 0.1                                     # harsher raters
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

import numpy as np

from rater.simulate.campaign import World, run_campaigns
from rater.simulate.report import format_summary, summarise

TARGET_RATIO = 2.0
TARGET_NEWCOMER_VOTES = 40


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--experiment", choices=["order", "newcomer"], action="append")
    parser.add_argument("--models", type=int, default=20)
    parser.add_argument("--prompts", type=int, default=30)
    parser.add_argument("--prompt-sd", type=float, default=0.3)
    parser.add_argument("--noise", choices=["bradley_terry", "thurstone"], default="bradley_terry")
    parser.add_argument("--position-bias", type=float, default=0.0)
    parser.add_argument("--random-share", type=float, default=0.0)
    args = parser.parse_args(argv)
    world = World(models=args.models, prompts=args.prompts, prompt_sd=args.prompt_sd,
                  noise=args.noise, position_bias=args.position_bias,
                  random_share=args.random_share)
    experiments = tuple(args.experiment or ("order", "newcomer"))
    seeds = list(range(args.seeds))
    total = len(seeds) * len(experiments) * 2
    done = [0]
    start = time.perf_counter()

    def progress(_: object) -> None:
        done[0] += 1
        print(f"\r{done[0]}/{total} campaigns, {time.perf_counter() - start:.0f} s",
              end="", file=sys.stderr, flush=True)

    results = run_campaigns(world, seeds, experiments=experiments, workers=args.workers,
                            progress=progress)
    print(file=sys.stderr)
    print(f"$ python benchmarks/vote_efficiency.py {shlex.join(argv if argv is not None else sys.argv[1:])}")
    rows = summarise(results)
    print(format_summary(rows, world))
    print()
    ok = True
    for experiment in sorted({r.experiment for r in results}):
        by_seed = {(r.strategy, r.seed): r for r in results if r.experiment == experiment}
        ratios = []
        for seed in seeds:
            info, uni = by_seed.get(("information", seed)), by_seed.get(("uniform", seed))
            if info and uni:
                iv = info.votes if info.votes is not None else info.limit
                uv = uni.votes if uni.votes is not None else uni.limit
                ratios.append(uv / max(iv, 1))
        if ratios:
            print(f"{experiment}: paired per-seed ratio uniform / information: median "
                  f"{np.median(ratios):.2f}x (q25 {np.percentile(ratios, 25):.2f}x, "
                  f"q75 {np.percentile(ratios, 75):.2f}x)")
    medians = {(r["experiment"], r["strategy"]): float(r["median"]) for r in rows}  # type: ignore[arg-type]
    if ("order", "information") in medians and ("order", "uniform") in medians:
        ratio = medians[("order", "uniform")] / medians[("order", "information")]
        ok &= ratio >= TARGET_RATIO
        print(f"order: {ratio:.2f}x fewer votes than uniform (target >= {TARGET_RATIO:g}x): "
              f"{'met' if ratio >= TARGET_RATIO else 'MISSED'}")
    for key, what in (("newcomer-first", "first within +-1 rank"),
                      ("newcomer", "within +-1 rank for good")):
        if (key, "information") in medians:
            votes = medians[(key, "information")]
            met = votes <= TARGET_NEWCOMER_VOTES
            ok &= met or key == "newcomer"  # the target is the first; "for good" is stricter
            print(f"newcomer {what} after a median of {votes:.0f} votes (target <= "
                  f"{TARGET_NEWCOMER_VOTES}): {'met' if met else 'MISSED'}")
    print(f"wall time {time.perf_counter() - start:.0f} s on {args.workers} processes")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
