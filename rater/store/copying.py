"""SQL for copying a whole database into a new one (``rater copy-db``; backups of a server database).

Every table is copied whole, row for row with the same ids and values, in :data:`COPY_TABLES`
order: parents before children, and matchups by ``served_at`` so that an original precedes its
quality-control repeats (foreign keys stay on and check every row). Each table is streamed in
pages, so neither side holds a whole table in memory.

The destination's triggers are set aside while the rows go in (:func:`set_rules_aside`): they
judge a *new* matchup or vote by the state of the moment (a rater whose audience membership was
revoked since still has old votes), and the catalog trigger would bump the copied
``catalog_version``. CHECKs, NOT NULLs, UNIQUEs and foreign keys stay on, so a row the
destination cannot hold (SQLite keeps ``released = '2024-13-01'``, PostgreSQL does not) stops
the copy, which the caller then rolls back.
"""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import DatabaseError
from .dialect import is_postgres
from .files import check_header
from .schema_pg import IDENTITY_TABLES

__all__ = [
    "COPY_TABLES",
    "blob_list",
    "check_tables",
    "clear_singletons",
    "count_rows",
    "copy_table",
    "keep_blob",
    "kept_blobs",
    "open_read_only",
    "restore_rules",
    "set_identities",
    "set_rules_aside",
    "sqlite_schema_version",
    "table_count",
]

#: Every table of the schema, in the order a copy fills them, with the key it is read by.
COPY_TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("host", ("singleton",)),
    ("catalog_version", ("singleton",)),
    ("benchmarks", ("id",)),
    ("leaderboards", ("id",)),
    ("blobs", ("sha256",)),
    ("prompts", ("id",)),
    ("models", ("id",)),
    ("media", ("id",)),
    ("import_batches", ("id",)),
    ("gold_pairs", ("id",)),
    ("matchups", ("served_at", "id")),
    ("votes", ("id",)),
    ("raters", ("leaderboard_id", "name")),
    ("runs", ("id",)),
    ("audiences", ("id",)),
    ("board_audiences", ("leaderboard_id", "audience_id")),
    ("audience_raters", ("id",)),
)
#: PostgreSQL's own tables, which its schema and the copy's media step fill (the schema
#: version; the media bytes, which SQLite keeps as files).
_SERVER_TABLES = {"rater_schema", "blob_data"}
#: PostgreSQL's own column: the transaction that wrote a vote (the copy's, on the copy).
_SERVER_COLUMNS = {"txid"}
_PAGE = 2000  # rows per read


def _tables(conn: Any) -> set[str]:
    if is_postgres(conn):
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    return {str(r[0]) for r in conn.execute(sql)}


def table_count(conn: Any) -> int:
    """How many tables the database has (0: an empty database, a copy's only destination)."""
    return len(_tables(conn))


def check_tables(conn: Any, location: str) -> None:
    """Refuse a database whose tables are not the ones this copy knows.

    :raises DatabaseError: a table is missing, or one the copy would leave behind exists.
    """
    found = _tables(conn) - _SERVER_TABLES
    known = {table for table, _ in COPY_TABLES}
    if found != known:
        extra, missing = sorted(found - known), sorted(known - found)
        raise DatabaseError(f"{location} does not have the tables of a rater database (unknown: "
                            f"{', '.join(extra) or 'none'}; missing: {', '.join(missing) or 'none'}): "
                            "nothing was copied")


def _columns(conn: Any, table: str) -> list[str]:
    cursor = conn.execute(f'SELECT * FROM "{table}" LIMIT 0')
    return [d[0] for d in cursor.description if d[0] not in _SERVER_COLUMNS]


def count_rows(conn: Any, table: str) -> int:
    """The table's rows."""
    return int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def _pages(conn: Any, table: str, columns: Sequence[str], key: Sequence[str]) -> Iterator[list[tuple[Any, ...]]]:
    """The table's rows in key order, :data:`_PAGE` at a time, streamed (a cursor on SQLite,
    ``COPY ... TO STDOUT`` on PostgreSQL), so a page costs the same anywhere in the table."""
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'SELECT {names} FROM "{table}" ORDER BY {", ".join(key)}'
    rows = iter(conn.copy_out(sql) if is_postgres(conn) else conn.execute(sql))
    while page := [tuple(r) for r in itertools.islice(rows, _PAGE)]:
        yield page


