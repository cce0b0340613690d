"""SQL for moving votes between hosts (export / import) and for online backups.

Rows cross hosts by *stable* identities only: a matchup by its uuid4 hex id, a media by
``(model name, prompt text, sha256)``. Local row ids (media, models, prompts) differ from host to
host and never leave this module's callers in an export.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = [
    "backup_to",
    "board_media",
    "check_integrity",
    "existing_matchups",
    "existing_votes",
    "exported_matchups",
    "exported_votes",
    "host_id",
    "insert_imported_vote",
    "read_snapshot",
    "voted_matchup_ids",
]

_CHUNK = 500  # ids per IN (...) list, far below SQLite's variable limit


def _rows(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


@contextlib.contextmanager
def read_snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A read transaction: every query in the block sees the same committed state."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN DEFERRED")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


def host_id(conn: sqlite3.Connection) -> str:
    """This database's host id: 32 hex digits, made once by the schema v2 migration."""
    return str(conn.execute("SELECT id FROM host").fetchone()[0])


# Matchups with everything that identifies them across hosts.
_MATCHUP_EXPORT = (
    "SELECT mu.id, mu.leaderboard_id, p.text AS prompt, lo.name AS left_model, "
    "lm.sha256 AS left_sha256, ro.name AS right_model, rm.sha256 AS right_sha256, mu.rater, "
    "mu.served_at, mu.repeat_of FROM matchups mu JOIN prompts p ON p.id = mu.prompt_id "
    "JOIN media lm ON lm.id = mu.left_media JOIN models lo ON lo.id = mu.left_model "
    "JOIN media rm ON rm.id = mu.right_media JOIN models ro ON ro.id = mu.right_model "
)


def exported_matchups(conn: sqlite3.Connection, leaderboard_id: str) -> list[dict[str, Any]]:
    """The board's voted matchups plus every matchup they repeat (transitively), originals first.

    Unvoted matchups stay home: another host importing one could serve it to the same rater and
    collect a vote that conflicts with the one this host may still collect.
    """
    rows = _rows(
        conn.execute(
            "WITH RECURSIVE wanted(id) AS ("
            " SELECT v.matchup_id FROM votes v JOIN matchups mu ON mu.id = v.matchup_id"
            " WHERE mu.leaderboard_id = ?"
            " UNION SELECT mu.repeat_of FROM matchups mu JOIN wanted w ON w.id = mu.id"
            " WHERE mu.repeat_of IS NOT NULL) "
            + _MATCHUP_EXPORT
            + "WHERE mu.id IN (SELECT id FROM wanted) ORDER BY mu.served_at, mu.rowid",
            (leaderboard_id,),
        )
    )
    # A repeat is served after its original, but clocks of different hosts may disagree:
    # emit originals first so an importer can insert in file order.
    emitted: set[str] = set()
    by_id = {r["id"]: r for r in rows}
    ordered: list[dict[str, Any]] = []

    def emit(row: dict[str, Any]) -> None:
        chain = []
        while row["id"] not in emitted:
            chain.append(row)
            emitted.add(row["id"])
            parent = by_id.get(row["repeat_of"] or "")
            if parent is None:
                break
            row = parent
        ordered.extend(reversed(chain))

    for row in rows:
        emit(row)
    return ordered


def exported_votes(conn: sqlite3.Connection, leaderboard_id: str) -> list[dict[str, Any]]:
    """The board's votes in the order they were stored: ``id`` (local), ``matchup_id, rater,
    choice, voted_at, origin`` (``origin`` is the host that first recorded the vote; this host
    when local)."""
    return _rows(
        conn.execute(
            "SELECT v.id, v.matchup_id, v.rater, v.choice, v.voted_at, coalesce(v.origin, ?) AS origin "
            "FROM votes v JOIN matchups mu ON mu.id = v.matchup_id "
            "WHERE mu.leaderboard_id = ? ORDER BY v.id",
            (host_id(conn), leaderboard_id),
        )
    )


