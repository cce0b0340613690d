"""Opening the SQLite database: pragmas, schema versions, migrations and write transactions.

The ``rater.store`` package is the only place in the project that speaks SQL. This module opens a
connection with the settings every caller relies on (WAL, a long busy timeout, foreign keys,
durable commits), checks the schema version recorded in ``PRAGMA user_version`` and migrates an
older database forward in place, one ordered step at a time. A database written by a newer
version of the tool is refused, never migrated down.

A missing database is created only when the caller says so (``create=True``): a mistyped path
is an error naming it, never a new empty database. The :class:`~rater.store.store.Store` that
hands connections to threads lives in :mod:`rater.store.store`.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path


from ..errors import DatabaseError, SchemaTooNewError
from .files import check_header, file_identity, is_read_only, missing_database
from .schema import MIGRATIONS, SCHEMA_VERSION

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "connect",
    "file_identity",
    "migrate",
    "missing_database",
    "transaction",
]

BUSY_TIMEOUT_SECONDS = 30.0
_JITTER = random.Random()  # private: never draws from (or reseeds) the global generator

def _begin_immediate(conn: sqlite3.Connection) -> None:
    """``BEGIN IMMEDIATE``, waiting up to :data:`BUSY_TIMEOUT_SECONDS` for the write lock.

    SQLite's own busy handler sleeps 1, 2, 5, 10, ... up to 100 ms between tries: under many
    concurrent writers a waiter sleeps through the moments the lock is free and can starve for
    seconds. Polling at most 1 ms apart (with jitter, so waiters do not march in step) hands the
    lock over within about a millisecond. Writers of a :class:`~rater.store.store.Store` also
    queue on :mod:`rater.store.write_queue` first, so this wait is mostly for other programs'
    writes.
    """
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        delay = 0.00005
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise
            time.sleep(delay * (0.5 + _JITTER.random()))
            delay = min(delay * 2, 0.001)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection, *, durable: bool = True,
                single_statement: bool = False) -> Iterator[sqlite3.Connection]:
    """Run the block in one write transaction: all of it is committed, or none of it.

    ``BEGIN IMMEDIATE`` takes the write lock up front, so concurrent writers queue (see
    :func:`_begin_immediate`) instead of failing with "database is locked" when a read upgrades
    to a write. When the block or the ``COMMIT`` fails, the transaction is rolled back, so the
    connection is never left inside a half-done transaction. A PostgreSQL connection takes its
    database's write lock instead (:meth:`rater.store.postgres.PgConnection.begin_write`, where
    ``durable`` applies; SQLite's commits are made unsynced by the store instead), and a
    ``single_statement`` block (one statement the schema alone keeps correct) runs there on its
    own, without the lock; SQLite has one writer at a time whatever the block.
    """
    if conn.in_transaction:  # nested: the outer block owns commit and rollback
        yield conn
        return
    begin_write = getattr(conn, "begin_write", None)
    if begin_write is not None:
        begin_write(durable=durable, single_statement=single_statement)
    else:
        _begin_immediate(conn)
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite may have rolled back already (disk full, I/O error)
            conn.execute("ROLLBACK")
        raise


def _translate(path: Path, exc: sqlite3.Error) -> DatabaseError:
    message = str(exc)
    if "file is not a database" in message or "malformed" in message:
        return DatabaseError(f"{path} is not a usable SQLite database ({message})")
    if "readonly" in message or "read-only" in message:
        return DatabaseError(f"{path} is read-only: cannot write to it ({message})")
    if "unable to open" in message:
        return DatabaseError(f"cannot open database {path} ({message})")
    return DatabaseError(f"database {path}: {message}")


def _checked_version(conn: sqlite3.Connection, path: Path | str) -> int:
    """The schema version, after refusing a newer schema or another program's database."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"{path} has schema version {version}, newer than this tool's {SCHEMA_VERSION}: "
            "upgrade rater to open it (the file was left untouched)"
        )
    if version == 0:
        _refuse_foreign(conn, path)
    return version


