"""SQL for what a leaderboard is made of: the board itself, its prompts, models and media."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

__all__ = [
    "find_leaderboards",
    "get_leaderboard",
    "get_or_create_model",
    "insert_blob",
    "insert_leaderboard",
    "insert_media",
    "leaderboard_ids",
    "list_media",
    "list_models",
    "list_prompts",
    "media_keys",
    "models_with_blobs",
    "set_min_votes",
    "set_show_standings",
]

_LEADERBOARD_COLUMNS = (
    "id, name, instruction, show_prompt, show_prompt_asset, inverse_ranking, strategy, "
    "repeat_share, max_pair_votes, created_at, show_standings, publish_prompts, min_votes"
)


def _rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def insert_leaderboard(
    conn: sqlite3.Connection,
    board: dict[str, Any],
    prompts: Sequence[tuple[str, Sequence[str], str | None]],
) -> None:
    """Insert a leaderboard row and its prompts ``(text, tags, asset_sha256)`` in order."""
    conn.execute(
        f"INSERT INTO leaderboards ({_LEADERBOARD_COLUMNS}) VALUES "
        "(:id, :name, :instruction, :show_prompt, :show_prompt_asset, :inverse_ranking, "
        ":strategy, :repeat_share, :max_pair_votes, :created_at, :show_standings, :publish_prompts, :min_votes)",
        board,
    )
    conn.executemany(
        "INSERT INTO prompts (leaderboard_id, position, text, tags, asset_sha256) "
        "VALUES (?, ?, ?, ?, ?)",
        [
            (board["id"], i, text, json.dumps(list(tags), ensure_ascii=False), asset)
            for i, (text, tags, asset) in enumerate(prompts)
        ],
    )


def get_leaderboard(conn: sqlite3.Connection, leaderboard_id: str) -> dict[str, Any] | None:
    """The leaderboard row, or None."""
    rows = _rows(
        conn.execute(
            f"SELECT {_LEADERBOARD_COLUMNS} FROM leaderboards WHERE id = ?", (leaderboard_id,)
        )
    )
    return rows[0] if rows else None


def set_show_standings(conn: sqlite3.Connection, leaderboard_id: str, show: bool) -> bool:
    """Set whether raters see the board's standings; False when there is no such board."""
    cur = conn.execute(
        "UPDATE leaderboards SET show_standings = ? WHERE id = ?", (int(show), leaderboard_id)
    )
    return cur.rowcount == 1


def set_min_votes(conn: sqlite3.Connection, leaderboard_id: str, min_votes: int) -> bool:
    """Set the votes a model needs to leave "preliminary"; False when there is no such board."""
    cur = conn.execute("UPDATE leaderboards SET min_votes = ? WHERE id = ?", (min_votes, leaderboard_id))
    return cur.rowcount == 1


def leaderboard_ids(conn: sqlite3.Connection) -> list[str]:
    """Every leaderboard id, oldest first."""
    return [r[0] for r in conn.execute("SELECT id FROM leaderboards ORDER BY created_at, rowid")]


def find_leaderboards(conn: sqlite3.Connection, name: str, amount: int) -> list[dict[str, Any]]:
    """Leaderboards whose name contains ``name`` (case-insensitive), newest first."""
    needle = name.casefold()
    rows = _rows(
        conn.execute(
            f"SELECT {_LEADERBOARD_COLUMNS} FROM leaderboards ORDER BY created_at DESC, rowid DESC"
        )
    )
    # casefold in Python: SQLite's LIKE folds ASCII only.
    return [r for r in rows if needle in r["name"].casefold()][:amount]


def list_prompts(conn: sqlite3.Connection, leaderboard_id: str) -> list[dict[str, Any]]:
    """The registered prompts in order: ``id, position, text, tags (list), asset_sha256,
    asset_ext, asset_kind, asset_mime``."""
    rows = _rows(
        conn.execute(
            "SELECT p.id, p.position, p.text, p.tags, p.asset_sha256, b.ext AS asset_ext, "
            "b.kind AS asset_kind, b.mime AS asset_mime FROM prompts p "
            "LEFT JOIN blobs b ON b.sha256 = p.asset_sha256 "
            "WHERE p.leaderboard_id = ? ORDER BY p.position",
            (leaderboard_id,),
        )
    )
    for row in rows:
        row["tags"] = json.loads(row["tags"])
    return rows