def existing_matchups(conn: sqlite3.Connection, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Matchups already stored under any of ``ids`` (on any board), in export form."""
    out: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(ids))):
        marks = ", ".join("?" * len(chunk))
        for row in _rows(conn.execute(_MATCHUP_EXPORT + f"WHERE mu.id IN ({marks})", chunk)):
            out[row["id"]] = row
    return out


def existing_votes(conn: sqlite3.Connection, matchup_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Votes already stored on any of ``matchup_ids``, keyed by matchup id."""
    here = host_id(conn)
    out: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(matchup_ids))):
        marks = ", ".join("?" * len(chunk))
        sql = (
            "SELECT matchup_id, rater, choice, voted_at, coalesce(origin, ?) AS origin FROM votes "
            f"WHERE matchup_id IN ({marks})"
        )
        for row in _rows(conn.execute(sql, [here, *chunk])):
            out[row["matchup_id"]] = row
    return out


def board_media(conn: sqlite3.Connection, leaderboard_id: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The board's media keyed by ``(model name, prompt text, sha256)``: ``id, model_id,
    prompt_id``."""
    rows = conn.execute(
        "SELECT o.name, p.text, m.sha256, m.id, m.model_id, m.prompt_id FROM media m "
        "JOIN models o ON o.id = m.model_id JOIN prompts p ON p.id = m.prompt_id "
        "WHERE m.leaderboard_id = ?",
        (leaderboard_id,),
    )
    return {
        (model, prompt, sha): {"id": mid, "model_id": model_id, "prompt_id": prompt_id}
        for model, prompt, sha, mid, model_id, prompt_id in rows
    }


def insert_imported_vote(
    conn: sqlite3.Connection, matchup_id: str, rater: str, choice: str, voted_at: float, origin: str
) -> None:
    """Store a vote that another host recorded, with that host's id (``origin``; a vote that
    comes home, or one from an unknown host, is stored with origin NULL: "recorded here")."""
    conn.execute(
        "INSERT INTO votes (matchup_id, rater, choice, voted_at, origin) VALUES (?, ?, ?, ?, ?)",
        (matchup_id, rater, choice, voted_at, None if origin in ("", host_id(conn)) else origin),
    )


def check_integrity(conn: sqlite3.Connection) -> list[str]:
    """Problems found by ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check``; empty
    when the database is sound."""
    problems = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"]
    problems += [
        f"dangling reference in {table} row {rowid} to {parent}"
        for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check").fetchall()
    ]
    return problems


def voted_matchup_ids(conn: sqlite3.Connection) -> set[str]:
    """Ids of every matchup that has a vote, on any board."""
    return {r[0] for r in conn.execute("SELECT matchup_id FROM votes")}


def backup_to(source: sqlite3.Connection, target: Path) -> dict[str, Any]:
    """Copy the whole database into a new file with SQLite's online backup API.

    One step (``pages=-1``) copies every page inside a single read transaction, so the copy is
    the state of one commit even while others keep writing: a stepwise backup would restart on
    every concurrent write and might never finish under load. The copy is switched out of WAL
    so it is one self-contained file.

    :returns: ``matchups`` and ``votes`` counts of the copy and its ``blobs`` as
        ``(sha256, ext)`` pairs, read back from the copy itself.
    :raises sqlite3.DatabaseError: the copy fails its integrity or foreign-key check.
    """
    dest = sqlite3.connect(target, isolation_level=None)
    try:
        source.backup(dest, pages=-1)
        dest.execute("PRAGMA journal_mode = DELETE")
        problems = check_integrity(dest)
        if problems:
            raise sqlite3.DatabaseError("the copy failed its checks: " + "; ".join(problems[:5]))
        return {
            "matchups": dest.execute("SELECT count(*) FROM matchups").fetchone()[0],
            "votes": dest.execute("SELECT count(*) FROM votes").fetchone()[0],
            "blobs": dest.execute("SELECT sha256, ext FROM blobs ORDER BY sha256").fetchall(),
        }
    finally:
        dest.close()
