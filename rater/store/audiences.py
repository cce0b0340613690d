"""SQL for audiences: pools of raters, the boards they are attached to, and their members.

Tokens and study secrets arrive here only as SHA-256 hex digests; nothing in this module ever
sees or stores one in clear.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from .dialect import like

__all__ = [
    "AUDIENCE_COLUMNS", "MEMBER_COLUMNS", "add_member", "attach", "board_audiences", "detach",
    "find_audiences", "get_audience", "get_member", "audience_boards", "audience_ids", "insert_audience",
    "member_by_token", "members", "next_member_number", "rater_votes", "revoke", "set_completion",
    "set_study",
]

AUDIENCE_COLUMNS = ("id", "name", "created_at", "platform", "worker_param", "extra_params",
                    "study_hash", "study_board", "study_quota", "study_completion_url")
MEMBER_COLUMNS = ("id", "audience_id", "rater", "source", "token_hash", "leaderboard_id", "quota",
                  "expires_at", "completion_url", "params", "created_at", "revoked_at",
                  "completion_code", "completed_at")


def _rows(cursor: sqlite3.Cursor, json_column: str) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    out = []
    for row in cursor.fetchall():
        record = dict(zip(names, row))
        record[json_column] = json.loads(record[json_column])
        out.append(record)
    return out


def insert_audience(conn: sqlite3.Connection, row: dict[str, Any]) -> None:
    """Store a new audience: ``id, name, created_at, platform, worker_param, extra_params``."""
    conn.execute(
        "INSERT INTO audiences (id, name, created_at, platform, worker_param, extra_params) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (row["id"], row["name"], row["created_at"], row["platform"], row["worker_param"],
         json.dumps(list(row["extra_params"]))),
    )


def _select_audiences(conn: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
    return _rows(conn.execute(f"SELECT {', '.join(AUDIENCE_COLUMNS)} FROM audiences {where}", args),
                 "extra_params")


def get_audience(conn: sqlite3.Connection, audience_id: str) -> dict[str, Any] | None:
    """The audience row, or None."""
    found = _select_audiences(conn, "WHERE id = ?", (audience_id,))
    return found[0] if found else None


def find_audiences(conn: sqlite3.Connection, name: str, amount: int) -> list[dict[str, Any]]:
    """Audiences whose name contains ``name`` (case-insensitive), newest first."""
    pattern = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return _select_audiences(conn, f"WHERE name {like(conn)} ? ESCAPE '\\' ORDER BY created_at DESC, id LIMIT ?",
                             (pattern, amount))


def audience_ids(conn: sqlite3.Connection) -> list[str]:
    """Every audience id, oldest first."""
    return [r[0] for r in conn.execute("SELECT id FROM audiences ORDER BY created_at, id")]


def set_study(conn: sqlite3.Connection, audience_id: str, study_hash: str, board: str, quota: int | None,
              completion_url: str, worker_param: str, extra_params: list[str], platform: str) -> None:
    """Set the audience's study link: the secret's hash, its board, quota and completion URL."""
    conn.execute(
        "UPDATE audiences SET study_hash = ?, study_board = ?, study_quota = ?, study_completion_url = ?,"
        " worker_param = ?, extra_params = ?, platform = ? WHERE id = ?",
        (study_hash, board, quota, completion_url, worker_param, json.dumps(extra_params), platform,
         audience_id),
    )


def attach(conn: sqlite3.Connection, board: str, audience_id: str) -> bool:
    """Restrict ``board`` to the audience (too); False if it already was."""
    cur = conn.execute("INSERT INTO board_audiences (leaderboard_id, audience_id) VALUES (?, ?) "
                       "ON CONFLICT DO NOTHING", (board, audience_id))
    return cur.rowcount == 1


def detach(conn: sqlite3.Connection, board: str, audience_id: str) -> bool:
    """Remove the audience from the board's; False if it was not attached."""
    cur = conn.execute("DELETE FROM board_audiences WHERE leaderboard_id = ? AND audience_id = ?",
                       (board, audience_id))
    return cur.rowcount == 1


