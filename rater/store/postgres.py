"""Opening a PostgreSQL database: the connection the store's code speaks to, and its schema.

:class:`PgConnection` wraps a psycopg 3 connection so that it looks like the
:class:`sqlite3.Connection` the store's modules use: ``execute`` takes the same ``?``
placeholders and returns a cursor with ``fetchone``/``fetchall``/``rowcount``/``description``,
``in_transaction`` says whether a transaction is open, and errors arrive as the DB-API exception
classes of the :mod:`sqlite3` module (a broken constraint, or a trigger's refusal, as
:class:`sqlite3.IntegrityError`), so every ``except`` in the project works on both databases.
Only the placeholders are rewritten; where the dialects differ, :mod:`rater.store.dialect`
spells each.

Writes are serialised as on SQLite: :meth:`PgConnection.begin_write` takes one advisory lock per
database for the whole transaction, as SQLite's ``BEGIN IMMEDIATE`` takes the write lock, so
every check-then-insert rule of the store (no pair twice to a rater, a repeat only of an
unrepeated original) holds unchanged across processes and hosts. The one exception is a
single-statement write (a plain vote): one INSERT that the schema alone keeps correct, which
commits on its own without the lock, so concurrent votes share the server's WAL flushes.

The schema is created at the current version in one step (:mod:`rater.store.schema_pg`); the
version lives in ``rater_schema``. A database of something else, or of a newer version, is
refused untouched; an empty one is given the schema only when the caller asks to create.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import DatabaseError, DatabaseNotFound, SchemaTooNewError

__all__ = ["PgConnection", "WRITE_LOCK_KEY", "connect_postgres", "display_url", "install_schema",
           "open_connection"]

#: The advisory lock every write transaction holds (an arbitrary 64-bit constant: "rater" + 1).
WRITE_LOCK_KEY = 0x7261746572_01
#: How long a writer waits for the lock, and a statement for a row lock, before giving up.
LOCK_TIMEOUT_SECONDS = 30


def display_url(url: str) -> str:
    """``url`` with any password replaced by ``***``: what messages and logs may show."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "")
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[-1]}"))


@functools.lru_cache(maxsize=4096)
def _placeholders(sql: str) -> str:
    """``?`` and ``:name`` outside quotes become ``%s`` and ``%(name)s``; a literal ``%``
    becomes ``%%`` (psycopg's syntax)."""
    out: list[str] = []
    quote = ""
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            out.append("%s")
            i += 1
            continue
        elif ch == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_") and sql[i - 1:i] != ":":
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            out.append(f"%({sql[i + 1:j]})s")
            i = j
            continue
        out.append("%%" if ch == "%" else ch)
        i += 1
    return "".join(out)


