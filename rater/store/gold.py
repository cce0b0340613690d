"""SQL for gold pairs (known-answer pairs), the board's quality rules and raters' gold figures.

A gold pair's two media belong to the benchmark's hidden gold participants (``models.gold``,
schema step 8): one holds every better side, one every worse side, so the two sides of a gold
matchup are of two different models, and since neither is ever rated on a board, votes on gold
matchups count nowhere (``votes.shown``). Their names hold a control character, which no name
given through the API may (``check_name``), so they can never be found or taken by name.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .votes import visible

__all__ = [
    "GOLD_NAMES",
    "RULE_COLUMNS",
    "active_pair_count",
    "add_gold_pair",
    "gold_media",
    "gold_pairs",
    "gold_rows",
    "gold_tallies",
    "quality_rules",
    "rater_gold_tally",
    "rater_record",
    "remove_gold_pair",
    "set_quality_rules",
    "set_rater_judgement",
    "unseen_gold_pairs",
    "unvoted_gold_count",
]

#: The hidden participants' names, for the better and the worse sides.
GOLD_NAMES = {"better": "\x1fgold: better", "worse": "\x1fgold: worse"}
#: The board's quality rules (columns of ``leaderboards``).
RULE_COLUMNS = ("qualification_pairs", "qualification_required", "gold_share", "min_gold_accuracy",
                "min_repeat_agreement", "min_quality_votes")


def _rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _gold_participant(conn: sqlite3.Connection, benchmark_id: str, side: str, now: float) -> int:
    name = GOLD_NAMES[side]
    row = conn.execute("SELECT id FROM models WHERE benchmark_id = ? AND name = ? AND gold = 1",
                       (benchmark_id, name)).fetchone()
    if row is not None:
        return int(row[0])
    cur = conn.execute("INSERT INTO models (benchmark_id, name, created_at, status, gold) "
                       "VALUES (?, ?, ?, 'created', 1) RETURNING id", (benchmark_id, name, now))
    return int(cur.fetchone()[0])


def gold_media(conn: sqlite3.Connection, benchmark_id: str, side: str, prompt_id: int, sha256: str,
               original_name: str, now: float) -> int:
    """The media id of blob ``sha256`` (already in ``blobs``) as the ``side`` ("better" or
    "worse") of a gold pair for this prompt, registered under the hidden participant if new."""
    model_id = _gold_participant(conn, benchmark_id, side, now)
    row = conn.execute("SELECT id FROM media WHERE model_id = ? AND prompt_id = ? AND sha256 = ?",
                       (model_id, prompt_id, sha256)).fetchone()
    if row is not None:
        return int(row[0])
    cur = conn.execute(
        "INSERT INTO media (benchmark_id, model_id, prompt_id, sha256, original_name, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id", (benchmark_id, model_id, prompt_id, sha256, original_name, now))
    return int(cur.fetchone()[0])


def add_gold_pair(conn: sqlite3.Connection, leaderboard_id: str, prompt_id: int, better: int, worse: int,
                  now: float) -> int | None:
    """Add a gold pair of two media ids; None when the board already has this pair (active)."""
    cur = conn.execute(
        "INSERT INTO gold_pairs (leaderboard_id, prompt_id, better_media, worse_media, created_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id", (leaderboard_id, prompt_id, better, worse, now))
    row = cur.fetchone()
    return None if row is None else int(row[0])


_PAIR_SELECT = (
    "SELECT g.id, g.leaderboard_id, g.prompt_id, p.identifier, p.text AS prompt, g.created_at, "
    "g.better_media, bm.model_id AS better_model, bm.sha256 AS better_sha256, bb.ext AS better_ext, "
    "bb.kind AS better_kind, g.worse_media, wm.model_id AS worse_model, wm.sha256 AS worse_sha256, "
    "wb.ext AS worse_ext, wb.kind AS worse_kind FROM gold_pairs g JOIN prompts p ON p.id = g.prompt_id "
    "JOIN media bm ON bm.id = g.better_media JOIN blobs bb ON bb.sha256 = bm.sha256 "
    "JOIN media wm ON wm.id = g.worse_media JOIN blobs wb ON wb.sha256 = wm.sha256 "
)


def gold_pairs(conn: sqlite3.Connection, leaderboard_id: str) -> list[dict[str, Any]]:
    """The board's gold pairs (removed ones aside), oldest first, with their media and counts:
    ``id, identifier, prompt, better_sha256, worse_sha256, ..., votes, correct``."""
    return _rows(conn.execute(
        "SELECT x.*, (SELECT count(*) FROM matchups mu JOIN votes v ON v.matchup_id = mu.id "
        f" WHERE mu.gold_pair = x.id AND {visible('v')}) AS votes, "
        "(SELECT count(*) FROM matchups mu JOIN votes v ON v.matchup_id = mu.id "
        f" WHERE mu.gold_pair = x.id AND {visible('v')} AND v.choice <> 'tie' AND "
        " (CASE v.choice WHEN 'left' THEN mu.left_media ELSE mu.right_media END) = x.better_media) AS correct "
        f"FROM ({_PAIR_SELECT} WHERE g.leaderboard_id = ? AND g.removed_at IS NULL) x ORDER BY x.id",
        (leaderboard_id,)))


def remove_gold_pair(conn: sqlite3.Connection, leaderboard_id: str, pair_id: int, now: float) -> bool:
    """Serve the pair no more (its matchups and votes stay); False when there is no such pair."""
    cur = conn.execute("UPDATE gold_pairs SET removed_at = ? WHERE id = ? AND leaderboard_id = ? "
                       "AND removed_at IS NULL", (now, pair_id, leaderboard_id))
    return cur.rowcount == 1


def active_pair_count(conn: sqlite3.Connection, leaderboard_id: str) -> int:
    """How many gold pairs the board serves."""
    return int(conn.execute("SELECT count(*) FROM gold_pairs WHERE leaderboard_id = ? AND removed_at IS NULL",
                            (leaderboard_id,)).fetchone()[0])


def quality_rules(conn: sqlite3.Connection, leaderboard_id: str) -> dict[str, Any] | None:
    """The board's quality rules (:data:`RULE_COLUMNS`) and ``gold_pairs`` (active ones); None
    when there is no such board. One key lookup and one index range: cheap per served pair."""
    cur = conn.execute(
        f"SELECT {', '.join(RULE_COLUMNS)}, (SELECT count(*) FROM gold_pairs g WHERE g.leaderboard_id = l.id "
        "AND g.removed_at IS NULL) AS gold_pairs FROM leaderboards l WHERE l.id = ?", (leaderboard_id,))
    rows = _rows(cur)
    return rows[0] if rows else None


def set_quality_rules(conn: sqlite3.Connection, leaderboard_id: str, rules: dict[str, Any]) -> bool:
    """Set some of :data:`RULE_COLUMNS`; False when there is no such board."""
    if not rules or set(rules) - set(RULE_COLUMNS):
        raise ValueError(f"not quality rules: {sorted(set(rules) - set(RULE_COLUMNS)) or 'none given'}")
    assignments = ", ".join(f"{column} = :{column}" for column in rules)
    cur = conn.execute(f"UPDATE leaderboards SET {assignments} WHERE id = :board_id",
                       {**rules, "board_id": leaderboard_id})
    return cur.rowcount == 1


def unseen_gold_pairs(conn: sqlite3.Connection, leaderboard_id: str, rater: str) -> list[dict[str, Any]]:
    """The board's active gold pairs never served to ``rater``, with their media (see
    :func:`gold_pairs` for the columns, without the counts)."""
    return _rows(conn.execute(
        _PAIR_SELECT + "WHERE g.leaderboard_id = ? AND g.removed_at IS NULL AND g.id NOT IN "
        "(SELECT gold_pair FROM matchups WHERE leaderboard_id = ? AND rater = ? AND gold_pair IS NOT NULL) "
        "ORDER BY g.id", (leaderboard_id, leaderboard_id, rater)))


def unvoted_gold_count(conn: sqlite3.Connection, leaderboard_id: str, rater: str, since: float) -> int:
    """Gold matchups of active pairs served to ``rater`` after ``since`` and not voted on yet."""
    return int(conn.execute(
        "SELECT count(*) FROM matchups mu JOIN gold_pairs g ON g.id = mu.gold_pair AND g.removed_at IS NULL "
        "WHERE mu.leaderboard_id = ? AND mu.rater = ? AND mu.gold_pair IS NOT NULL AND mu.served_at > ? "
        f"AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.matchup_id = mu.id AND {visible('v')})",
        (leaderboard_id, rater, since)).fetchone()[0])


# A gold vote is right when it picked the better medium (a tie is never right).
_RIGHT = ("CASE WHEN v.choice <> 'tie' AND (CASE v.choice WHEN 'left' THEN mu.left_media ELSE mu.right_media END) "
          "= g.better_media THEN 1 ELSE 0 END")  # 1/0 (PostgreSQL has no sum of booleans)


def rater_gold_tally(conn: sqlite3.Connection, leaderboard_id: str, rater: str) -> tuple[int, int]:
    """``(gold votes, right ones)`` of one rater on the board."""
    row = conn.execute(
        f"SELECT count(*), coalesce(sum({_RIGHT}), 0) FROM matchups mu JOIN gold_pairs g ON g.id = mu.gold_pair "
        f"JOIN votes v ON v.matchup_id = mu.id WHERE mu.leaderboard_id = ? AND mu.rater = ? "
        f"AND mu.gold_pair IS NOT NULL AND {visible('v')}", (leaderboard_id, rater)).fetchone()
    return int(row[0]), int(row[1])


def gold_tallies(conn: sqlite3.Connection, leaderboard_id: str) -> dict[str, tuple[int, int]]:
    """``{rater: (gold votes, right ones)}`` for every rater with gold votes on the board."""
    return {str(r[0]): (int(r[1]), int(r[2])) for r in conn.execute(
        f"SELECT mu.rater, count(*), coalesce(sum({_RIGHT}), 0) FROM matchups mu "
        "JOIN gold_pairs g ON g.id = mu.gold_pair JOIN votes v ON v.matchup_id = mu.id "
        f"WHERE mu.leaderboard_id = ? AND mu.gold_pair IS NOT NULL AND {visible('v')} GROUP BY mu.rater",
        (leaderboard_id,))}


def rater_record(conn: sqlite3.Connection, leaderboard_id: str, rater: str) -> dict[str, Any] | None:
    """The rater's row on the board: ``excluded, reason, qualified, by_owner``; None if none."""
    rows = _rows(conn.execute("SELECT excluded, reason, qualified, by_owner FROM raters "
                              "WHERE leaderboard_id = ? AND name = ?", (leaderboard_id, rater)))
    return rows[0] if rows else None


