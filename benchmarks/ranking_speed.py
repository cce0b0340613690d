"""Speed of the ranking package on a big simulated board, against online OpenSkill.

Usage::

    python benchmarks/ranking_speed.py                 # 1M votes, 100 models, 1000 prompts
    python benchmarks/ranking_speed.py --votes 200000  # smaller board
    python benchmarks/ranking_speed.py --check         # exit 1 when a target is missed

The baseline is measured in the same run: OpenSkill PlackettLuce ``rate()`` replayed one
vote at a time over a sample of the votes, extrapolated to the whole board (OpenSkill has
no batch API). Every row prints its ratio to that baseline; targets come from the issue:
standings with intervals for 1M votes <= 2 s, fresh standings after one new vote <= 5 ms,
peak memory <= 1 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ranking import (  # noqa: E402
    RatingState,
    arena_elo,
    compute_standings,
    replay_openskill,
    simulate_votes,
    standings_history,
)


def best_of(repeat: int, func: Callable[[], object]) -> float:
    """Best wall time of ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--prompts", type=int, default=1000)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--baseline-sample", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    va, _ = simulate_votes(args.models, args.votes, n_prompts=args.prompts, prompt_sd=0.5,
                           tie_prob=0.1, seed=0)
    n = len(va)

    sample = va.subset(np.arange(min(args.baseline_sample, n)))
    per_vote = best_of(1, lambda: replay_openskill(sample, order="given")) / len(sample)
    baseline_total = per_vote * n

    rows: list[tuple[str, float, str, float | None]] = []  # name, seconds, unit note, target
    rows.append((f"baseline: openskill rate() x {n:,} (from {len(sample):,})", baseline_total,
                 f"{per_vote * 1e6:.1f} us/vote", None))
    t = best_of(args.repeat, lambda: compute_standings(va, n_bootstrap=args.bootstrap))
    rows.append((f"compute_standings, {args.bootstrap} prompt bootstraps", t, "", 2.0))
    t = best_of(args.repeat, lambda: compute_standings(va, n_bootstrap=0))
    rows.append(("compute_standings, sandwich intervals", t, "", None))
    t = best_of(1, lambda: standings_history(va))
    rows.append(("standings_history, <= 60 daily snapshots", t, "", None))
    t = best_of(args.repeat, lambda: arena_elo(va))
    rows.append(("arena_elo", t, "", None))
    t = best_of(args.repeat, lambda: RatingState.from_votes(va))
    rows.append(("RatingState.from_votes", t, "", None))

    state = RatingState.from_votes(va)
    rng = np.random.default_rng(1)
    pairs = [tuple(int(x) for x in rng.choice(args.models, 2, replace=False)) for _ in range(300)]
    refit, fresh = [], []
    for k, (i, j) in enumerate(pairs):
        start = time.perf_counter()
        state.add(i, j, float(k % 3) / 2.0)
        state.refit()
        refit.append(time.perf_counter() - start)
        start = time.perf_counter()
        state.add(j, i, 1.0)
        state.refit()
        _ = state.cov, state.var_diff(i, j)
        state.standings()
        fresh.append(time.perf_counter() - start)
    rows.append(("one new vote: RatingState.add + refit (median)", statistics.median(refit), "", None))
    rows.append(("one new vote: add + refit + cov + standings() (median)", statistics.median(fresh),
                 f"p95 {np.percentile(fresh, 95) * 1e3:.2f} ms", 0.005))
    rows.append(("  (baseline for one vote: one openskill rate())", per_vote, "", None))

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"\nranking speed: {n:,} votes, {args.models} models, {args.prompts} prompts, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}\n")
    print(f"{'operation':<58}{'time':>12}{'vs baseline':>14}  {'target':<10}{'note'}")
    print("-" * 112)
    failed = False
    for name, seconds, note, target in rows:
        one_vote = "one new vote" in name or "one openskill" in name
        ratio = seconds / (per_vote if one_vote else baseline_total)
        shown = f"{seconds * 1e3:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"
        verdict = ""
        if target is not None:
            ok = seconds <= target
            failed |= not ok
            verdict = f"<= {target * 1e3:g} ms" if target < 1 else f"<= {target:g} s"
            verdict += " ok" if ok else " MISSED"
        print(f"{name:<58}{shown:>12}{ratio:>13.4f}x  {verdict:<14}{note}")
    memory_ok = peak_mb <= 1024
    failed |= not memory_ok
    print(f"{'peak memory (max RSS of this process)':<58}{peak_mb:>9.0f} MB{'':>14}  "
          f"<= 1024 MB {'ok' if memory_ok else 'MISSED'}")
    return 1 if (args.check and failed) else 0


if __name__ == "__main__":
    sys.exit(main())