def _translated(exc: Exception, location: str) -> sqlite3.Error:
    import psycopg

    diag = getattr(exc, "diag", None)
    message = (getattr(diag, "message_primary", None) or str(exc)).strip().splitlines()[0]
    if isinstance(exc, (psycopg.errors.IntegrityError, psycopg.errors.RaiseException)) or (
        getattr(exc, "sqlstate", "") or "").startswith("23"):
        return sqlite3.IntegrityError(message)
    if isinstance(exc, psycopg.errors.LockNotAvailable):
        return sqlite3.OperationalError(f"database is locked ({message})")
    if isinstance(exc, psycopg.OperationalError):
        return sqlite3.OperationalError(f"{location}: {message}")
    return sqlite3.DatabaseError(message)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """A value as a field of ``COPY``'s text format (psycopg's own row formatting, in pure
    Python, costs several times more): NULL is ``\\N``; text escapes backslash, tab and line
    breaks; a float's ``repr`` reads back as the same double."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\\\x" + bytes(value).hex()
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"cannot copy a {type(value).__name__} value into PostgreSQL: {value!r}")


class PgConnection:
    """A psycopg connection that the store's SQLite-shaped code can use unchanged."""

    dialect = "postgresql"

    def __init__(self, raw: Any, location: str) -> None:
        self.raw = raw  # the psycopg connection
        self.location = location
        self._single = ""  # a single-statement write: "pending" until its statement ran, then "done"

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> Any:
        import psycopg

        if self._single:
            if self._single == "done":
                return self._after_single_statement(sql)
            self._single = "done"  # the statement runs alone, and commits by itself
            if sql in ("COMMIT", "ROLLBACK"):
                return self._after_single_statement(sql)
        try:
            if params is None:
                return self.raw.execute(sql)
            return self.raw.execute(_placeholders(sql), params if isinstance(params, Mapping) else tuple(params))
        except psycopg.Error as exc:
            raise self._translated(exc) from exc

    def _translated(self, exc: Exception) -> sqlite3.Error:
        if self.raw.closed and not self.raw.broken:  # closed by close(), as sqlite3 says it
            return sqlite3.ProgrammingError("Cannot operate on a closed database.")
        return _translated(exc, self.location)

    def _after_single_statement(self, sql: str | None) -> Any:
        """The block of a single-statement write ends (its statement committed by itself), or
        it runs a second statement, which it must not: that would not be part of the first."""
        if sql not in ("COMMIT", "ROLLBACK"):
            raise sqlite3.ProgrammingError("a single-statement write ran a second statement "
                                           "(use write() for a transaction of several)")
        self._single = ""
        return self.raw.cursor()

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        import psycopg

        cur = self.raw.cursor()
        try:
            cur.executemany(_placeholders(sql), [r if isinstance(r, Mapping) else tuple(r) for r in rows])
        except psycopg.Error as exc:
            raise self._translated(exc) from exc
        return cur

    @property
    def broken(self) -> bool:
        """The connection was lost (the server restarted or went away): the store opens another."""
        return bool(self.raw.closed or self.raw.broken)

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Insert ``rows`` into ``table`` with ``COPY ... FROM STDIN``: many times faster than
        :meth:`executemany` for a whole table (constraints and triggers apply as to INSERT)."""

        text = "".join("\t".join(map(_copy_text, row)) + "\n" for row in rows)
        self.copy_in(table, columns, [text.encode()])

    def copy_in(self, table: str, columns: Sequence[str], chunks: Iterable[bytes]) -> None:
        """``COPY ... FROM STDIN`` of data already in COPY's text format, sent chunk by chunk as
        ``chunks`` yields them (so a large value never has to be in memory whole)."""
        import psycopg

        names = ", ".join(f'"{c}"' for c in columns)
        try:
            with self.raw.cursor().copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                for chunk in chunks:
                    copy.write(chunk)
        except psycopg.Error as exc:
            raise _translated(exc, self.location) from exc

    def copy_out(self, sql: str) -> Iterator[tuple[Any, ...]]:
        """The rows of the query ``sql`` (no parameters), streamed by ``COPY (...) TO STDOUT``
        and loaded as :meth:`execute` loads them: several times faster for a whole table. Run
        nothing else on this connection until the rows are all read."""
        import psycopg

        try:
            types = [d.type_code for d in self.raw.execute(f"SELECT * FROM ({sql}) AS q LIMIT 0").description]
            with self.raw.cursor().copy(f"COPY ({sql}) TO STDOUT") as copy:
                copy.set_types(types)
                yield from copy.rows()
        except psycopg.Error as exc:
            raise _translated(exc, self.location) from exc

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return bool(self._single) or self.raw.info.transaction_status != TransactionStatus.IDLE

    def begin_write(self, *, durable: bool = True, single_statement: bool = False) -> None:
        """``BEGIN`` and take the database's write lock (waiting up to the lock timeout), in one
        round trip: the block then runs holding the lock, as after SQLite's ``BEGIN IMMEDIATE``.

        :param durable: False commits this transaction without waiting for the WAL flush
            (``synchronous_commit = off`` for it only): for writes whose loss in a crash of
            the server is harmless, never for an acknowledged vote.
        :param single_statement: the block is one statement that the schema alone keeps
            correct (a plain vote: one per matchup by its unique key, the rater's by the
            foreign key, an audience's by its trigger), with no check before it that other
            writers could make stale. It then runs on its own, committing by itself, without
            the write lock: one round trip, and concurrent votes share the server's WAL
            flushes (group commit) instead of waiting for each other's. A second statement
            in the block is refused.
        """
        if single_statement:
            self._single = "pending"
            return
        local = "" if durable else " SET LOCAL synchronous_commit = off;"
        try:
            self.execute(f"BEGIN;{local} SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY:d})")  # one round trip
        except BaseException:
            if self.in_transaction:
                self.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._single = ""
        self.raw.close()


def _numeric_loader() -> Any:
    """PostgreSQL's sum of a bigint and its avg are ``numeric``: load them as int (when whole)
    or float, the types SQLite gives, rather than :class:`decimal.Decimal`."""
    from psycopg.types.numeric import NumericLoader

    class Loader(NumericLoader):
        def load(self, data: Any) -> Any:  # type: ignore[override]
            value = super().load(data)
            return int(value) if value == value.to_integral_value() else float(value)

    return Loader


def connect_postgres(url: str, *, create: bool = False) -> PgConnection:
    """Open the PostgreSQL database at ``url``, with the rater schema (created if asked).

    :raises DatabaseNotFound: the server has no such database, or it has no rater schema and
        ``create`` is false.
    :raises DatabaseError: the server cannot be reached, or the database holds something else
        or a newer schema version.
    """
    conn = open_connection(url)
    try:
        _check_schema(conn, conn.location, create)
    except BaseException:
        conn.close()
        raise
    return conn


def open_connection(url: str) -> PgConnection:
    """A connection to the server database at ``url``, whatever it holds (no schema check:
    :func:`connect_postgres` is the usual way in).

    :raises DatabaseNotFound: the server has no such database.
    :raises DatabaseError: psycopg is missing, or the server cannot be reached.
    """
    shown = display_url(url)
    try:
        import psycopg
    except ImportError:
        raise DatabaseError(f"{shown}: PostgreSQL needs psycopg: pip install 'rater[postgresql]'") from None
    try:
        raw = psycopg.connect(url, autocommit=True, connect_timeout=10, application_name="rater")
    except psycopg.Error as exc:
        message = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        if "does not exist" in message and "database" in message:
            raise DatabaseNotFound(f"no database at {shown}: the server has no such database; create "
                                   "it first (createdb, or CREATE DATABASE), then `rater init`") from None
        raise DatabaseError(f"cannot connect to {shown} ({message})") from None
    conn = PgConnection(raw, shown)
    try:
        raw.adapters.register_loader("numeric", _numeric_loader())
        conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT_SECONDS}s'")
    except BaseException:
        raw.close()
        raise
    return conn


def _version(conn: PgConnection) -> int | None:
    if conn.execute("SELECT to_regclass('rater_schema')").fetchone()[0] is None:
        return None
    row = conn.execute("SELECT version FROM rater_schema").fetchone()
    return int(row[0]) if row else 0


def _check_schema(conn: PgConnection, shown: str, create: bool) -> None:
    from .schema import SCHEMA_VERSION

    version = _version(conn)
    if version is None:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").fetchone()[0]
        if tables:
            raise DatabaseError(f"{shown} holds something else ({tables} tables, no rater schema): "
                                "refusing to modify it")
        if not create:
            raise DatabaseNotFound(f"no rater database at {shown} yet (the server database is empty): "
                                   "create one with `rater init` (`rater create` and `rater demo` create one too)")
        _create_schema(conn, shown)
        version = _version(conn)
    if version is not None and version > SCHEMA_VERSION:
        raise SchemaTooNewError(f"{shown} has schema version {version}, newer than this tool's "
                                f"{SCHEMA_VERSION}: upgrade rater to open it (the database was left untouched)")
    if version != SCHEMA_VERSION:
        raise DatabaseError(f"{shown} has schema version {version}, which no release of rater wrote "
                            f"on PostgreSQL (support starts at {SCHEMA_VERSION})")


def _create_schema(conn: PgConnection, shown: str) -> None:
    """The whole schema and its version row in one transaction, once even when several hosts
    open the empty database at the same moment (the write lock, then a second look)."""
    import secrets
    import time

    conn.begin_write()
    try:
        if _version(conn) is None:
            install_schema(conn)
            conn.execute("INSERT INTO host (singleton, id, created_at) VALUES (1, ?, ?) ON CONFLICT DO NOTHING",
                         (secrets.token_hex(16), time.time()))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def install_schema(conn: PgConnection) -> None:
    """Create the rater schema and its version row, in the caller's write transaction (the
    ``host`` row is left to the caller)."""
    from .schema import SCHEMA_VERSION
    from .schema_pg import SCHEMA_PG

    conn.execute(SCHEMA_PG)
    conn.execute("INSERT INTO rater_schema (singleton, version) VALUES (1, ?)", (SCHEMA_VERSION,))