def gold_rows(conn: sqlite3.Connection, leaderboard_id: str) -> dict[str, dict[str, Any]]:
    """Every rater row of the board by name: ``excluded, reason, qualified, by_owner``."""
    cur = conn.execute("SELECT name, excluded, reason, qualified, by_owner FROM raters WHERE leaderboard_id = ?",
                       (leaderboard_id,))
    return {str(r[0]): {"excluded": r[1], "reason": r[2], "qualified": r[3], "by_owner": r[4]}
            for r in cur.fetchall()}


def set_rater_judgement(conn: sqlite3.Connection, leaderboard_id: str, rater: str, *,
                        excluded: bool | None = None, reason: str | None = None,
                        qualified: bool | None = None, by_owner: bool = False) -> None:
    """Record a decision about a rater (the row exists: the rater was served a pair). ``reason``
    is stored as given (None clears it) whenever ``excluded`` is given."""
    sets, args = [], []
    if excluded is not None:
        sets += ["excluded = ?", "reason = ?"]
        args += [int(excluded), reason]
    if qualified is not None:
        sets.append("qualified = ?")
        args.append(int(qualified))
    if by_owner:
        sets.append("by_owner = 1")
    if sets:
        conn.execute(f"UPDATE raters SET {', '.join(sets)} WHERE leaderboard_id = ? AND name = ?",
                     (*args, leaderboard_id, rater))
