"""SQL for model cards (the ``models`` table's card columns, schema step 5)."""

from __future__ import annotations

import sqlite3

__all__ = ["CARD_COLUMNS", "model_cards", "set_model_card"]

CARD_COLUMNS = ("organization", "url", "license", "released", "description")


def model_cards(conn: sqlite3.Connection, leaderboard_id: str) -> dict[str, dict[str, str]]:
    """Every model's card fields on the board, by model name (in the order models were added)."""
    rows = conn.execute(
        f"SELECT name, {', '.join(CARD_COLUMNS)} FROM board_models WHERE leaderboard_id = ? "
        "ORDER BY created_at, id",
        (leaderboard_id,),
    ).fetchall()
    return {r[0]: dict(zip(CARD_COLUMNS, r[1:])) for r in rows}


def set_model_card(conn: sqlite3.Connection, leaderboard_id: str, name: str,
                   fields: dict[str, str]) -> bool:
    """Set the given card fields of a model; False when the board has no such model."""
    unknown = set(fields) - set(CARD_COLUMNS)
    if unknown:
        raise ValueError(f"not card columns: {sorted(unknown)}")
    if not fields:
        row = conn.execute("SELECT 1 FROM board_models WHERE leaderboard_id = ? AND name = ?",
                           (leaderboard_id, name)).fetchone()
        return row is not None
    assignments = ", ".join(f"{column} = :{column}" for column in fields)
    cur = conn.execute(
        f"UPDATE models SET {assignments} WHERE id = (SELECT id FROM board_models "
        "WHERE leaderboard_id = :board AND name = :name)",
        {**fields, "board": leaderboard_id, "name": name},
    )
    return cur.rowcount == 1
