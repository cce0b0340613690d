"""Gold pairs in matchmaking: qualification, the gold share, and automatic exclusion.

A gold pair (``rater gold add``) is a pair whose better side the owner knows. It is served like
any pair (same prompt, random sides, a medium of the board's prompt on each side) and its vote
is stored, but counts nowhere: its media belong to the benchmark's hidden gold participants,
which no board rates (see :mod:`rater.store.gold`). Gold votes say how reliable a rater is.

Per board (:class:`QualityRules`, set with ``Leaderboard.set_quality_rules``):

- **qualification** (``qualification_pairs`` n, ``qualification_required`` k; k = 0: none): a
  rater new to the board is served gold pairs first, and is excluded while qualifying (their votes are stored, not counted). The qualification is decided at a gold vote:
  passed once n gold pairs are answered with k right (or every gold pair the rater can still get
  is answered, with k right); failed as soon as k can no longer be reached. A failed rater stays
  excluded, with the reason.
- **gold share**: afterwards a ``gold_share`` of the pairs served are gold pairs the rater has
  not seen yet (never the same gold pair twice, like any pair).
- **automatic exclusion**: after each gold vote (repeat vote), and for everyone when the owner
  changes the rules, a rater whose share of right
  gold answers (agreement on quality-control repeats) is below ``min_gold_accuracy``
  (``min_repeat_agreement``; 0: not checked) with at least ``min_quality_votes`` such votes is
  excluded, with the reason. A tie on a gold pair is a wrong answer. The accuracy counts every
  gold vote, qualification included, so set k/n at least ``min_gold_accuracy``.

The owner's word wins: once a rater was excluded or included by hand (``exclude_rater``,
``include_rater``), no rule here changes that rater again (nor asks them to qualify).
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rater.store import gold as gold_sql
from rater.store import votes as votes_sql

if TYPE_CHECKING:  # this module stays light: the API imports it to read a board's rules
    import numpy as np

    from rater.store import Store

__all__ = ["QUALIFYING", "QualityRules", "gold_row", "judge_after_vote", "judge_board", "mark_qualifying", "quality_rules"]

#: The reason shown for a rater who is still answering the qualification's gold pairs.
QUALIFYING = "qualifying: answering the gold pairs"


@dataclass(frozen=True)
class QualityRules:
    """A board's gold and quality rules (see the module docstring); ``gold_pairs``: how many
    gold pairs it serves."""

    qualification_pairs: int = 0
    qualification_required: int = 0
    gold_share: float = 0.05
    min_gold_accuracy: float = 0.7
    min_repeat_agreement: float = 0.0
    min_quality_votes: int = 5
    gold_pairs: int = 0


def quality_rules(conn: sqlite3.Connection, leaderboard_id: str) -> QualityRules:
    """The board's rules (the defaults when there is no such board)."""
    row = gold_sql.quality_rules(conn, leaderboard_id)
    return QualityRules() if row is None else QualityRules(**row)


def _qualifying(rules: QualityRules, record: dict[str, Any] | None) -> bool:
    """Whether the rater must (still) pass the qualification."""
    if rules.qualification_required == 0 or rules.gold_pairs == 0:
        return False
    return record is None or (record["qualified"] is None and not record["by_owner"])


def gold_row(store: Store, leaderboard_id: str, rater: str,
             rng: np.random.Generator) -> dict[str, Any] | None:
    """The matchup row of a gold pair to serve to ``rater`` now, or None (serve an ordinary
    pair). A qualifying rater gets gold pairs as long as there are unseen ones; when none is
    left, the qualification is decided with the answers given (a gold pair served and not
    voted on within ``PENDING_SECONDS`` counts as answered wrong). The row has the ``matchups`` columns plus ``gold_pair``, ``prompt_text`` and each
    side's ``*_sha256, *_ext, *_kind``, and ``qualifying`` (mark the rater as qualifying)."""
    conn = store.conn
    rules = quality_rules(conn, leaderboard_id)
    if rules.gold_pairs == 0:
        return None
    record = gold_sql.rater_record(conn, leaderboard_id, rater)
    qualifying = _qualifying(rules, record)
    if not qualifying and (rules.gold_share <= 0 or rng.random() >= rules.gold_share):
        return None
    unseen = gold_sql.unseen_gold_pairs(conn, leaderboard_id, rater)
    if not unseen:
        if qualifying and record is not None:  # every gold pair served: decide with the answers given
            with store.write() as wconn:
                votes, right = gold_sql.rater_gold_tally(wconn, leaderboard_id, rater)
                _decide_qualification(wconn, leaderboard_id, rater, rules, votes, right)
        return None
    pair = unseen[int(rng.integers(len(unseen)))]
    better = (pair["better_media"], pair["better_model"], pair["better_sha256"], pair["better_ext"], pair["better_kind"])
    worse = (pair["worse_media"], pair["worse_model"], pair["worse_sha256"], pair["worse_ext"], pair["worse_kind"])
    left, right = (better, worse) if rng.random() < 0.5 else (worse, better)
    return {
        "id": uuid.uuid4().hex, "leaderboard_id": leaderboard_id, "prompt_id": pair["prompt_id"],
        "left_media": left[0], "left_model": left[1], "right_media": right[0], "right_model": right[1],
        "rater": rater, "served_at": time.time(), "repeat_of": None, "gold_pair": pair["id"],
        "left_sha256": left[2], "left_ext": left[3], "left_kind": left[4],
        "right_sha256": right[2], "right_ext": right[3], "right_kind": right[4],
        "qualifying": qualifying and (record is None or record["reason"] != QUALIFYING),
    }


