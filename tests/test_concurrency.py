"""Many writers on one database: no vote lost, no "database is locked" reaching a caller.

The load test is the issue's: 8 processes each record 2,000 votes through ``record_vote`` at the
same time on one file (pairs served beforehand in bulk, see ``benchmarks/vote_load.py``, which
also prints the throughput and latency figures; they are not asserted here because a shared CI
machine makes them noise). Smaller tests check the full serve-then-vote loop and a writer that
holds the lock for a while. Every test runs on SQLite and on PostgreSQL (real server, real
processes): every acknowledged vote is stored once and no rater was served the same pair twice.
"""

from __future__ import annotations

import importlib.util
import multiprocessing as mp
import sys
import time
from pathlib import Path

import pytest

from rater import Client
from rater.store import integrity

ROOT = Path(__file__).resolve().parents[1]


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("vote_load", ROOT / "benchmarks" / "vote_load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["vote_load"] = module
    spec.loader.exec_module(module)
    return module


vote_load = _load_benchmark()
pytestmark = [pytest.mark.skipif("fork" not in mp.get_all_start_methods(), reason="needs fork"),
              pytest.mark.both_backends]


def _board(db: str, tmp_path: Path, models: int, prompts: int) -> str:
    Client(db, create=True).close()
    return vote_load.prepare_board(db, models=models, prompts=prompts, work=tmp_path / "load-media")


def _check(db: str, expected: list[str]) -> None:
    """Every acknowledged vote is stored, each matchup has at most one vote, the database is sound."""
    with Client(db) as client:
        conn = client.store.conn
        assert integrity.check_integrity(conn) == []
        stored = integrity.voted_matchup_ids(conn)
        votes, matchups_voted = conn.execute("SELECT count(*), count(DISTINCT matchup_id) FROM votes").fetchone()
    missing = set(expected) - stored
    assert not missing, f"{len(missing)} acknowledged votes are not stored"
    assert votes == matchups_voted, "a matchup has two votes"


def _pairs_served_twice(db: str) -> int:
    """How many media pairs the matchmaker served twice to one rater (either way round)."""
    with Client(db) as client:
        return client.store.conn.execute(
            "SELECT count(*) FROM (SELECT rater, leaderboard_id, "
            "CASE WHEN left_media < right_media THEN left_media ELSE right_media END AS lo, "
            "CASE WHEN left_media < right_media THEN right_media ELSE left_media END AS hi "
            "FROM matchups GROUP BY rater, leaderboard_id, lo, hi HAVING count(*) > 1) AS t").fetchone()[0]


@pytest.mark.slow
def test_8_processes_record_2000_votes_each(db_location: str, tmp_path: Path) -> None:
    db = db_location
    board = _board(db, tmp_path, models=16, prompts=12)
    result = vote_load.run_load(db, board, processes=8, votes=2000)
    assert result.errors == []
    assert result.votes == 16_000 and len(set(result.acknowledged)) == 16_000
    assert len(result.latencies) == 16_000
    _check(db, result.acknowledged)
    print(f"8 x 2,000 votes: {result.votes_per_second:,.0f} votes/s, p99 "
          f"{result.percentile_ms(0.99):.1f} ms, {result.seconds:.1f} s", file=sys.stderr)


def test_serving_and_voting_concurrently_through_the_api(db_location: str, tmp_path: Path) -> None:
    db = db_location
    board = _board(db, tmp_path, models=6, prompts=4)  # 60 pairs per rater
    result = vote_load.run_load(db, board, processes=4, votes=40, serve="api")
    assert result.errors == [] and result.exhausted == 0
    assert result.votes == 160
    _check(db, result.acknowledged)
    assert _pairs_served_twice(db) == 0


def _hold_the_write_lock(db: str, seconds: float, holding) -> None:
    client = Client(db)
    with client.store.write():
        holding.set()
        time.sleep(seconds)
    client.close()


def test_a_long_write_makes_others_wait_not_fail(db_location: str, backend: str, tmp_path: Path) -> None:
    """Writers that need the write lock queue behind a long one and then succeed. On SQLite a
    vote is such a write; on PostgreSQL a plain vote is one INSERT that goes without the lock
    (the schema alone keeps it correct), so there serving a pair is what waits."""
    db = db_location
    board = _board(db, tmp_path, models=3, prompts=2)
    served = vote_load.serve_in_bulk(db, board, ["ann"], 5)["ann"]
    ctx = mp.get_context("fork")
    holding = ctx.Event()
    holder = ctx.Process(target=_hold_the_write_lock, args=(db, 3.0, holding))
    holder.start()
    assert holding.wait(30)
    started = time.monotonic()
    with Client(db) as client:
        lb = client.mri.get_leaderboard_by_id(board)
        receipts = [lb.record_vote(m, "left", "ann") for m in served]
        voted_after = time.monotonic() - started  # the lock is held for 3 s from `started` at most
        pair = lb.next_matchup("bob", continue_when_settled=True)
        waited = time.monotonic() - started
    holder.join(30)
    assert all(r.counted for r in receipts) and pair is not None
    assert (voted_after < 2.0) == (backend == "postgresql"), f"the votes took {voted_after:.2f} s"
    assert 0.5 < waited < 30, f"waited {waited:.2f} s: the served pair should have queued"
    _check(db, served)


def test_giving_up_the_queue_after_the_timeout_leaves_it_working(db_location: str, tmp_path: Path,
                                                                   monkeypatch) -> None:
    from rater import DatabaseError
    from rater.store import db as store_db
    from rater.store import postgres

    db = db_location
    board = _board(db, tmp_path, models=3, prompts=2)
    served = vote_load.serve_in_bulk(db, board, ["ann"], 3)["ann"]
    ctx = mp.get_context("fork")
    holding = ctx.Event()
    holder = ctx.Process(target=_hold_the_write_lock, args=(db, 1.5, holding))
    holder.start()
    assert holding.wait(30)
    monkeypatch.setattr(store_db, "BUSY_TIMEOUT_SECONDS", 0.3)  # SQLite's write queue
    monkeypatch.setattr(postgres, "LOCK_TIMEOUT_SECONDS", 0.3)  # PostgreSQL's lock_timeout
    with Client(db) as client:
        lb = client.mri.get_leaderboard_by_id(board)
        with pytest.raises(DatabaseError, match="other writers kept the database busy for 0.3 s"):
            lb.next_matchup("bob", continue_when_settled=True)  # a write that takes the lock
        holder.join(30)
        started = time.monotonic()  # the abandoned wait must not block the writes that follow
        receipts = [lb.record_vote(m, "tie", "ann") for m in served]
        assert time.monotonic() - started < 5
    assert [r.counted for r in receipts] == [True, True, True]
    _check(db, served)