def board_audiences(conn: sqlite3.Connection, board: str) -> list[str]:
    """The ids of the audiences a board is restricted to (none: open to everyone)."""
    return [r[0] for r in conn.execute(
        "SELECT audience_id FROM board_audiences WHERE leaderboard_id = ? ORDER BY audience_id", (board,))]


def audience_boards(conn: sqlite3.Connection, audience_id: str) -> list[str]:
    """The ids of the boards restricted to this audience."""
    return [r[0] for r in conn.execute(
        "SELECT leaderboard_id FROM board_audiences WHERE audience_id = ? ORDER BY leaderboard_id",
        (audience_id,))]


def next_member_number(conn: sqlite3.Connection, audience_id: str) -> int:
    """1 + the number of members the audience ever had (pseudonyms are numbered from 1)."""
    return int(conn.execute("SELECT count(*) FROM audience_raters WHERE audience_id = ?",
                            (audience_id,)).fetchone()[0]) + 1


def add_member(conn: sqlite3.Connection, row: dict[str, Any]) -> int:
    """Store a member: ``audience_id, rater, source, token_hash, leaderboard_id, quota, expires_at,
    completion_url, params, created_at``; returns its id."""
    cur = conn.execute(
        "INSERT INTO audience_raters (audience_id, rater, source, token_hash, leaderboard_id, quota,"
        " expires_at, completion_url, params, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (row["audience_id"], row["rater"], row["source"], row["token_hash"], row["leaderboard_id"],
         row["quota"], row["expires_at"], row["completion_url"], json.dumps(row["params"]),
         row["created_at"]),
    )
    return int(cur.fetchone()[0])


def _select_members(conn: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
    return _rows(conn.execute(f"SELECT {', '.join(MEMBER_COLUMNS)} FROM audience_raters {where}", args),
                 "params")


def member_by_token(conn: sqlite3.Connection, token_hash: str) -> dict[str, Any] | None:
    """The member whose invite token hashes to ``token_hash``, or None."""
    found = _select_members(conn, "WHERE token_hash = ?", (token_hash,))
    return found[0] if found else None


def get_member(conn: sqlite3.Connection, audience_id: str, rater: str) -> dict[str, Any] | None:
    """The audience's member of that rater id, or None."""
    found = _select_members(conn, "WHERE audience_id = ? AND rater = ?", (audience_id, rater))
    return found[0] if found else None


def members(conn: sqlite3.Connection, audience_id: str) -> list[dict[str, Any]]:
    """Every member of the audience, in the order they joined."""
    return _select_members(conn, "WHERE audience_id = ? ORDER BY id", (audience_id,))


def revoke(conn: sqlite3.Connection, member_id: int, now: float) -> None:
    """Revoke a member (their link stops working; their votes stay)."""
    conn.execute("UPDATE audience_raters SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                 (now, member_id))


def set_completion(conn: sqlite3.Connection, member_id: int, code: str, now: float) -> str:
    """Give the member ``code`` unless they have one already; returns the code that stands."""
    conn.execute("UPDATE audience_raters SET completion_code = ?, completed_at = ? "
                 "WHERE id = ? AND completion_code IS NULL", (code, now, member_id))
    return str(conn.execute("SELECT completion_code FROM audience_raters WHERE id = ?",
                            (member_id,)).fetchone()[0])


def rater_votes(conn: sqlite3.Connection, board: str, rater: str) -> int:
    """Votes the rater cast on the board (repeats included; staged imports aside)."""
    return int(conn.execute(
        "SELECT count(*) FROM matchups mu JOIN votes v ON v.matchup_id = mu.id "
        "WHERE mu.leaderboard_id = ? AND mu.rater = ? AND v.batch IS NULL", (board, rater)).fetchone()[0])