def copy_table(source: Any, dest: Any, table: str, key: Sequence[str], dest_name: str) -> int:
    """Insert every row of ``table`` of ``source`` into the same table of ``dest``; return how
    many. Both are read in the caller's transactions.

    :raises DatabaseError: the tables' columns differ, ``dest`` refuses a row, or fewer rows
        arrived than the table has (nothing of it should be kept then).
    """
    columns = _columns(source, table)
    if set(columns) != set(_columns(dest, table)):
        raise DatabaseError(f"table {table} has other columns in {dest_name}: nothing was copied")
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'
    copied = 0
    with contextlib.closing(_pages(source, table, columns, key)) as pages:  # ends a COPY left midway
        for page in pages:
            try:
                if is_postgres(dest):
                    dest.copy_rows(table, columns, page)
                else:
                    dest.executemany(sql, page)
            except sqlite3.Error as exc:
                raise DatabaseError(f"{dest_name} refused a row of {table} ({exc}): nothing was copied") from None
            copied += len(page)
    expected = count_rows(source, table)
    if copied != expected:
        raise DatabaseError(f"read {copied} rows of {table} where it has {expected}: nothing was copied")
    return copied


def clear_singletons(conn: Any) -> None:
    """Empty ``host`` and ``catalog_version``, which a new schema fills, for the copied rows."""
    conn.execute("DELETE FROM host")
    conn.execute("DELETE FROM catalog_version")


def set_rules_aside(conn: Any) -> list[str]:
    """Turn the database's triggers off, in the caller's transaction; return the statements
    that turn them back on (:func:`restore_rules`, in the same transaction)."""
    if is_postgres(conn):
        tables = [r[0] for r in conn.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE NOT t.tgisinternal AND n.nspname = current_schema() ORDER BY 1")]
        for table in tables:
            conn.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        return [f'ALTER TABLE "{table}" ENABLE TRIGGER USER' for table in tables]
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").fetchall()
    for name, _ in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    return [sql for _, sql in triggers]


def restore_rules(conn: Any, statements: Sequence[str]) -> None:
    """Turn back on the triggers :func:`set_rules_aside` turned off."""
    for statement in statements:
        conn.execute(statement)


def set_identities(conn: Any) -> None:
    """On PostgreSQL, move each identity column's sequence past the copied ids, so that the next
    row gets ``max(id) + 1`` as on SQLite (explicit ids do not advance it). A no-op on SQLite."""
    if not is_postgres(conn):
        return
    for table in IDENTITY_TABLES:
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                     f"coalesce(max(id), 0) + 1, false) FROM {table}")


def blob_list(conn: Any) -> list[tuple[str, str, str]]:
    """Every blob: ``(sha256, ext, kind)``, by hash."""
    return [(str(s), str(e), str(k)) for s, e, k in
            conn.execute("SELECT sha256, ext, kind FROM blobs ORDER BY sha256")]


def kept_blobs(conn: Any) -> Iterator[tuple[str, bytes]]:
    """``(sha256, bytes)`` of every blob PostgreSQL keeps, by hash, streamed (nothing on
    SQLite, whose bytes are files beside the database). Run nothing else on ``conn`` until it
    is read to the end or closed."""
    if not is_postgres(conn):
        return
    for sha256, data in conn.copy_out("SELECT sha256, data FROM blob_data ORDER BY sha256"):
        yield str(sha256), bytes(data)


def keep_blob(conn: Any, sha256: str, data: bytes) -> None:
    """Store the blob's bytes in PostgreSQL's ``blob_data`` (its row must be there)."""
    conn.execute("INSERT INTO blob_data (sha256, data) VALUES (?, ?)", (sha256, data))


def sqlite_schema_version(path: Path) -> int:
    """The schema version (``user_version``) of the SQLite file at ``path``, read without
    changing it or leaving files beside it (opening it as a store would migrate an older one).

    :raises DatabaseError: the file is not an SQLite database.
    """
    check_header(path)
    if not Path(f"{path}-wal").exists():  # closed cleanly: the header is the whole truth
        with open(path, "rb") as fh:
            header = fh.read(100)
        return int.from_bytes(header[60:64], "big") if len(header) == 100 else 0
    try:  # a WAL may hold commits the header does not show yet: ask SQLite
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise DatabaseError(f"{path} is not a usable SQLite database ({exc})") from None


def open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to the SQLite file at ``path``: a copy's source, left exactly as
    it is (a store's connection would switch it to WAL and migrate an older schema)."""
    check_header(path)
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None,
                               check_same_thread=False, timeout=30)
    except sqlite3.Error as exc:
        raise DatabaseError(f"cannot open database {path} ({exc})") from None