def mark_qualifying(conn: sqlite3.Connection, leaderboard_id: str, rater: str) -> None:
    """Exclude the rater while they qualify (their row exists: a pair was just served)."""
    gold_sql.set_rater_judgement(conn, leaderboard_id, rater, excluded=True, reason=QUALIFYING)


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}% ({part} of {whole})"


def judge_after_vote(conn: sqlite3.Connection, leaderboard_id: str, rater: str, *, gold: bool,
                     repeat: bool) -> None:
    """Apply the board's rules to the rater after a vote on a gold pair (``gold``) or on a
    quality-control repeat (``repeat``), in the vote's write transaction."""
    record = gold_sql.rater_record(conn, leaderboard_id, rater)
    if record is None or record["by_owner"]:
        return
    rules = quality_rules(conn, leaderboard_id)
    if gold and _qualifying(rules, record):
        votes, right = gold_sql.rater_gold_tally(conn, leaderboard_id, rater)
        _decide_qualification(conn, leaderboard_id, rater, rules, votes, right)
    elif not record["excluded"]:
        _check_thresholds(conn, leaderboard_id, rater, rules, gold=gold, repeat=repeat)


def judge_board(conn: sqlite3.Connection, leaderboard_id: str) -> None:
    """Apply the accuracy and agreement thresholds to every included rater of the board (after
    the owner changed them); qualifications are decided only by gold votes."""
    rules = quality_rules(conn, leaderboard_id)
    for name, record in gold_sql.gold_rows(conn, leaderboard_id).items():
        if not record["by_owner"] and not record["excluded"]:
            _check_thresholds(conn, leaderboard_id, name, rules, gold=True, repeat=True)


def _check_thresholds(conn: sqlite3.Connection, leaderboard_id: str, rater: str, rules: QualityRules, *,
                      gold: bool, repeat: bool) -> None:
    """Exclude an included rater below the gold accuracy (``gold``) or repeat agreement
    (``repeat``) threshold after ``min_quality_votes`` such votes, with the reason."""
    reason = None
    if gold and rules.min_gold_accuracy > 0:
        votes, right = gold_sql.rater_gold_tally(conn, leaderboard_id, rater)
        if votes >= rules.min_quality_votes and right < rules.min_gold_accuracy * votes:
            reason = f"gold accuracy {_percent(right, votes)} below {rules.min_gold_accuracy:.0%}"
    if reason is None and repeat and rules.min_repeat_agreement > 0:
        repeats, agreeing = votes_sql.rater_repeat_tally(conn, leaderboard_id, rater)
        if repeats >= rules.min_quality_votes and agreeing < rules.min_repeat_agreement * repeats:
            reason = f"repeat agreement {_percent(agreeing, repeats)} below {rules.min_repeat_agreement:.0%}"
    if reason is not None:
        gold_sql.set_rater_judgement(conn, leaderboard_id, rater, excluded=True, reason=reason)


def _decide_qualification(conn: sqlite3.Connection, leaderboard_id: str, rater: str, rules: QualityRules,
                          votes: int, right: int) -> None:
    from rater.matchmaking.state import PENDING_SECONDS

    n, k = rules.qualification_pairs, rules.qualification_required
    left = len(gold_sql.unseen_gold_pairs(conn, leaderboard_id, rater)) + gold_sql.unvoted_gold_count(
        conn, leaderboard_id, rater, time.time() - PENDING_SECONDS)
    still = max(0, min(left, n - votes))  # gold answers the rater may still give
    if right + still < k:
        reason = f"failed the qualification: {right} of {votes} gold pairs right, {k} of {n} needed"
        gold_sql.set_rater_judgement(conn, leaderboard_id, rater, excluded=True, reason=reason, qualified=False)
    elif still == 0:  # n answered (or every gold pair the rater can get), k right
        gold_sql.set_rater_judgement(conn, leaderboard_id, rater, excluded=False, reason=None, qualified=True)
