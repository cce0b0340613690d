"""Votes under load: many processes recording votes on one database file at the same time.

Each worker process opens its own :class:`rater.Client` and calls ``record_vote`` through the
public API as fast as it can on pairs served to it, timing every call; all workers start
together on a barrier. The pairs are served beforehand: stored in bulk by default (what
``next_matchup`` would have stored; its cost is the matchmaker's, not the vote store's), or with
``--serve api`` by each worker calling ``next_matchup`` (slower; its time is printed too). The
baseline is one process doing the same in the same run, so the ratio column says what
concurrency costs on this machine.

Usage::

    python benchmarks/vote_load.py                       # 8 x 2,000 votes, plus the baseline
    python benchmarks/vote_load.py --compare-unsynced    # also without the fsync per vote
    python benchmarks/vote_load.py --processes 4 --votes 500 --serve api
    python benchmarks/vote_load.py --db postgresql       # also on a throwaway PostgreSQL cluster
    python benchmarks/vote_load.py --db postgresql://user@host/empty_db

With ``--db`` the same scenarios run on PostgreSQL too, in the same run, after SQLite's, and a
second table compares the two (votes/s and ``record_vote`` p50 / p99, the ratio PostgreSQL /
SQLite). ``--db postgresql`` starts a throwaway durable cluster (``fsync`` on, as a production
server has it: ``tests/postgres_server.py``, Debian's server binaries) and deletes it afterwards;
a URL names a server database that must be empty (the script gives it the rater schema and
fills it: it refuses one holding anything, never writing into a user's data).

Prints one row per scenario: votes stored, errors, wall time of the voting phase, votes/s, and
``record_vote`` latency p50 / p99 / max in milliseconds, with the machine's load average (the
latencies mean little on a busy machine). ``tests/test_concurrency.py`` imports
:func:`prepare_board` and :func:`run_load`.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import random
import sqlite3
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

import rater.matchmaking.service  # noqa: F401  (imported once, before the workers fork)
from rater import Client
from rater.errors import DatabaseNotFound
from rater.store import catalog, matchups, votes
from rater.store.postgres import display_url

#: Targets from issue #7 (SQLite) and issue #15 (PostgreSQL, on the same machine).
TARGET_VOTES_PER_SECOND = 1000.0
TARGET_P99_MS = 10.0
TARGET_PG_P99_MS = 20.0
ROOT = Path(__file__).resolve().parents[1]


def _png(path: Path, seed: int) -> Path:
    img = Image.new("RGB", (4, 4), ((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256))
    img.putpixel((0, 0), (seed % 256, (seed // 256) % 256, 7))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format="PNG")
    return path


def prepare_board(db: Path | str, models: int = 16, prompts: int = 12, work: Path | None = None) -> str:
    """A board with ``models`` x ``prompts`` distinct media: ``C(models, 2) * prompts`` distinct
    pairs per rater (1,440 with the defaults, 2,880 with 16 x 24). Returns its id.

    :param work: where the media files are written first (default: ``load-media`` beside an
        SQLite file; needed for a server database)."""
    work = work or Path(db).parent / "load-media"
    texts = [f"prompt number {p}" for p in range(prompts)]
    with Client(db) as client:
        lb = client.mri.create_new_leaderboard(
            "Load test", "Which is better?", texts, False, strategy="uniform", repeat_share=0.05
        )
        for m in range(models):
            files = [_png(work / f"m{m}-p{p}.png", m * 1000 + p) for p in range(prompts)]
            lb.evaluate_model(f"model-{m:02d}", files, texts)
        return lb.id


@dataclass
class WorkerResult:
    """What one worker did: ids of acknowledged votes, latencies, errors (as text)."""

    rater: str
    acknowledged: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    exhausted: bool = False


def _worker(db: str, board_id: str, rater: str, votes: int, served: list[str], synchronous: str,
            barrier, results) -> None:
    """Serve ``votes`` pairs to ``rater`` unless ``served`` already lists them (phase 1), wait for
    every worker, then record a vote on each as fast as possible (phase 2, the one measured)."""
    result = WorkerResult(rater)
    try:
        client = Client(db)
        client.store.set_synchronous(synchronous)
        lb = client.mri.get_leaderboard_by_id(board_id)
        served = list(served)
        while len(served) < votes:
            matchup = lb.next_matchup(rater, continue_when_settled=True)
            if matchup is None:
                result.exhausted = True
                break
            served.append(matchup.id)
        barrier.wait()
        choices = ("left", "right", "tie")
        for i, matchup_id in enumerate(served):
            try:
                started = time.perf_counter()
                receipt = lb.record_vote(matchup_id, choices[i % 3], rater)
                result.latencies.append(time.perf_counter() - started)
                if receipt.counted:
                    result.acknowledged.append(matchup_id)
            except Exception as exc:  # counted and reported, never hidden
                result.errors.append(f"{type(exc).__name__}: {exc}")
        client.close()
    except Exception:
        result.errors.append(traceback.format_exc(limit=3))
    results.put(result)


@dataclass
class LoadResult:
    """One scenario's totals."""

    processes: int
    serving_seconds: float
    votes: int
    seconds: float
    latencies: list[float]
    errors: list[str]
    acknowledged: list[str]
    exhausted: int

    @property
    def votes_per_second(self) -> float:
        return self.votes / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def serve_in_bulk(db: Path | str, board_id: str, raters: list[str], per_rater: int, seed: int = 0) -> dict[str, list[str]]:
    """Store ``per_rater`` served matchups for each rater at once, as the matchmaker would have
    (random pairs of two models' media for one prompt, distinct when there are enough). Serving through
    ``next_matchup`` costs the matchmaker's time, which is not what this benchmark measures."""
    rng = random.Random(seed)
    with Client(db) as client:
        by_prompt: dict[int, list[dict]] = {}
        for media in catalog.list_media(client.store.conn, board_id):
            by_prompt.setdefault(media["prompt_id"], []).append(media)
        pairs = [(a, b) for group in by_prompt.values() for i, a in enumerate(group)
                 for b in group[i + 1:] if a["model_id"] != b["model_id"]]
        served: dict[str, list[str]] = {}
        rows = []
        for rater in raters:
            served[rater] = []
            # Distinct pairs when the board has enough (a rater may see a pair twice otherwise).
            chosen = rng.sample(pairs, per_rater) if per_rater <= len(pairs) else rng.choices(pairs, k=per_rater)
            for a, b in chosen:
                left, right = (a, b) if rng.random() < 0.5 else (b, a)
                matchup_id = uuid.uuid4().hex
                served[rater].append(matchup_id)
                rows.append((matchup_id, board_id, a["prompt_id"], left["id"], left["model_id"],
                             right["id"], right["model_id"], rater, time.time(), None))
        with client.store.write() as conn:
            for rater in raters:
                votes.ensure_rater(conn, board_id, rater)
            matchups.bulk_insert_matchups(conn, rows)
    return served