def migrate(conn: sqlite3.Connection, path: Path | str = "database") -> int:
    """Bring the schema up to :data:`SCHEMA_VERSION` in place and return the version found.

    Each step runs in its own transaction together with the ``user_version`` bump, so an
    interrupted migration leaves the database at the last completed version.

    :raises SchemaTooNewError: the file was written by a newer version of this tool.
    """
    found = _checked_version(conn, path)
    if found == SCHEMA_VERSION:
        return found
    # A step may rebuild a table (SQLite cannot change a constraint in place), which needs the
    # foreign keys off (the switch only works outside a transaction); each step is checked
    # with ``foreign_key_check`` before it commits instead.
    enforced = conn.execute("PRAGMA foreign_keys").fetchone()[0]
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for version in range(found, SCHEMA_VERSION):
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Re-read inside the lock: another process may have migrated meanwhile.
                current = conn.execute("PRAGMA user_version").fetchone()[0]
                if current == version:
                    MIGRATIONS[version](conn)
                    broken = conn.execute("PRAGMA foreign_key_check").fetchone()
                    if broken is not None:
                        raise DatabaseError(
                            f"{path}: schema step {version + 1} would leave a row of {broken[0]} "
                            f"referring to a missing row of {broken[2]}; the database is unchanged"
                        )
                    conn.execute(f"PRAGMA user_version = {version + 1}")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
    finally:
        conn.execute(f"PRAGMA foreign_keys = {'ON' if enforced else 'OFF'}")
    return found


def _refuse_foreign(conn: sqlite3.Connection, path: Path | str) -> None:
    tables = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchone()[0]
    if tables:
        raise DatabaseError(
            f"{path} is an SQLite database of something else ({tables} tables, no rater "
            "schema version): refusing to modify it"
        )


def connect(path: Path | str, *, create: bool = False, checked: bool = False) -> sqlite3.Connection:
    """Open the database at ``path``, migrated to the current schema.

    :param create: make the file (and its folder) when it does not exist.
    :param checked: this process has the file open already (its header was checked): do not
        read it again. Closing any other handle on the file drops every lock SQLite holds on it
        in this process (POSIX locks), and another process closing its last connection would
        then delete the write-ahead log under ours: commits lost, "disk I/O error".
    :raises DatabaseNotFound: there is no file at ``path`` and ``create`` is false.
    :raises DatabaseError: the file is not SQLite, is corrupt, read-only where a write was
        needed, or has a newer schema version.
    """
    path = Path(path)
    if path.is_dir():
        raise DatabaseError(f"{path} is a directory, not a database file")
    read_only = False
    if path.exists():
        if not checked:
            check_header(path)
        read_only = is_read_only(path)
    elif not create:
        raise missing_database(path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    # mode=rw never creates the file, should it vanish after the check above; a read-only
    # file is opened read-only: root could write to it anyway, but must not.
    mode = "ro" if read_only else "rwc" if create else "rw"
    try:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode={mode}", timeout=BUSY_TIMEOUT_SECONDS,
            isolation_level=None, check_same_thread=False, uri=True,
        )
    except sqlite3.Error as exc:
        if not create and not path.exists():
            raise missing_database(path) from None
        raise _translate(path, exc) from exc
    try:
        _configure(conn, path, read_only)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.Error):
            raise _translate(path, exc) from exc
        raise
    return conn


def _configure(conn: sqlite3.Connection, path: Path, read_only: bool = False) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    version = _checked_version(conn, path)
    if read_only:
        if version < SCHEMA_VERSION:
            raise DatabaseError(
                f"{path} is read-only and has schema version {version}: make it writable once "
                f"so it can be migrated to version {SCHEMA_VERSION}"
            )
    else:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise DatabaseError(f"{path}: could not switch to WAL mode (got {mode})")
    conn.execute("PRAGMA synchronous = FULL")
    if version < SCHEMA_VERSION:
        migrate(conn, path)
