"""What a database holds, read the same way on SQLite and PostgreSQL, for "changes nothing" checks.

:func:`dump_database` reads the schema (tables with their columns, indexes, triggers, views) and
every row of every table, each table's rows sorted, so two dumps are equal exactly when the
database holds the same things. It reads through the store's connection (``?`` placeholders work
on both). PostgreSQL sequences are left out: a rolled-back insert still moves a sequence on,
which is no change of what the database holds. :func:`snapshot` adds the store's media folder
(on PostgreSQL: this host's media cache), file by file.

Example::

    before = snapshot(client.store)
    with pytest.raises(ValidationError):
        client.mri.create_new_leaderboard("", "Which?", ["p"])
    assert snapshot(client.store) == before
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from rater.store.dialect import is_postgres

__all__ = ["dump_database", "media_files", "snapshot", "table_names"]


def table_names(conn: Any) -> list[str]:
    """The database's tables (the rater schema's and any other), by name."""
    if is_postgres(conn):
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    return [r[0] for r in conn.execute(sql).fetchall()]


def _schema(conn: Any) -> list[tuple[Any, ...]]:
    if not is_postgres(conn):
        return [tuple(r) for r in conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()]
    queries = (
        "SELECT 'column', table_name, column_name, data_type, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_schema = current_schema()",
        "SELECT 'index', tablename, indexname, indexdef, '', '' FROM pg_indexes "
        "WHERE schemaname = current_schema()",
        "SELECT 'trigger', event_object_table, trigger_name, event_manipulation, action_timing, "
        "action_statement FROM information_schema.triggers WHERE trigger_schema = current_schema()",
        "SELECT 'view', viewname, definition, '', '', '' FROM pg_views WHERE schemaname = current_schema()",
    )
    return sorted((tuple(r) for q in queries for r in conn.execute(q).fetchall()), key=repr)


def _value(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview) else value


def dump_database(conn: Any) -> dict[str, Any]:
    """``{"schema": [...], "tables": {name: sorted rows}}`` of the whole database."""
    tables = {}
    for name in table_names(conn):
        rows = conn.execute(f'SELECT * FROM "{name}"').fetchall()
        tables[name] = sorted((tuple(_value(v) for v in row) for row in rows), key=repr)
    return {"schema": _schema(conn), "tables": tables}


def media_files(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative path -> sha256 of its bytes); empty when there is none."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def snapshot(store: Any) -> dict[str, Any]:
    """The store's whole database (:func:`dump_database`) and its media folder (:func:`media_files`)."""
    return {"database": dump_database(store.conn), "media": media_files(store.media_dir)}
