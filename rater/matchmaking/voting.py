"""Recording a rater's vote on a served pair.

A plain vote is one INSERT that the schema keeps correct by itself (one vote per matchup, only
on the rater's own matchup); a vote on a gold pair or a quality-control repeat also judges the
rater (:mod:`rater.matchmaking.gold`) in the same transaction.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rater.errors import MatchupNotFound, VoteError
from rater.intake.validation import check_name
from rater.matchmaking import gold
from rater.matchmaking.service import CHOICES, VoteReceipt
from rater.store import votes

if TYPE_CHECKING:
    from rater.store import Store

__all__ = ["record_vote"]


def record_vote(store: Store, leaderboard_id: str, matchup_id: str, choice: str, rater_id: str) -> VoteReceipt:
    """Store a rater's judgement of a matchup served to them; return once it is on disk.

    A matchup takes one vote: submitting it again (double click, replay) changes nothing and
    returns ``counted=False`` with the vote that stands.

    :param choice: ``"left"``, ``"right"`` or ``"tie"``.
    :raises VoteError: ``choice`` is not one of those, or the matchup was served to another rater.
    :raises MatchupNotFound: no matchup with this id on this leaderboard.
    :raises ValidationError: bad ``rater_id``.
    """
    rater = check_name(rater_id, "rater_id")
    if choice not in CHOICES:
        raise VoteError(f"choice must be one of {', '.join(CHOICES)}, got {choice!r}")
    if not isinstance(matchup_id, str) or not matchup_id:
        raise MatchupNotFound(f"matchup id must be a non-empty text, got {matchup_id!r}")
    served = votes.get_matchup(store.conn, matchup_id)
    if served is None or served["leaderboard_id"] != leaderboard_id:
        raise MatchupNotFound(
            f"no matchup {matchup_id!r} on leaderboard {leaderboard_id}: vote only on matchups "
            "returned by next_matchup for this leaderboard"
        )
    if served["rater"] != rater:
        raise VoteError(
            f"matchup {matchup_id!r} was served to another rater, not to {rater!r}: "
            "a rater may only vote on the pairs served to them"
        )
    judged = served["gold_pair"] is not None or served["repeat_of"] is not None
    # Most votes are one INSERT that the schema keeps correct by itself: on PostgreSQL it goes
    # without the write lock, so concurrent votes share the server's WAL flushes.
    with store.write(single_statement=not judged) as conn:
        counted = votes.insert_vote(conn, matchup_id, rater, choice, time.time())
        if counted and judged:
            gold.judge_after_vote(conn, leaderboard_id, rater, gold=served["gold_pair"] is not None,
                                  repeat=served["repeat_of"] is not None)
    # A vote once stored never changes: the one standing can be read after the commit.
    standing = choice if counted else (votes.get_vote(store.conn, matchup_id) or {}).get("choice", choice)
    return VoteReceipt(matchup_id, standing, counted)
