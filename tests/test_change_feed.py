"""The matchmaker's change feed of votes on PostgreSQL, against a real server.

PostgreSQL hands out ids when a row is inserted, not when it commits: a vote whose transaction
stays open (here a raw psycopg transaction that does not take the store's write lock, as any
writer outside rater could) can commit after a vote with a higher id. A feed reading "ids above
the last one seen" would skip it for good. The feed reads votes by ``(txid, id)`` and only below
the oldest transaction still running (:func:`rater.store.matchups.vote_position`), so the
matchmaker counts every vote exactly once, whatever order they commit in.
"""

from __future__ import annotations

import os
import re
import time

import psycopg
import pytest

from rater import Client
from rater.store.pg_store import MEDIA_CACHE_ENV

from app_support import make_board


@pytest.fixture
def board(pg_server, png, tmp_path, monkeypatch, request):  # type: ignore[no-untyped-def]
    monkeypatch.setenv(MEDIA_CACHE_ENV, str(tmp_path / "cache"))
    url = pg_server.create_database(f"feed_{os.getpid()}_{re.sub(r'[^a-z0-9_]', '_', request.node.name[-40:].lower())}")
    client = Client(url, create=True)
    yield url, make_board(client, png, models=3, prompts=2, repeat_share=0.0)
    client.close()


def counted(lb) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """What the matchmaker counts: the board's votes, and the sum of its models' votes."""
    status = lb.status()  # refreshes the matchmaker from the feed
    return status.votes, sum(m.votes for m in status.models)


def committed(url: str, sql: str, *params: object) -> object:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql, params).fetchone()[0]


@pytest.mark.parametrize("late", ["lower id", "older transaction"])
def test_a_vote_committed_late_is_counted_once(board, late) -> None:
    """``lower id``: the late vote is inserted first, so it has the lower id but commits last.
    ``older transaction``: its transaction began (and took a transaction id) before the other
    vote's, but inserts after it: a higher id, a lower txid, committed last."""
    url, lb = board
    first, second = lb.next_matchup("ann"), lb.next_matchup("bob")
    assert counted(lb) == (0, 0)
    raw = psycopg.connect(url)  # a transaction of its own, outside the store's write lock
    insert = "INSERT INTO votes (matchup_id, rater, choice, voted_at) VALUES (%s, 'ann', 'left', %s) RETURNING id"
    if late == "lower id":
        late_id = raw.execute(insert, (first.id, time.time())).fetchone()[0]
    else:
        raw.execute("SELECT pg_current_xact_id()")  # the transaction takes its id now
    assert lb.record_vote(second.id, "right", "bob").counted  # commits through the API, at once
    if late == "older transaction":
        late_id = raw.execute(insert, (first.id, time.time())).fetchone()[0]
    api_id = committed(url, "SELECT id FROM votes WHERE matchup_id = %s", second.id)

    # The matchmaker refreshes while the late vote is still uncommitted: it waits for the older
    # transaction rather than move its position past a vote that may still appear behind it.
    assert counted(lb) == (0, 0)
    naive_seen = committed(url, "SELECT max(id) FROM votes")  # all a naive feed could read now
    naive_position = committed(url, "SELECT CAST(max(txid) AS text) FROM votes")
    assert naive_seen == api_id
    raw.commit()
    raw.close()

    assert counted(lb) == (2, 4), "both votes, each once"
    assert counted(lb) == (2, 4)  # and not again on the next refresh
    third = lb.next_matchup("cy")
    lb.record_vote(third.id, "tie", "cy")
    assert counted(lb) == (3, 6)
    assert committed(url, "SELECT count(*) FROM votes") == 3

    # The naive feeds would have lost the late vote for good.
    if late == "lower id":
        assert late_id < api_id  # committed after a vote with a higher id: out of id order
        assert committed(url, "SELECT count(*) FROM votes WHERE id > %s AND matchup_id <> %s",
                         naive_seen, third.id) == 0
    else:
        assert late_id > api_id  # "id > last seen" finds it, but (txid, id) without the stop would not
        assert committed(url, "SELECT count(*) FROM votes WHERE txid > CAST(%s AS xid8) AND matchup_id <> %s",
                         naive_position, third.id) == 0
