"""How fast ``next_matchup`` serves a pair on a big board (issue #4: p99 <= 20 ms).

Builds (once; reused with ``--db``) a board of 100 models x 1,000 prompts x 2 media each with
1,000,000 votes stored, inserted as synthetic rows with ``executemany`` through the
``rater.store`` functions (the media files themselves are not written: serving a pair never
reads them). Then, in this process, times:

* the first ``next_matchup`` (the matchmaker loads the board into memory once per process);
* ``next_matchup`` per strategy, for random raters, each followed by a ``record_vote`` (so
  every request sees a new vote and refits), serving included: the matchup is stored with a
  durable commit, as in production;
* the baseline: what a matchmaker without incremental state would pay per request, reading
  every vote and refitting from scratch (``load_votes`` + ``RatingState.from_votes``).

Usage::

    python benchmarks/matchmaking_speed.py                    # temporary database
    python benchmarks/matchmaking_speed.py --db /tmp/big.db   # build once, reuse afterwards
    python benchmarks/matchmaking_speed.py --models 20 --prompts 100 --votes 50000 --requests 200
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
from scipy.special import expit

from ranking import RatingState
from rater import Client, Leaderboard
from rater.matchmaking.service import next_matchup
from rater.matchmaking.voting import record_vote
from rater.matchmaking.state import forget_states
from rater.results.standings import load_votes
from rater.store import catalog, matchups, votes

TARGET_P99_MS = 20.0


def build(
    client: Client, models: int, prompts: int, media_per: int, n_votes: int, raters: int,
    near: int | None = None, strength: np.ndarray | None = None,
) -> Leaderboard:
    """A board of synthetic rows: media rows point at blobs that are never written. Pairs are
    uniform over all models, or with ``near`` mostly (90%) between models at most ``near``
    places apart in true strength, as a matchmaker that compares neighbours would make them.
    True strengths (logits) are ``strength``, by default spread evenly over +-3."""
    rng = np.random.default_rng(0)
    texts = [f"prompt {q}" for q in range(prompts)]
    lb = client.mri.create_new_leaderboard("speed", "Which is better?", texts, repeat_share=0.0)
    store = client.store
    prompt_ids = [p["id"] for p in catalog.list_prompts(store.conn, lb.id)]
    media_id = np.zeros((models, prompts, media_per), dtype=np.int64)
    model_ids = np.zeros(models, dtype=np.int64)
    now = time.time()
    with store.write() as conn:
        for k in range(models):
            model_ids[k] = catalog.get_or_create_model(conn, lb.id, f"model{k:03d}", now)
            for q, pid in enumerate(prompt_ids):
                for j in range(media_per):
                    sha = hashlib.sha256(f"{lb.id}/{k}/{q}/{j}".encode()).hexdigest()
                    catalog.insert_blob(conn, sha, "image", "image/png", "png", 100)
                    media_id[k, q, j] = catalog.insert_media(conn, lb.id, int(model_ids[k]), pid, sha, "", now)
        for r in range(raters):
            votes.ensure_rater(conn, lb.id, f"rater{r}")
    strength = np.linspace(-3.0, 3.0, models) if strength is None else np.asarray(strength)
    chunk = 100_000
    for start in range(0, n_votes, chunk):
        size = min(chunk, n_votes - start)
        a = rng.integers(models, size=size)
        b = (a + rng.integers(1, models, size=size)) % models
        if near is not None:
            step = rng.integers(1, near + 1, size=size) * rng.choice([-1, 1], size=size)
            local = (rng.random(size) < 0.9) & (a + step >= 0) & (a + step < models)
            b = np.where(local, a + step, b)
        q = rng.integers(prompts, size=size)
        ja, jb = rng.integers(media_per, size=size), rng.integers(media_per, size=size)
        rater = rng.integers(raters, size=size)
        p_left = expit(strength[a] - strength[b])
        left_won = rng.random(size) < p_left
        ids = [uuid.uuid4().hex for _ in range(size)]
        t = now + start + np.arange(size, dtype=float)
        rows = zip(
            ids, [lb.id] * size, (prompt_ids[x] for x in q.tolist()),
            media_id[a, q, ja].tolist(), model_ids[a].tolist(),
            media_id[b, q, jb].tolist(), model_ids[b].tolist(),
            (f"rater{x}" for x in rater.tolist()), t.tolist(), [None] * size,
        )
        vote_rows = zip(ids, (f"rater{x}" for x in rater.tolist()),
                        np.where(left_won, "left", "right").tolist(), (t + 1).tolist())
        with store.write() as conn:
            matchups.bulk_insert_matchups(conn, rows)
            matchups.bulk_insert_votes(conn, vote_rows)
        print(f"  {start + size:,} votes stored", file=sys.stderr)
    return lb


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def time_strategy(
    lb: Leaderboard, strategy: str, requests: int, raters: int, seed: int
) -> tuple[list[float], list[float], list[float]]:
    """Milliseconds per next_matchup (wall clock and this process's CPU) and per record_vote."""
    rng = np.random.default_rng(seed)
    serve_ms, cpu_ms, vote_ms = [], [], []
    for _ in range(requests):
        rater = f"rater{int(rng.integers(raters + raters // 10))}"  # some raters are new
        c0, t0 = time.process_time(), time.perf_counter()
        m = next_matchup(lb._client.store, lb, rater, strategy, continue_when_settled=True)
        t1, c1 = time.perf_counter(), time.process_time()
        assert m is not None
        record_vote(lb._client.store, lb.id, m.id, "left" if rng.random() < 0.5 else "right", rater)
        t2 = time.perf_counter()
        serve_ms.append((t1 - t0) * 1000)
        cpu_ms.append((c1 - c0) * 1000)
        vote_ms.append((t2 - t1) * 1000)
    return serve_ms, cpu_ms, vote_ms


def naive_ms(lb: Leaderboard, repeats: int) -> list[float]:
    """Per request without incremental state: read every vote, refit from scratch."""
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        state = RatingState.from_votes(load_votes(lb._client.store, lb.id))
        _ = state.cov
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, help="database to build or reuse (default: temporary)")
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--prompts", type=int, default=1000)
    parser.add_argument("--media", type=int, default=2, help="media per model and prompt")
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--raters", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=1000, help="timed next_matchup calls per strategy")
    parser.add_argument("--naive", type=int, default=5, help="timed naive full refits")
    parser.add_argument("--build-only", action="store_true", help="build the --db and stop")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "speed.db"
        existed = path.exists()
        client = Client(path, create=True)
        boards = client.mri.find_leaderboards("speed")
        if existed and boards:
            lb = boards[0]
            print(f"reusing {path}", file=sys.stderr)
        else:
            t = time.perf_counter()
            lb = build(client, args.models, args.prompts, args.media, args.votes, args.raters)
            print(f"built {path} in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        if args.build_only:
            client.close()
            return 0
        summary = votes.vote_summary(client.store.conn, lb.id)
        n_models = len(lb.models())
        forget_states(client.store)
        t = time.perf_counter()
        first = next_matchup(lb._client.store, lb, "warm-up", "information", continue_when_settled=True)
        cold = (time.perf_counter() - t) * 1000
        assert first is not None
        rows = []
        for strategy in ("information", "uniform"):
            serve, cpu, vote = time_strategy(lb, strategy, args.requests, args.raters, seed=len(rows))
            rows.append((f"next_matchup, {strategy}", serve))
            rows.append(("  same, CPU time of this process", cpu))
            rows.append((f"record_vote (after {strategy})", vote))
        rows.append(("naive: load every vote + full refit", naive_ms(lb, args.naive)))
        client.close()

    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall times include "
          "waiting for the CPU and the disk; CPU times do not)")
    print(f"board: {n_models} models x {args.prompts} prompts x {args.media} media, "
          f"{summary['votes']:,} votes; first request (loads the board): {cold:,.0f} ms")
    base = statistics.median(rows[0][1])
    print(f"{'operation':<40} {'calls':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'p50 / information p50':>22}")
    for name, values in rows:
        print(f"{name:<40} {len(values):>6} {percentile(values, 50):>8.2f} {percentile(values, 99):>8.2f} "
              f"{max(values):>8.2f} {statistics.median(values) / base:>21.2f}x")
    p99 = percentile(rows[0][1], 99)
    verdict = "meets" if p99 <= TARGET_P99_MS else "MISSES"
    print(f"information next_matchup p99 {p99:.1f} ms {verdict} the {TARGET_P99_MS:.0f} ms target")
    return 0 if p99 <= TARGET_P99_MS else 1


if __name__ == "__main__":
    sys.exit(main())
