"""SQL that checks a whole database and copies it online: the integrity check (``PRAGMA
integrity_check`` and foreign keys on SQLite, dangling foreign keys on PostgreSQL), the ids of
every voted matchup, and SQLite's online backup into a new file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from .dialect import is_postgres
from .votes import visible

__all__ = ["backup_to", "check_integrity", "voted_matchup_ids"]

# Every foreign key of the schema: (table, referenced table, [columns], [referenced columns]).
_PG_FOREIGN_KEYS = (
    "SELECT CAST(c.conrelid AS regclass) AS child, CAST(c.confrelid AS regclass) AS parent, "
    "array_agg(a.attname ORDER BY k.n), array_agg(f.attname ORDER BY k.n) FROM pg_constraint c "
    "CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(a, f, n) "
    "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.a "
    "JOIN pg_attribute f ON f.attrelid = c.confrelid AND f.attnum = k.f "
    "WHERE c.contype = 'f' AND c.connamespace = CAST(current_schema() AS regnamespace) "
    "GROUP BY c.oid, c.conrelid, c.confrelid ORDER BY 1, 2"
)


def _pg_dangling(conn: Any) -> list[str]:
    """Rows whose foreign key names no row (the server checks each write, but not rows written
    with its checks set aside, as a copy may)."""
    problems = []
    for child, parent, columns, targets in conn.execute(_PG_FOREIGN_KEYS).fetchall():
        joined = " AND ".join(f'p."{t}" = c."{col}"' for col, t in zip(columns, targets))
        present = " AND ".join(f'c."{col}" IS NOT NULL' for col in columns)
        problems += [f"dangling reference in {child} row {r[0]} to {parent}" for r in conn.execute(
            f"SELECT CAST(c.ctid AS text) FROM {child} c WHERE {present} "
            f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {joined})").fetchall()]
    return problems


def check_integrity(conn: sqlite3.Connection) -> list[str]:
    """Problems found by ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check`` (on
    PostgreSQL, whose server keeps its own files sound: rows with a dangling foreign key);
    empty when the database is sound."""
    if is_postgres(conn):
        return _pg_dangling(conn)
    problems = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"]
    problems += [
        f"dangling reference in {table} row {rowid} to {parent}"
        for table, rowid, parent, _ in conn.execute("PRAGMA foreign_key_check").fetchall()
    ]
    return problems


def voted_matchup_ids(conn: sqlite3.Connection) -> set[str]:
    """Ids of every matchup that has a vote, on any board."""
    return {r[0] for r in conn.execute(f"SELECT matchup_id FROM votes v WHERE {visible('v')}")}


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
