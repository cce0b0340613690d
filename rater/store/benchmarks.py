"""SQL for benchmarks: their prompts, participants (models with a status), and runs.

A benchmark owns the prompts (each with a unique identifier), the participants and their media;
its leaderboards (``rater.store.catalog``) are criteria over it. A participant's status says
where it is shown: ``created`` (media stored, not rated), ``rating`` (rated on the leaderboards
it has a run on), ``disabled`` (not served, left out of standings, votes kept) and ``deleted``
(hidden everywhere; the row stays so its matchups and votes keep their references).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any
from .dialect import json_values

__all__ = [
    "PARTICIPANT_STATUSES",
    "add_run",
    "delete_unserved_media",
    "benchmark_ids",
    "benchmark_prompts",
    "find_benchmarks",
    "get_benchmark",
    "insert_benchmark",
    "insert_prompts",
    "insert_participant",
    "insert_participant_media",
    "participant_media",
    "participant_row",
    "participants",
    "participants_with_blobs",
    "rename_participant",
    "run_boards",
    "run_budgets",
    "run_rows",
    "set_participant_status",
    "update_prompt_tags",
]

PARTICIPANT_STATUSES = ("created", "rating", "disabled", "deleted")

#: A prompt to store: ``(identifier, text, tags, tag categories {tag: category}, asset sha256)``.
PromptRow = tuple[str, str, Sequence[str], dict[str, str], "str | None"]


def _rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def insert_benchmark(conn: sqlite3.Connection, bench: dict[str, Any], prompts: Sequence[PromptRow]) -> None:
    """Insert a benchmark row ``id, name, created_at`` and its prompts in order."""
    conn.execute("INSERT INTO benchmarks (id, name, created_at) VALUES (:id, :name, :created_at)", bench)
    insert_prompts(conn, bench["id"], prompts)


def insert_prompts(conn: sqlite3.Connection, benchmark_id: str, prompts: Sequence[PromptRow]) -> None:
    """Append prompts to the benchmark, after its last position."""
    start = conn.execute("SELECT coalesce(max(position) + 1, 0) FROM prompts WHERE benchmark_id = ?",
                         (benchmark_id,)).fetchone()[0]
    conn.executemany(
        "INSERT INTO prompts (benchmark_id, position, identifier, text, tags, tag_categories, asset_sha256) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(benchmark_id, start + i, ident, text, json.dumps(list(tags), ensure_ascii=False),
          json.dumps(categories, ensure_ascii=False, sort_keys=True), asset)
         for i, (ident, text, tags, categories, asset) in enumerate(prompts)],
    )


def get_benchmark(conn: sqlite3.Connection, benchmark_id: str) -> dict[str, Any] | None:
    """The benchmark row ``id, name, created_at``, or None."""
    rows = _rows(conn.execute("SELECT id, name, created_at FROM benchmarks WHERE id = ?", (benchmark_id,)))
    return rows[0] if rows else None


def benchmark_ids(conn: sqlite3.Connection) -> list[str]:
    """Every benchmark id, oldest first."""
    return [r[0] for r in conn.execute("SELECT id FROM benchmarks ORDER BY created_at, id")]


def find_benchmarks(conn: sqlite3.Connection, name: str) -> list[dict[str, Any]]:
    """Benchmarks whose name contains ``name`` (case-insensitive, folded in Python: SQLite's
    LIKE folds ASCII only), newest first."""
    needle = name.casefold()
    rows = _rows(conn.execute("SELECT id, name, created_at FROM benchmarks ORDER BY created_at DESC, id DESC"))
    return [r for r in rows if needle in r["name"].casefold()]


def benchmark_prompts(conn: sqlite3.Connection, benchmark_id: str) -> list[dict[str, Any]]:
    """The benchmark's prompts in order: ``id, position, identifier, text, tags, tag_categories,
    asset_sha256, asset_ext, asset_kind``."""
    rows = _rows(conn.execute(
        "SELECT p.id, p.position, p.identifier, p.text, p.tags, p.tag_categories, p.asset_sha256, "
        "b.ext AS asset_ext, b.kind AS asset_kind FROM prompts p "
        "LEFT JOIN blobs b ON b.sha256 = p.asset_sha256 WHERE p.benchmark_id = ? ORDER BY p.position",
        (benchmark_id,)))
    for row in rows:
        row["tags"] = json.loads(row["tags"])
        row["tag_categories"] = json.loads(row["tag_categories"])
    return rows


def update_prompt_tags(conn: sqlite3.Connection, benchmark_id: str, identifier: str,
                       tags: Sequence[str], categories: dict[str, str]) -> bool:
    """Replace a prompt's tags; False when the benchmark has no prompt of that identifier."""
    cur = conn.execute(
        "UPDATE prompts SET tags = ?, tag_categories = ? WHERE benchmark_id = ? AND identifier = ?",
        (json.dumps(list(tags), ensure_ascii=False), json.dumps(categories, ensure_ascii=False, sort_keys=True),
         benchmark_id, identifier))
    return cur.rowcount == 1


