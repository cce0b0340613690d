"""SQL for garbage collection: which stored blobs any row still uses.

A blob is in use when any column declared ``REFERENCES blobs(sha256)`` names it (today
``media.sha256`` and ``prompts.asset_sha256``). The columns are read from the schema itself,
so a table added by a later migration protects its blobs without a change here.
"""

from __future__ import annotations

import binascii
import hashlib
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import MediaError
from .dialect import is_postgres

__all__ = ["all_blobs", "delete_blobs", "keep_ahead", "keep_bytes", "referencing_columns", "used_blobs"]

_CHUNK = 1 << 19  # bytes of a file sent to the server at a time (twice that as hex)


def referencing_columns(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """``(table, column)`` of every foreign key onto ``blobs`` (but ``blob_data``, PostgreSQL's
    bytes of each blob, which goes with its row)."""
    if is_postgres(conn):
        return [(str(t), str(c)) for t, c in conn.execute(
            "SELECT k.table_name, k.column_name FROM information_schema.referential_constraints r "
            "JOIN information_schema.key_column_usage k ON k.constraint_name = r.constraint_name "
            "AND k.constraint_schema = r.constraint_schema "
            "JOIN information_schema.constraint_column_usage u ON u.constraint_name = r.unique_constraint_name "
            "AND u.constraint_schema = r.unique_constraint_schema "
            "WHERE u.table_name = 'blobs' AND k.table_schema = current_schema() AND k.table_name <> 'blob_data' "
            "ORDER BY 1, 2")]
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    )]
    found = []
    for table in tables:
        for fk in conn.execute("SELECT \"table\", \"from\" FROM pragma_foreign_key_list(?)", (table,)):
            if fk[0] == "blobs":
                found.append((table, fk[1]))
    return found


def used_blobs(conn: sqlite3.Connection) -> set[str]:
    """The sha256 of every blob some row refers to."""
    used: set[str] = set()
    for table, column in referencing_columns(conn):
        used.update(r[0] for r in conn.execute(
            f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'
        ))
    return used


def keep_bytes(conn: sqlite3.Connection, sha256: str, path: Path) -> None:
    """On PostgreSQL, store the bytes of the blob ``sha256`` (the file at ``path``) in the
    database, so that every host can serve it; in the caller's write transaction, after its
    row. A no-op on SQLite, whose media folder beside the file is the store, and for bytes
    already kept.

    The file is streamed (``COPY``, a chunk at a time), so memory does not grow with its size;
    bytes that do not hash to ``sha256`` (the file changed) are refused and the caller's
    transaction fails.
    """
    if not is_postgres(conn):
        return
    if conn.execute("SELECT 1 FROM blob_data WHERE sha256 = ?", (sha256,)).fetchone() is not None:
        return
    if conn.execute("SELECT 1 FROM blobs WHERE sha256 = ?", (sha256,)).fetchone() is None:
        return
    digest = hashlib.sha256()

    def field() -> Iterator[bytes]:  # one COPY text line: sha256 TAB \\x<hex> NEWLINE
        yield f"{sha256}\t\\\\x".encode()
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                digest.update(chunk)
                yield binascii.hexlify(chunk)
        yield b"\n"

    conn.copy_in("blob_data", ("sha256", "data"), field())
    if digest.hexdigest() != sha256:
        raise MediaError(f"stored medium {path} changed since it was checked: add it again")


def keep_ahead(conn: sqlite3.Connection, rows: Iterable[tuple[str, str, str, str, int, Path]]) -> list[str]:
    """On PostgreSQL, store blob rows ``(sha256, kind, mime, ext, size, file)`` and their bytes
    (:func:`keep_bytes`) before the write transaction that uses them, in a transaction of their
    own that does not take the write lock, so a vote never waits while a large file is sent.

    Blobs are content-addressed and written only if missing, so no rule of the store depends on
    the lock here. Until a row uses it, a blob may be removed by ``rater gc``: the using
    transaction then stores it again (its :func:`keep_bytes` sends the bytes under the lock).
    Returns the blobs this call added (for the caller to remove, if unused, when it fails);
    nothing on SQLite, or when the connection is already in a transaction.
    """
    if not is_postgres(conn) or conn.in_transaction:
        return []
    from .catalog import insert_blob

    added = []
    conn.execute("BEGIN")
    try:
        for sha256, kind, mime, ext, size, path in rows:
            if conn.execute("SELECT 1 FROM blobs WHERE sha256 = ?", (sha256,)).fetchone() is None:
                insert_blob(conn, sha256, kind, mime, ext, size)
                added.append(sha256)
            keep_bytes(conn, sha256, path)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return added


def all_blobs(conn: sqlite3.Connection) -> dict[str, str]:
    """Every blob row: ``sha256 -> ext``."""
    return {sha: ext for sha, ext in conn.execute("SELECT sha256, ext FROM blobs")}


def delete_blobs(conn: sqlite3.Connection, sha256s: Iterable[str]) -> int:
    """Delete these blob rows; a row still referred to is refused by its foreign key."""
    cur = conn.executemany("DELETE FROM blobs WHERE sha256 = ?", [(s,) for s in sha256s])
    return cur.rowcount