def insert_blob(
    conn: sqlite3.Connection, sha256: str, kind: str, mime: str, ext: str, size: int
) -> None:
    """Record a stored media blob (no-op when already known)."""
    conn.execute(
        "INSERT INTO blobs (sha256, kind, mime, ext, size) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (sha256) DO NOTHING",
        (sha256, kind, mime, ext, size),
    )


def get_or_create_model(
    conn: sqlite3.Connection, leaderboard_id: str, name: str, now: float
) -> int:
    """The id of the named model on the board, creating the model if needed."""
    row = conn.execute(
        "SELECT id FROM models WHERE leaderboard_id = ? AND name = ?", (leaderboard_id, name)
    ).fetchone()
    if row:
        return int(row[0])
    cur = conn.execute(
        "INSERT INTO models (leaderboard_id, name, created_at) VALUES (?, ?, ?)",
        (leaderboard_id, name, now),
    )
    return int(cur.lastrowid or 0)


def media_keys(conn: sqlite3.Connection, leaderboard_id: str, model_name: str) -> set[tuple[int, str]]:
    """``(prompt_id, sha256)`` of every media the named model already has on the board."""
    return {
        (int(p), s)
        for p, s in conn.execute(
            "SELECT m.prompt_id, m.sha256 FROM media m JOIN models o ON o.id = m.model_id "
            "WHERE o.leaderboard_id = ? AND o.name = ?",
            (leaderboard_id, model_name),
        )
    }


def models_with_blobs(
    conn: sqlite3.Connection, leaderboard_id: str, sha256s: set[str], except_model: str
) -> dict[str, list[str]]:
    """For each of ``sha256s`` stored on the board for a model other than ``except_model``: those
    models' names, sorted."""
    found: dict[str, list[str]] = {}
    rows = conn.execute(
        "SELECT DISTINCT m.sha256, o.name FROM media m JOIN models o ON o.id = m.model_id "
        "WHERE o.leaderboard_id = ? AND o.name != ? AND m.sha256 IN (SELECT value FROM json_each(?)) "
        "ORDER BY m.sha256, o.name", (leaderboard_id, except_model, json.dumps(sorted(sha256s))),
    )
    for sha, name in rows:
        found.setdefault(sha, []).append(name)
    return found


def insert_media(
    conn: sqlite3.Connection,
    leaderboard_id: str,
    model_id: int,
    prompt_id: int,
    sha256: str,
    original_name: str,
    now: float,
) -> int:
    """Attach a stored blob to a model and prompt; return the media id."""
    cur = conn.execute(
        "INSERT INTO media (leaderboard_id, model_id, prompt_id, sha256, original_name, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (leaderboard_id, model_id, prompt_id, sha256, original_name, now),
    )
    return int(cur.lastrowid or 0)


def list_models(conn: sqlite3.Connection, leaderboard_id: str) -> list[dict[str, Any]]:
    """The board's models in the order they were added: ``id, name, created_at, media``."""
    return _rows(
        conn.execute(
            "SELECT o.id, o.name, o.created_at, count(m.id) AS media FROM models o "
            "LEFT JOIN media m ON m.model_id = o.id WHERE o.leaderboard_id = ? "
            "GROUP BY o.id ORDER BY o.created_at, o.id",
            (leaderboard_id,),
        )
    )


def list_media(
    conn: sqlite3.Connection, leaderboard_id: str, model_name: str | None = None
) -> list[dict[str, Any]]:
    """Media rows with their model, prompt and blob: ordered by model, prompt position, id."""
    sql = (
        "SELECT m.id, o.name AS model, m.model_id, p.text AS prompt, m.prompt_id, "
        "p.position AS prompt_position, m.sha256, b.ext, b.kind, b.mime, b.size, "
        "m.original_name, m.created_at FROM media m "
        "JOIN models o ON o.id = m.model_id JOIN prompts p ON p.id = m.prompt_id "
        "JOIN blobs b ON b.sha256 = m.sha256 WHERE m.leaderboard_id = ?"
    )
    params: list[Any] = [leaderboard_id]
    if model_name is not None:
        sql += " AND o.name = ?"
        params.append(model_name)
    sql += " ORDER BY o.created_at, o.id, p.position, m.id"
    return _rows(conn.execute(sql, params))