def insert_participant(conn: sqlite3.Connection, benchmark_id: str, name: str, now: float,
                       status: str = "created") -> int:
    """Add a participant (the name must be free among the benchmark's participants that are
    not deleted: the unique index ``models_by_name`` refuses a second one); return its id."""
    cur = conn.execute("INSERT INTO models (benchmark_id, name, created_at, status) VALUES (?, ?, ?, ?) RETURNING id",
                       (benchmark_id, name, now, status))
    return int(cur.fetchone()[0])


def participants(conn: sqlite3.Connection, benchmark_id: str, *, deleted: bool = False) -> list[dict[str, Any]]:
    """The benchmark's participants in the order they were added: ``id, name, status,
    created_at, media`` (deleted ones only with ``deleted``; the hidden gold participants of
    :mod:`rater.store.gold` never)."""
    where = " AND o.gold = 0" + ("" if deleted else " AND o.status <> 'deleted'")
    return _rows(conn.execute(
        "SELECT o.id, o.name, o.status, o.created_at, count(m.id) AS media FROM models o "
        f"LEFT JOIN media m ON m.model_id = o.id WHERE o.benchmark_id = ?{where} "
        "GROUP BY o.id ORDER BY o.created_at, o.id", (benchmark_id,)))


def participant_row(conn: sqlite3.Connection, benchmark_id: str, model_id: int) -> dict[str, Any] | None:
    """One participant of the benchmark (deleted ones too, gold ones never), as :func:`participants` lists them."""
    rows = _rows(conn.execute(
        "SELECT o.id, o.name, o.status, o.created_at, count(m.id) AS media FROM models o "
        "LEFT JOIN media m ON m.model_id = o.id WHERE o.benchmark_id = ? AND o.id = ? AND o.gold = 0 GROUP BY o.id",
        (benchmark_id, model_id)))
    return rows[0] if rows else None


def set_participant_status(conn: sqlite3.Connection, model_id: int, status: str) -> bool:
    """Set a participant's status; False when there is no such participant (or it is deleted)."""
    cur = conn.execute("UPDATE models SET status = ? WHERE id = ? AND status <> 'deleted'", (status, model_id))
    return cur.rowcount == 1


def rename_participant(conn: sqlite3.Connection, model_id: int, name: str) -> bool:
    """Rename a participant; False when there is no such participant (or it is deleted)."""
    cur = conn.execute("UPDATE models SET name = ? WHERE id = ? AND status <> 'deleted'", (name, model_id))
    return cur.rowcount == 1


def participant_media(conn: sqlite3.Connection, model_id: int) -> list[dict[str, Any]]:
    """A participant's media: ``id, prompt_id, identifier, sha256, ext, kind``, by prompt position."""
    return _rows(conn.execute(
        "SELECT m.id, m.prompt_id, p.identifier, m.sha256, b.ext, b.kind FROM media m "
        "JOIN prompts p ON p.id = m.prompt_id JOIN blobs b ON b.sha256 = m.sha256 "
        "WHERE m.model_id = ? ORDER BY p.position, m.id", (model_id,)))


