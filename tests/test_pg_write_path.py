"""The write path on PostgreSQL: round trips per vote, and what saving them must not cost.

A write transaction sends ``BEGIN`` and takes the database's write lock in one round trip, and
holds the lock from the start of its block as SQLite's ``BEGIN IMMEDIATE`` does; a
single-statement write (a plain vote) is one INSERT that commits by itself without the lock
(the schema keeps it correct: one vote per matchup, the rater's own matchup), so a vote is two
round trips (read the matchup; insert) and concurrent votes share WAL flushes. What must hold
still: every other write waits for the lock (serialised as on SQLite), a refused or failed
write leaves nothing, a statement with media
bytes still runs inside the transaction, and a block that was promised one statement cannot run
a second outside it. Round trips are counted from libpq's own protocol trace (every
``ReadyForQuery`` the server sends ends one).
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app_support import make_board
from rater import Client, DatabaseError, Leaderboard, VoteError
from rater.store.postgres import WRITE_LOCK_KEY


@pytest.fixture
def pg_client(pg_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.setenv("RATER_MEDIA_CACHE", str(tmp_path / "media-cache"))
    url = pg_server.create_database(f"write_path_{time.monotonic_ns()}")
    with Client(url, create=True) as client:
        yield client


@pytest.fixture
def board(pg_client: Client, png: Callable[..., Path]) -> Leaderboard:
    return make_board(pg_client, png, models=3, prompts=2, repeat_share=0.0)


@contextlib.contextmanager
def round_trips(client: Client) -> Iterator[list[int]]:
    """Count the round trips of this thread's connection during the block (into ``[n]``)."""
    import psycopg

    pgconn = client.store.conn.raw.pgconn
    counted = [0]
    with tempfile.TemporaryFile() as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield counted
        finally:
            pgconn.untrace()
        trace.seek(0)
        counted[0] = sum("ReadyForQuery" in line for line in trace.read().decode().splitlines())


def _votes(client: Client) -> list[tuple[str, str, str]]:
    return [tuple(r) for r in client.store.conn.execute(
        "SELECT matchup_id, rater, choice FROM votes ORDER BY id").fetchall()]


def test_a_vote_is_two_round_trips_and_committed_when_acknowledged(pg_client: Client, board: Leaderboard) -> None:
    served = [board.next_matchup("ann", continue_when_settled=True) for _ in range(3)]
    board.record_vote(served[0].id, "left", "ann")  # the first use prepares what it can
    with round_trips(pg_client) as trips:
        receipt = board.record_vote(served[1].id, "right", "ann")
    assert receipt.counted and trips[0] == 2, f"{trips[0]} round trips for one vote"
    assert not pg_client.store.conn.in_transaction
    with Client(pg_client.store.url) as other:  # another connection sees it at once: committed
        assert _votes(other) == [(served[0].id, "ann", "left"), (served[1].id, "ann", "right")]
    with round_trips(pg_client) as trips:
        again = board.record_vote(served[1].id, "left", "ann")  # a replay: the first vote stands
    assert (again.counted, again.choice) == (False, "right") and trips[0] == 3
    assert len(_votes(pg_client)) == 2


def test_a_plain_vote_goes_without_the_write_lock_and_a_matchup_waits_for_it(
        pg_client: Client, board: Leaderboard) -> None:
    import psycopg

    matchup = board.next_matchup("ann", continue_when_settled=True)
    served: list[str] = []
    with psycopg.connect(pg_client.store.url, autocommit=True) as holder:
        holder.execute("BEGIN")
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
        voter = threading.Thread(target=lambda: board.record_vote(matchup.id, "tie", "ann"))
        voter.start()
        voter.join(30)  # a plain vote: one INSERT the schema keeps correct, no lock to wait for
        assert not voter.is_alive(), "the vote waited for another writer's lock"
        server = threading.Thread(target=lambda: served.append(board.next_matchup("bob").id))
        server.start()
        time.sleep(0.5)
        assert served == [], "a matchup was stored while another writer held the lock"
        holder.execute("COMMIT")
        server.join(30)
    assert len(served) == 1
    assert _votes(pg_client) == [(matchup.id, "ann", "tie")]


def test_a_write_holds_the_lock_from_the_start_of_its_block(pg_client: Client) -> None:
    import psycopg

    with psycopg.connect(pg_client.store.url, autocommit=True) as other:
        def free() -> bool:
            return other.execute("SELECT pg_try_advisory_lock(%s)", (WRITE_LOCK_KEY,)).fetchone()[0] and \
                other.execute("SELECT pg_advisory_unlock(%s)", (WRITE_LOCK_KEY,)).fetchone()[0]

        with pg_client.store.write():
            assert not free(), "the block runs without the write lock"
        with pg_client.store.write() as conn:
            assert conn.execute("SELECT n FROM catalog_version").fetchone()[0] == 0
            with pg_client.store.write():  # nested: still the outer transaction's lock
                assert not free()
        assert free()


def test_a_refused_vote_leaves_nothing_and_the_connection_works(pg_client: Client, board: Leaderboard) -> None:
    audience = pg_client.audience.create_audience("Experts")
    audience.attach(board)
    ann, bob = (invite.rater for invite in audience.invite(board, count=2))
    served = board.next_matchup(ann, continue_when_settled=True)
    pg_client.audience.revoke(ann)
    with pytest.raises(VoteError, match="not a current member"):
        board.record_vote(served.id, "left", ann)
    assert _votes(pg_client) == [] and not pg_client.store.conn.in_transaction
    other = board.next_matchup(bob, continue_when_settled=True)
    assert board.record_vote(other.id, "left", bob).counted
    assert _votes(pg_client) == [(other.id, bob, "left")]


def test_a_single_statement_write_refuses_a_second_statement(pg_client: Client) -> None:
    with pytest.raises(DatabaseError, match="second statement"):
        with pg_client.store.write(single_statement=True) as conn:
            conn.execute("UPDATE catalog_version SET n = n + 1")
            conn.execute("UPDATE catalog_version SET n = n + 100")  # would run outside the transaction
    assert pg_client.store.conn.execute("SELECT n FROM catalog_version").fetchone()[0] == 1
    with pg_client.store.write() as conn:  # the connection is usable afterwards
        conn.execute("UPDATE catalog_version SET n = n + 1")
    assert pg_client.store.conn.execute("SELECT n FROM catalog_version").fetchone()[0] == 2


def test_a_first_statement_with_bytes_is_inside_the_transaction(pg_client: Client) -> None:
    data = b"\x00\x01 not a literal \\x' %s ?"  # sent bound by the server, not in the message
    count = "SELECT n FROM catalog_version"
    with pytest.raises(RuntimeError):
        with pg_client.store.write() as conn:
            conn.execute("UPDATE catalog_version SET n = n + octet_length(?)", (data,))
            assert conn.execute(count).fetchone()[0] == len(data)
            raise RuntimeError("the block fails after the bytes were written")
    assert pg_client.store.conn.execute(count).fetchone()[0] == 0
    with pg_client.store.write() as conn:
        conn.execute("UPDATE catalog_version SET n = n + octet_length(?)", (data,))
    assert pg_client.store.conn.execute(count).fetchone()[0] == len(data)
