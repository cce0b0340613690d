"""SQL for what a leaderboard is made of: the board itself, its prompts, models and media.

Prompts, models and media belong to the board's benchmark (``rater.store.benchmarks`` has the
benchmark-level SQL); the functions here read them through the views ``board_prompts``,
``board_models`` and ``board_media`` (``rater.store.schema``, step 7), which show one board's
view of its benchmark: every prompt, and the participants rated on the board.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

__all__ = [
    "benchmark_leaderboards",
    "board_benchmark",
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
    "update_leaderboard",
]

_LEADERBOARD_COLUMNS = (
    "id, benchmark_id, name, instruction, show_prompt, show_prompt_asset, inverse_ranking, strategy, "
    "repeat_share, max_pair_votes, created_at, show_standings, publish_prompts, min_votes, "
    "included_tags, excluded_tags, vote_aggregation, min_responses_per_matchup, level_of_detail, "
    "response_budget, weighted_scoring"
)
_JSON_COLUMNS = ("included_tags", "excluded_tags")


def _rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _boards(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    rows = _rows(cursor)
    for row in rows:
        for column in _JSON_COLUMNS:
            row[column] = json.loads(row[column])
    return rows


def insert_leaderboard(
    conn: sqlite3.Connection,
    board: dict[str, Any],
    prompts: Sequence[tuple[str, Sequence[str], str | None]] | None = None,
) -> None:
    """Insert a leaderboard row (its ``benchmark_id`` must exist). With ``prompts`` (the
    one-board flow of ``create_new_leaderboard``), first make its benchmark, of the board's id,
    name and time, with those prompts ``(text, tags, asset_sha256)`` in order, each text its
    own identifier."""
    row = {"included_tags": [], "excluded_tags": [], "vote_aggregation": "all",
           "min_responses_per_matchup": 1, "level_of_detail": None, "response_budget": None,
           "weighted_scoring": 0, "benchmark_id": board["id"], **board}
    for column in _JSON_COLUMNS:
        row[column] = json.dumps(list(row[column]), ensure_ascii=False)
    if prompts is not None:
        from .benchmarks import insert_benchmark

        insert_benchmark(
            conn, {"id": row["benchmark_id"], "name": row["name"], "created_at": row["created_at"]},
            [(text, text, tags, {}, asset) for text, tags, asset in prompts],
        )
    names = [c.strip() for c in _LEADERBOARD_COLUMNS.split(",")]
    conn.execute(
        f"INSERT INTO leaderboards ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})",
        row,
    )


def get_leaderboard(conn: sqlite3.Connection, leaderboard_id: str) -> dict[str, Any] | None:
    """The leaderboard row, or None."""
    rows = _boards(
        conn.execute(
            f"SELECT {_LEADERBOARD_COLUMNS} FROM leaderboards WHERE id = ?", (leaderboard_id,)
        )
    )
    return rows[0] if rows else None


def benchmark_leaderboards(conn: sqlite3.Connection, benchmark_id: str) -> list[dict[str, Any]]:
    """The benchmark's leaderboard rows, oldest first."""
    return _boards(conn.execute(
        f"SELECT {_LEADERBOARD_COLUMNS} FROM leaderboards WHERE benchmark_id = ? "
        "ORDER BY created_at, id", (benchmark_id,)))


#: Leaderboard settings :func:`update_leaderboard` may change.
UPDATABLE = ("name", "show_standings", "publish_prompts", "min_votes", "level_of_detail", "response_budget",
             "min_responses_per_matchup", "vote_aggregation", "weighted_scoring")


def update_leaderboard(conn: sqlite3.Connection, leaderboard_id: str, settings: dict[str, Any]) -> bool:
    """Set the given settings (keys of :data:`UPDATABLE`); False when there is no such board."""
    unknown = set(settings) - set(UPDATABLE)
    if unknown or not settings:
        raise ValueError(f"not updatable leaderboard settings: {sorted(unknown) or 'none given'}")
    assignments = ", ".join(f"{column} = :{column}" for column in settings)
    cur = conn.execute(f"UPDATE leaderboards SET {assignments} WHERE id = :board_id",
                       {**settings, "board_id": leaderboard_id})
    return cur.rowcount == 1


def leaderboard_ids(conn: sqlite3.Connection) -> list[str]:
    """Every leaderboard id, oldest first."""
    return [r[0] for r in conn.execute("SELECT id FROM leaderboards ORDER BY created_at, id")]


def find_leaderboards(conn: sqlite3.Connection, name: str, amount: int) -> list[dict[str, Any]]:
    """Leaderboards whose name contains ``name`` (case-insensitive), newest first."""
    needle = name.casefold()
    rows = _boards(
        conn.execute(
            f"SELECT {_LEADERBOARD_COLUMNS} FROM leaderboards ORDER BY created_at DESC, id DESC"
        )
    )
    # casefold in Python: SQLite's LIKE folds ASCII only.
    return [r for r in rows if needle in r["name"].casefold()][:amount]