def run_load(db: Path | str, board_id: str, processes: int, votes: int, prefix: str = "rater",
             *, serve: str = "bulk", synchronous: str = "FULL") -> LoadResult:
    """``processes`` workers each record ``votes`` votes at the same time; wait for all.

    :param serve: ``"bulk"`` stores the pairs beforehand (:func:`serve_in_bulk`); ``"api"`` has
        each worker serve its pairs with ``next_matchup`` before the votes start.
    :param synchronous: the workers' ``PRAGMA synchronous`` (see
        :meth:`rater.store.store.Store.set_synchronous`); the store's is ``FULL`` (durable).
    """
    raters = [f"{prefix}-{i}" for i in range(processes)]
    served = serve_in_bulk(db, board_id, raters, votes) if serve == "bulk" else {r: [] for r in raters}
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    barrier = ctx.Barrier(processes + 1)
    results = ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(str(db), board_id, r, votes, served[r], synchronous, barrier,
                                                results))
        for r in raters
    ]
    started = time.perf_counter()
    for w in workers:
        w.start()
    barrier.wait(timeout=600)
    serving = time.perf_counter() - started
    started = time.perf_counter()
    collected = [results.get(timeout=600) for _ in workers]
    seconds = time.perf_counter() - started
    for w in workers:
        w.join(timeout=60)
    return LoadResult(
        processes=processes,
        serving_seconds=serving,
        votes=sum(len(r.acknowledged) for r in collected),
        seconds=seconds,
        latencies=[x for r in collected for x in r.latencies],
        errors=[e for r in collected for e in r.errors],
        acknowledged=[m for r in collected for m in r.acknowledged],
        exhausted=sum(r.exhausted for r in collected),
    )


