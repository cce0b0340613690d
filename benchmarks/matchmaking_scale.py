"""``next_matchup`` and ``status()`` on boards of 1,000, 3,000 and 10,000 models (issue #17).

Targets at 10,000 models: ``next_matchup`` <= 50 ms and ``status()`` <= 200 ms (p99), with
memory that grows with the number of models and votes, not with its square.

Each board (3 prompts, one medium per model and prompt, 20 votes per model, 90% of them
between models at most 10 places apart in true strength, as a matchmaker comparing
neighbours makes them) is built once with synthetic rows
(:func:`matchmaking_speed.build`). Then, for each approach, a fresh process loads it and times
the first request (loads the board and fits), ``next_matchup`` (each followed by a
``record_vote``, so every request sees a new vote) and ``status()``, and reports its peak
resident memory:

* ``local``: this version (boards over ``DENSE_MODELS`` models: sparse fit, covariance by
  blocks of the order, candidates from a stretch of the order);
* ``all-pairs``: the previous approach, forced on by raising ``DENSE_MODELS``: a dense ``n x n``
  fit and covariance, and candidates scored against every target pair of the board. It needs
  seconds and gigabytes per request, so it makes only a few requests, and none at 10,000
  models (its cost grows as ``n**3``: the 3,000-model figure times 37 is printed as an
  estimate).

Usage::

    python benchmarks/matchmaking_scale.py                       # 1,000 / 3,000 / 10,000
    python benchmarks/matchmaking_scale.py --sizes 1000 --requests 50
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from matchmaking_speed import build, percentile  # noqa: E402

from rater import Client  # noqa: E402
from rater import matchmaking_model  # noqa: E402
from rater.matchmaking_state import forget_states  # noqa: E402

TARGET_SERVE_MS, TARGET_STATUS_MS = 50.0, 200.0
ALL_PAIRS_MAX_MODELS = 3000  # beyond, the all-pairs approach is estimated, not run


def measure(db: Path, approach: str, requests: int, statuses: int, seed: int = 0) -> dict[str, object]:
    """In this process: first request, ``next_matchup`` + vote, ``status()``; peak memory."""
    if approach == "all-pairs":
        matchmaking_model.DENSE_MODELS = 10**9
    rng = np.random.default_rng(seed)
    client = Client(db)
    lb = client.mri.find_leaderboards("speed")[0]
    forget_states(client.store)
    t = time.perf_counter()
    lb.status()
    cold = (time.perf_counter() - t) * 1000
    serve, status = [], []
    for k in range(max(requests, statuses)):
        rater = f"rater{int(rng.integers(300))}"
        if k < requests:
            t = time.perf_counter()
            m = lb.next_matchup(rater, continue_when_settled=True)
            serve.append((time.perf_counter() - t) * 1000)
            assert m is not None and m.left.model != m.right.model
            lb.record_vote(m.id, "left" if rng.random() < 0.5 else "right", rater)
        if k < statuses:
            t = time.perf_counter()
            lb.status()
            status.append((time.perf_counter() - t) * 1000)
    client.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"cold": cold, "serve": serve, "status": status, "peak_mb": peak_mb}


def run_child(db: Path, approach: str, requests: int, statuses: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(db), approach, str(requests), str(statuses)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--requests", type=int, default=300, help="timed next_matchup calls (local)")
    parser.add_argument("--statuses", type=int, default=100, help="timed status() calls (local)")
    parser.add_argument("--all-pairs-requests", type=int, default=3)
    parser.add_argument("--votes-per-model", type=int, default=20)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        db, approach, requests, statuses = args.child
        print(json.dumps(measure(Path(db), approach, int(requests), int(statuses))))
        return 0

    rows, ok = [], True
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            db = Path(tmp) / f"scale{n}.db"
            t = time.perf_counter()
            with Client(db) as client:
                build(client, n, 3, 1, n * args.votes_per_model // 2, 300, near=10)
            print(f"built {n:,} models in {time.perf_counter() - t:.0f} s", file=sys.stderr)
            local = run_child(db, "local", args.requests, args.statuses)
            dense = None
            if n <= ALL_PAIRS_MAX_MODELS:
                k = args.all_pairs_requests
                dense = run_child(db, "all-pairs", k, k)
            rows.append((n, local, dense))
            serve99 = percentile(local["serve"], 99)
            status99 = percentile(local["status"], 99)
            if n >= 10000:
                ok = ok and serve99 <= TARGET_SERVE_MS and status99 <= TARGET_STATUS_MS

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs, shared with other work "
          "(wall times include waiting for the CPU)")
    print(f"boards: 3 prompts, 1 medium each, {args.votes_per_model} votes per model; "
          "all-pairs = the previous dense approach, measured in the same run")
    head = (f"{'models':>7} {'approach':<10} {'operation':<13} {'calls':>5} {'p50 ms':>9} "
            f"{'p99 ms':>9} {'peak MB':>8} {'all-pairs p50 / local p50':>26}")
    print(head)
    last_dense: dict[str, float] = {}
    for n, local, dense in rows:
        for op in ("cold", "serve", "status"):
            name = {"cold": "first request", "serve": "next_matchup", "status": "status()"}[op]
            lv = local[op] if op != "cold" else [local["cold"]]
            if dense is not None:
                dv = dense[op] if op != "cold" else [dense["cold"]]
                last_dense[op] = float(np.median(dv)) / n**3
                ratio = f"{np.median(dv) / np.median(lv):,.0f}x"
            elif op in last_dense:
                ratio = f"~{last_dense[op] * n**3 / np.median(lv):,.0f}x (estimate)"
            else:
                ratio = ""
            print(f"{n:>7,} {'local':<10} {name:<13} {len(lv):>5} {percentile(lv, 50):>9.1f} "
                  f"{percentile(lv, 99):>9.1f} {local['peak_mb']:>8.0f} {ratio:>26}")
            if dense is not None:
                print(f"{n:>7,} {'all-pairs':<10} {name:<13} {len(dv):>5} {percentile(dv, 50):>9.1f} "
                      f"{percentile(dv, 99):>9.1f} {dense['peak_mb']:>8.0f}")
            elif op in last_dense:
                print(f"{n:>7,} {'all-pairs':<10} {name:<13} {'-':>5} {last_dense[op] * n**3:>9.0f} "
                      f"{'':>9} {'':>8}  not run: estimated as n**3 from the largest run")
    if any(n >= 10000 for n in args.sizes):
        print(f"10,000 models: next_matchup p99 <= {TARGET_SERVE_MS:.0f} ms and status p99 <= "
              f"{TARGET_STATUS_MS:.0f} ms: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