def list_prompts(conn: sqlite3.Connection, leaderboard_id: str) -> list[dict[str, Any]]:
    """The registered prompts of the board's benchmark in order: ``id, position, identifier,
    text, tags (list), tag_categories (dict), asset_sha256, asset_ext, asset_kind, asset_mime,
    in_scope`` (whether the board's tag scope lets the matchmaker serve it)."""
    rows = _rows(
        conn.execute(
            "SELECT p.id, p.position, p.identifier, p.text, p.tags, p.tag_categories, "
            "p.asset_sha256, b.ext AS asset_ext, b.kind AS asset_kind, b.mime AS asset_mime, "
            "p.in_scope FROM board_prompts p LEFT JOIN blobs b ON b.sha256 = p.asset_sha256 "
            "WHERE p.leaderboard_id = ? ORDER BY p.position",
            (leaderboard_id,),
        )
    )
    for row in rows:
        row["tags"] = json.loads(row["tags"])
        row["tag_categories"] = json.loads(row["tag_categories"])
        row["in_scope"] = bool(row["in_scope"])
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
    """The id of the named model on the board, creating it if needed: a participant of the
    board's benchmark, rated on this board (the one-board flow of ``evaluate_model``).

    A participant of that name that exists but is not rated here (only created, or rated on
    another leaderboard) starts a run on this board; a disabled one stays disabled.
    """
    from .benchmarks import add_run

    bench = board_benchmark(conn, leaderboard_id)
    row = conn.execute(
        "SELECT id, status FROM models WHERE benchmark_id = ? AND name = ? AND status <> 'deleted'",
        (bench, name),
    ).fetchone()
    if row is None:
        cur = conn.execute(
            "INSERT INTO models (benchmark_id, name, created_at, status) VALUES (?, ?, ?, 'rating') RETURNING id",
            (bench, name, now),
        )
        model_id = int(cur.fetchone()[0])
    else:
        model_id = int(row[0])
        if row[1] == "created":
            conn.execute("UPDATE models SET status = 'rating' WHERE id = ?", (model_id,))
    if conn.execute("SELECT 1 FROM runs WHERE leaderboard_id = ? AND model_id = ?",
                    (leaderboard_id, model_id)).fetchone() is None:
        add_run(conn, leaderboard_id, model_id, now)
    return model_id


def board_benchmark(conn: sqlite3.Connection, leaderboard_id: str) -> str:
    """The id of the board's benchmark (the board's own id for a board that was made alone).

    :raises LookupError: there is no such board.
    """
    row = conn.execute("SELECT benchmark_id FROM leaderboards WHERE id = ?", (leaderboard_id,)).fetchone()
    if row is None:
        raise LookupError(f"no leaderboard {leaderboard_id!r}")
    return str(row[0])


def media_keys(conn: sqlite3.Connection, leaderboard_id: str, model_name: str) -> set[tuple[int, str]]:
    """``(prompt_id, sha256)`` of every media the named model already has on the board."""
    return {
        (int(p), s)
        for p, s in conn.execute(
            "SELECT m.prompt_id, m.sha256 FROM board_media m JOIN models o ON o.id = m.model_id "
            "WHERE m.leaderboard_id = ? AND o.name = ?",
            (leaderboard_id, model_name),
        )
    }


def models_with_blobs(
    conn: sqlite3.Connection, leaderboard_id: str, sha256s: set[str], except_model: str
) -> dict[str, list[str]]:
    """For each of ``sha256s`` stored in the board's benchmark for a participant other than
    ``except_model``: those participants' names, sorted."""
    from .benchmarks import participants_with_blobs

    return participants_with_blobs(conn, board_benchmark(conn, leaderboard_id), sha256s, except_model)


def insert_media(
    conn: sqlite3.Connection,
    leaderboard_id: str,
    model_id: int,
    prompt_id: int,
    sha256: str,
    original_name: str,
    now: float,
) -> int:
    """Attach a stored blob to a model and prompt (of the board's benchmark); return the media id."""
    cur = conn.execute(
        "INSERT INTO media (benchmark_id, model_id, prompt_id, sha256, original_name, created_at)"
        " VALUES ((SELECT benchmark_id FROM leaderboards WHERE id = ?), ?, ?, ?, ?, ?) RETURNING id",
        (leaderboard_id, model_id, prompt_id, sha256, original_name, now),
    )
    return int(cur.fetchone()[0])


def list_models(conn: sqlite3.Connection, leaderboard_id: str) -> list[dict[str, Any]]:
    """The board's models in the order they were added: ``id, name, created_at, media``."""
    return _rows(
        conn.execute(
            "SELECT o.id, o.name, o.created_at, count(m.id) AS media FROM board_models o "
            "LEFT JOIN media m ON m.model_id = o.id WHERE o.leaderboard_id = ? "
            "GROUP BY o.id, o.name, o.created_at ORDER BY o.created_at, o.id",
            (leaderboard_id,),
        )
    )


def list_media(
    conn: sqlite3.Connection, leaderboard_id: str, model_name: str | None = None
) -> list[dict[str, Any]]:
    """Media rows with their model, prompt and blob: ordered by model, prompt position, id."""
    sql = (
        "SELECT m.id, o.name AS model, m.model_id, p.text AS prompt, p.identifier, m.prompt_id, "
        "p.position AS prompt_position, m.sha256, b.ext, b.kind, b.mime, b.size, "
        "m.original_name, m.created_at FROM board_media m "
        "JOIN models o ON o.id = m.model_id JOIN prompts p ON p.id = m.prompt_id "
        "JOIN blobs b ON b.sha256 = m.sha256 WHERE m.leaderboard_id = ?"
    )
    params: list[Any] = [leaderboard_id]
    if model_name is not None:
        sql += " AND o.name = ?"
        params.append(model_name)
    sql += " ORDER BY o.created_at, o.id, p.position, m.id"
    return _rows(conn.execute(sql, params))