def _row(name: str, r: LoadResult, baseline: LoadResult | None) -> str:
    ratio = f"{r.votes_per_second / baseline.votes_per_second:5.2f}x" if baseline and baseline.votes else "  1.00x"
    return (f"{name:<24} {r.votes:>7,} {len(r.errors):>6} {r.seconds:>8.2f} {r.votes_per_second:>9,.0f}"
            f" {ratio:>7} {r.percentile_ms(0.5):>7.2f} {r.percentile_ms(0.99):>7.2f}"
            f" {1000 * max(r.latencies, default=0):>8.2f}")


def _scenarios(db: Path | str, args: argparse.Namespace, work: Path, label: str = "") -> list[tuple[str, LoadResult]]:
    """The baseline, the ``--processes`` run and (``--compare-unsynced``) the unsynced ones on ``db``."""
    board = prepare_board(db, models=16, prompts=max(12, args.votes // 100), work=work)
    baseline = run_load(db, board, 1, args.votes, prefix="solo", serve=args.serve)
    rows = [(f"{label}1 process (baseline)", baseline)]
    loaded = run_load(db, board, args.processes, args.votes, prefix="crowd", serve=args.serve)
    rows.append((f"{label}{args.processes} processes", loaded))
    if args.compare_unsynced:
        for level in ("NORMAL", "OFF"):
            unsynced = run_load(db, board, args.processes, args.votes, prefix=level.lower(),
                                serve=args.serve, synchronous=level)
            rows.append((f"{label}{args.processes} proc., {level}*", unsynced))
    return rows


@contextlib.contextmanager
def _postgres_database(db: str, tmp: Path) -> Iterator[tuple[str, str]]:
    """``(url, server version)`` of an empty server database given the rater schema: a throwaway
    durable cluster's for ``--db postgresql``, else ``db``'s, refused unless it is empty."""
    os.environ.setdefault("RATER_MEDIA_CACHE", str(tmp / "pg-media-cache"))  # not the user's cache
    with contextlib.ExitStack() as stack:
        if db.lower() in ("postgresql", "postgres"):
            sys.path.insert(0, str(ROOT / "tests"))
            from postgres_server import PostgresServer, why_unavailable

            reason = why_unavailable()
            if reason:
                raise SystemExit(f"--db postgresql: cannot start a throwaway cluster: {reason}")
            db = stack.enter_context(PostgresServer(durable=True)).create_database("vote_load")
        try:
            with Client(db) as client:
                client.store.require()  # an empty server database: DatabaseNotFound
        except DatabaseNotFound as exc:
            if "is empty" not in str(exc):
                raise SystemExit(f"--db: {exc}") from None
        else:
            raise SystemExit(f"--db: {display_url(db)} already holds a rater database: the benchmark "
                             "needs an empty one (createdb an empty database, or use --db postgresql)")
        with Client(db, create=True) as client:
            version = client.store.conn.execute("SHOW server_version").fetchone()[0]
        yield db, version


def _comparison(sqlite: LoadResult, pg: LoadResult) -> list[str]:
    """The ``--processes`` runs side by side: PostgreSQL / SQLite for each figure."""
    lines = [f"{'PostgreSQL vs SQLite':<24} {'SQLite':>10} {'PostgreSQL':>11} {'PG/SQLite':>10}"]
    for name, a, b, unit in (("votes/s", sqlite.votes_per_second, pg.votes_per_second, ",.0f"),
                             ("record_vote p50 ms", sqlite.percentile_ms(0.5), pg.percentile_ms(0.5), ".2f"),
                             ("record_vote p99 ms", sqlite.percentile_ms(0.99), pg.percentile_ms(0.99), ".2f")):
        ratio = f"{b / a:.2f}x" if a else "-"
        lines.append(f"{name:<24} {a:>10{unit}} {b:>11{unit}} {ratio:>10}")
    return lines


def _met(r: LoadResult, expected: int, p99_ms: float) -> bool:
    return (not r.errors and r.votes == expected and r.votes_per_second >= TARGET_VOTES_PER_SECOND
            and r.percentile_ms(0.99) <= p99_ms)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--votes", type=int, default=2000, help="votes per process")
    parser.add_argument("--serve", choices=["bulk", "api"], default="bulk",
                        help="store the pairs beforehand (bulk) or serve them with next_matchup (api)")
    parser.add_argument("--compare-unsynced", action="store_true",
                        help="also run with synchronous=NORMAL and OFF (not power-loss durable) to "
                             "show what the fsync per vote costs")
    parser.add_argument("--db", metavar="URL",
                        help="also run on PostgreSQL: 'postgresql' starts a throwaway durable cluster; "
                             "a postgresql:// URL names an EMPTY server database to use")
    args = parser.parse_args(argv)
    pg_rows: list[tuple[str, LoadResult]] = []
    with tempfile.TemporaryDirectory(prefix="vote-load-") as tmp, contextlib.ExitStack() as stack:
        if args.db:  # refused (not empty, unreachable) before anything runs
            url, pg_version = stack.enter_context(_postgres_database(args.db, Path(tmp)))
        db = Path(tmp) / "load.db"
        rows = _scenarios(db, args, db.parent / "load-media")
        if args.db:
            pg_rows = _scenarios(url, args, Path(tmp) / "pg-media", "PG ")
    (_, baseline), (_, loaded) = rows[:2]
    print(f"vote load on {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} at the end),"
          f" Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}; targets: >= "
          f"{TARGET_VOTES_PER_SECOND:,.0f} votes/s, p99 <= {TARGET_P99_MS:g} ms")
    if pg_rows:
        print(f"PostgreSQL {pg_version} (psycopg {psycopg_version()}, synchronous_commit on, fsync on);"
              f" targets: >= {TARGET_VOTES_PER_SECOND:,.0f} votes/s, p99 <= {TARGET_PG_P99_MS:g} ms")
    if args.serve == "api":
        print(f"serving the pairs with next_matchup took {baseline.serving_seconds:.1f} s (1 process)"
              f" and {loaded.serving_seconds:.1f} s ({args.processes} processes); votes are timed "
              "after that")
    print(f"{'scenario':<24} {'votes':>7} {'errors':>6} {'seconds':>8} {'votes/s':>9} {'ratio':>7}"
          f" {'p50 ms':>7} {'p99 ms':>7} {'max ms':>8}")
    for group in (rows, pg_rows):
        for name, result in group:
            print(_row(name, result, None if result is group[0][1] else group[0][1]))
    if args.compare_unsynced:
        print("* not durable (the store uses FULL): NORMAL skips the fsync per commit and may lose the"
              " last votes on power loss; OFF syncs nothing. What is left of p99 without any fsync"
              " is the processes waiting for a core")
    if pg_rows:
        print("\n".join(_comparison(loaded, pg_rows[1][1])))
    for error in sorted({e for _, r in rows + pg_rows for e in r.errors})[:10]:
        print("error:", error)
    expected = args.processes * args.votes
    ok = _met(loaded, expected, TARGET_P99_MS)
    print("targets met" if ok else "targets NOT met")
    if pg_rows:
        pg_ok = _met(pg_rows[1][1], expected, TARGET_PG_P99_MS)
        print("PostgreSQL targets met" if pg_ok else "PostgreSQL targets NOT met")
        ok = ok and pg_ok
    return 0 if ok else 1


def psycopg_version() -> str:
    import psycopg

    return f"{psycopg.__version__}, {psycopg.pq.__impl__}"


if __name__ == "__main__":
    sys.exit(main())