def add_run(conn: sqlite3.Connection, leaderboard_id: str, model_id: int, now: float,
            budget: int | None = None) -> int:
    """Start a run of a participant on a leaderboard (from then on it is rated there while its
    status is ``rating``); ``budget`` is the board's response budget at the start. Returns its id."""
    if budget is None:
        row = conn.execute("SELECT response_budget FROM leaderboards WHERE id = ?", (leaderboard_id,)).fetchone()
        budget = row[0] if row else None
    cur = conn.execute("INSERT INTO runs (leaderboard_id, model_id, started_at, budget) VALUES (?, ?, ?, ?) RETURNING id",
                       (leaderboard_id, model_id, now, budget))
    return int(cur.fetchone()[0])


def run_rows(conn: sqlite3.Connection, leaderboard_id: str) -> list[dict[str, Any]]:
    """The board's runs, newest first: ``id, model_id, name, status, started_at, budget,
    votes`` (visible votes on the board involving the participant since the run started)."""
    from .votes import visible

    return _rows(conn.execute(
        "SELECT r.id, r.model_id, o.name, o.status, r.started_at, r.budget, "
        "(SELECT count(*) FROM matchups mu JOIN votes v ON v.matchup_id = mu.id "
        f" WHERE mu.leaderboard_id = r.leaderboard_id AND {visible('v')} AND v.voted_at >= r.started_at"
        "  AND (mu.left_model = r.model_id OR mu.right_model = r.model_id)) AS votes "
        "FROM runs r JOIN models o ON o.id = r.model_id WHERE r.leaderboard_id = ? "
        "AND o.status <> 'deleted' ORDER BY r.started_at DESC, r.id DESC", (leaderboard_id,)))


def participants_with_blobs(conn: sqlite3.Connection, benchmark_id: str, sha256s: set[str],
                            except_model: str) -> dict[str, list[str]]:
    """For each of ``sha256s`` stored for a participant of the benchmark other than
    ``except_model`` (deleted ones aside): those participants' names, sorted."""
    found: dict[str, list[str]] = {}
    rows = conn.execute(
        "SELECT DISTINCT m.sha256, o.name FROM media m JOIN models o ON o.id = m.model_id "
        "WHERE o.benchmark_id = ? AND o.status <> 'deleted' AND o.gold = 0 AND o.name != ? "
        f"AND m.sha256 IN (SELECT value FROM {json_values(conn, '?')}) ORDER BY m.sha256, o.name",
        (benchmark_id, except_model, json.dumps(sorted(sha256s))),
    )
    for sha, name in rows:
        found.setdefault(sha, []).append(name)
    return found


def insert_participant_media(conn: sqlite3.Connection, benchmark_id: str, model_id: int, prompt_id: int,
                             sha256: str, original_name: str, now: float) -> int:
    """Attach a stored blob to a participant and prompt of the benchmark; return the media id."""
    cur = conn.execute(
        "INSERT INTO media (benchmark_id, model_id, prompt_id, sha256, original_name, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id", (benchmark_id, model_id, prompt_id, sha256, original_name, now))
    return int(cur.fetchone()[0])


def run_boards(conn: sqlite3.Connection, model_id: int) -> set[str]:
    """The leaderboards the participant has a run on."""
    return {str(r[0]) for r in conn.execute("SELECT leaderboard_id FROM runs WHERE model_id = ?", (model_id,))}


def run_budgets(conn: sqlite3.Connection, leaderboard_id: str) -> dict[int, int]:
    """The response budget of each participant's run on the board (those that have one)."""
    return {int(m): int(b) for m, b in conn.execute(
        "SELECT model_id, min(budget) FROM runs WHERE leaderboard_id = ? AND budget IS NOT NULL "
        "GROUP BY model_id", (leaderboard_id,))}


def delete_unserved_media(conn: sqlite3.Connection, model_id: int) -> int:
    """Delete the participant's media rows no matchup refers to (served ones stay, so the
    history of votes keeps its references); their blobs become unused unless another row uses
    them, and ``rater gc`` may then remove the files. Returns how many rows went."""
    cur = conn.execute(
        "DELETE FROM media WHERE model_id = ? AND NOT EXISTS (SELECT 1 FROM matchups WHERE left_media = media.id) "
        "AND NOT EXISTS (SELECT 1 FROM matchups WHERE right_media = media.id)", (model_id,))
    return cur.rowcount
