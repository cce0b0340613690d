"""The PostgreSQL vote feed's position: ordered by transaction id as a number, not as text."""

from __future__ import annotations

from app_support import make_board
from rater import Client
from rater.matchmaking.state import forget_states
from rater.store.matchups import ID_BITS, vote_position


def test_the_position_passes_transaction_ids_of_more_digits(pg_location, png) -> None:
    """Votes of transactions 99 and 101 (as "999" and "1001" once a cluster has run a while):
    the feed stands at the later one, and the matchmaker counts both."""
    client = Client(pg_location, create=True)
    lb = make_board(client, png, models=2, prompts=2, repeat_share=0.0)
    for rater in ("ann", "bob"):
        lb.record_vote(lb.next_matchup(rater).id, "left", rater)
    conn = client.store.conn
    first, last = (r[0] for r in conn.execute("SELECT id FROM votes ORDER BY id"))
    with client.store.write() as w:
        w.execute("UPDATE votes SET txid = CAST(? AS xid8) WHERE id = ?", ("99", first))
        w.execute("UPDATE votes SET txid = CAST(? AS xid8) WHERE id = ?", ("101", last))
    forget_states(client.store)
    assert vote_position(conn) == 101 << ID_BITS | last
    assert lb.status().votes == 2
    client.close()
