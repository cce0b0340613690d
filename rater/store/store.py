"""The :class:`Store`: one database file, with one connection per thread at a time.

It hands each thread its own connection (opened by :func:`rater.store.db.connect`), keeps
connections handed back for the next thread, takes writers in turn (see
:mod:`rater.store.write_queue`) and remembers which file it opened (device and inode): it
refuses to read or write through a new connection, or to commit, once that file was deleted or
replaced: the write would otherwise land in a new empty database or in an unlinked file nobody
will read again.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path


from ..errors import DatabaseError, DatabaseGone
from . import db as _db  # BUSY_TIMEOUT_SECONDS read at use, so one setting governs both modules
from .db import _translate, connect, transaction
from .files import blob_file, file_identity
from .write_queue import WriteQueue

__all__ = ["IDLE_CONNECTIONS", "Store"]

#: Connections handed back by :meth:`Store.release_thread` kept open for the next thread.
IDLE_CONNECTIONS = 8


class Store:
    """A database file plus the media folder beside it, with one connection per thread at a time.

    Streamlit serves each browser session from its own thread, and SQLite connections are
    cheapest used by one thread at a time, so :attr:`conn` hands each thread its own
    (:meth:`release_thread` hands it back for the next thread).

    :param path: the database file. An existing file is opened (and checked) at once.
    :param create: create the file (and its folder) now when it does not exist. Otherwise a
        missing file is only made by ``require(create=True)``; any other use raises
        :class:`DatabaseNotFound`.
    """

    #: Which SQL this store's connections speak (see :mod:`rater.store.dialect`).
    dialect = "sqlite"

    def __init__(self, path: Path | str, *, create: bool = False) -> None:
        self.path: Path | None = Path(path)
        self.media_dir = self.path.parent / "media"
        self._identity: tuple[int, int] | None = None  # the file we opened, once we have
        self._init_connections()
        if create or os.path.lexists(self.path):
            self._open(create)  # open now so a bad file fails at construction

    def _init_connections(self) -> None:
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._queues: list[WriteQueue] = []
        self._lock = threading.Lock()
        self._opening = threading.Lock()
        self._writer = threading.Lock()  # this process's writers, one at a time
        self._idle: list[tuple[sqlite3.Connection, WriteQueue | None]] = []  # handed back
        self._synchronous = "FULL"

    @property
    def location(self) -> str:
        """The database as messages name it: the file's path (a server URL has no password)."""
        return str(self.path)

    @property
    def key(self) -> str:
        """The same string for every store on the same database (caches are keyed by it)."""
        assert self.path is not None
        return str(self.path.resolve())

    def media_file(self, sha256: str, ext: str) -> Path:
        """The local file holding the stored medium ``sha256`` (content-addressed: see
        :func:`rater.store.files.blob_file`)."""
        return blob_file(self.media_dir, sha256, ext)

    def missing_media(self, media: Iterable[tuple[str, str]]) -> set[str]:
        """The sha256 of those stored media ``(sha256, ext)`` whose bytes are gone (a backup
        restored without its ``media/`` folder); nothing is copied."""
        return {sha for sha, ext in media if not blob_file(self.media_dir, sha, ext).is_file()}

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection.

        :raises DatabaseNotFound: there is no database file.
        :raises DatabaseGone: the file this store opened was deleted or replaced since.
        """
        return self._thread_conn(False)

    def require(self, *, create: bool = False) -> None:
        """Open this thread's connection now, so a missing or unusable file fails here.

        :param create: make the file (and its folder) if there is none: for creating calls.
        """
        self._thread_conn(create)

    def check_identity(self) -> None:
        """Refuse to go on when the file at :attr:`path` is no longer the one this store opened.

        :raises DatabaseGone: it was deleted, or another file took its name.
        """
        if self._identity is not None:
            self._refuse_other(file_identity(self.path))

    def _refuse_other(self, found: tuple[int, int] | None) -> None:
        if self._identity is None or found == self._identity:
            return
        what = "deleted" if found is None else "replaced by another file"
        raise DatabaseGone(
            f"database {self.path} was {what} while in use; nothing was saved: restore the file "
            "and restart (reopen it), or point --db at the right file"
        )

    def _thread_conn(self, create: bool) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and not getattr(conn, "broken", False):
            return conn
        if conn is not None:  # a server connection lost (a restart): a new one replaces it
            self._local.conn = None
            self._forget(conn, getattr(self._local, "queue", None))
            self._local.queue = None
        with self._lock:
            idle = self._idle.pop() if self._idle else None
            while idle is not None and getattr(idle[0], "broken", False):
                self._all[:] = [c for c in self._all if c is not idle[0]]
                idle = self._idle.pop() if self._idle else None
        if idle is None:
            return self._open(create)
        self.check_identity()  # as a new connection would
        self._local.conn, self._local.queue = idle
        return idle[0]

    def _open(self, create: bool) -> sqlite3.Connection:
        with self._opening:
            self._refuse_other(file_identity(self.path))
            conn = connect(self.path, create=create, checked=bool(self._all))
            try:
                found = file_identity(self.path)
                self._refuse_other(found)  # replaced while we were opening it
                self._identity = self._identity or found
                if self._synchronous != "FULL":
                    conn.execute(self._synchronous_setting(self._synchronous))
            except BaseException:
                conn.close()
                raise
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        return conn

    def release_thread(self) -> None:
        """Hand this thread's connection (and its write-queue file) back to the store, for the
        next thread that needs one; a later use of :attr:`conn` on this thread takes one again.

        For servers that run each request on a fresh thread (Streamlit does): without it every
        request would leave a connection and its file handles open until :meth:`close`, and
        opening a new one per request (file checks, pragmas, schema version) costs more than the
        request's own queries. At most :data:`IDLE_CONNECTIONS` wait; more are closed, and so is
        one left inside a transaction (it is rolled back).
        """
        conn = getattr(self._local, "conn", None)
        queue = getattr(self._local, "queue", None)
        self._local.conn = self._local.queue = None
        if conn is None:
            if queue is not None:
                self._forget(None, queue)
            return
        with self._lock:
            if not conn.in_transaction and len(self._idle) < IDLE_CONNECTIONS:
                self._idle.append((conn, queue))
                return
        self._forget(conn, queue)

    def _forget(self, conn: sqlite3.Connection | None, queue: WriteQueue | None) -> None:
        with self._lock:
            self._all[:] = [c for c in self._all if c is not conn]
            self._queues[:] = [q for q in self._queues if q is not queue]
        if conn is not None:
            conn.close()  # rolls back a transaction left open
        if queue is not None:
            queue.close()

    def write(self, *, durable: bool = True,
              single_statement: bool = False) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A write transaction on this thread's connection (see :func:`rater.store.db.transaction`), taken in
        turn with the other writers of this database (see :mod:`rater.store.write_queue`).

        The file is checked to be the one this store opened once the write lock is held and
        again just before ``COMMIT``, so nothing is acknowledged that went to a deleted file.

        :param durable: False commits without syncing the write-ahead log (``synchronous =
            NORMAL`` for this transaction only): it survives a killed process, and the next
            durable commit (of any connection: it syncs the same log) makes it survive a power
            cut too. For writes whose loss in a power cut is harmless (a matchup served but not
            yet voted on); never for an acknowledged vote.
        :param single_statement: the block is one statement that the schema alone keeps
            correct (a plain vote): on PostgreSQL it runs on its own, without the write lock
            (see :meth:`rater.store.postgres.PgConnection.begin_write`); here it is an
            ordinary write.

        :raises DatabaseNotFound: there is no database file (see :meth:`require`).
        :raises DatabaseGone: the database file was deleted or replaced; nothing was written.
        """
        conn = self.conn
        inner = transaction(conn)
        if not durable and self._synchronous == "FULL" and not conn.in_transaction:
            inner = _unsynced(conn, inner)
        return _guarded(self.path, self._in_turn(conn, self._checked(inner)))

    @contextlib.contextmanager
    def _checked(
        self, inner: contextlib.AbstractContextManager[sqlite3.Connection]
    ) -> Iterator[sqlite3.Connection]:
        with inner as conn:
            self.check_identity()
            yield conn
            self.check_identity()  # raising here rolls the transaction back

    @contextlib.contextmanager
    def _in_turn(
        self, conn: sqlite3.Connection, inner: contextlib.AbstractContextManager[sqlite3.Connection]
    ) -> Iterator[sqlite3.Connection]:
        if conn.in_transaction:  # nested: the outer block holds our turn
            with inner as conn:
                yield conn
            return
        queue = getattr(self._local, "queue", None)
        if queue is None:
            queue = self._local.queue = WriteQueue(self.path)
            with self._lock:
                self._queues.append(queue)
        # Threads of this process queue on a lock first: the file lock then mostly finds
        # itself free, and a contended one costs a helper thread (see WriteQueue.acquire).
        deadline = time.monotonic() + _db.BUSY_TIMEOUT_SECONDS
        if not self._writer.acquire(timeout=_db.BUSY_TIMEOUT_SECONDS):
            raise _busy(self.path)
        try:
            if not queue.acquire(max(0.0, deadline - time.monotonic())):
                raise _busy(self.path)
            try:
                with inner as conn:
                    yield conn
            finally:
                queue.release()
        finally:
            self._writer.release()

    def set_synchronous(self, level: str) -> None:
        """How this store's commits reach the disk, for all its connections, open or later.

        - ``"FULL"`` (the default): SQLite syncs the WAL in every ``COMMIT``, so a write is on
          disk when :meth:`write` returns and survives a power cut.
        - ``"NORMAL"``: no sync per commit; survives a killed process, may lose the last
          commits on power loss. Only for measuring what durability costs
          (``benchmarks/vote_load.py --compare-unsynced``).
        - ``"OFF"``: no syncs at all, for throwaway databases only (simulations, benchmarks that
          build big boards): a power cut can lose or corrupt them.
        """
        level = level.upper()
        if level not in ("OFF", "NORMAL", "FULL"):
            raise ValueError(f"synchronous must be OFF, NORMAL or FULL, got {level!r}")
        self._synchronous = level
        with self._lock:
            for conn in self._all:
                conn.execute(self._synchronous_setting(level))

    def _synchronous_setting(self, level: str) -> str:
        """The statement that makes a connection commit at ``level``."""
        return f"PRAGMA synchronous = {level}"

    def close(self) -> None:
        """Close every connection (and write-queue file) this store opened."""
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
            for queue in self._queues:
                queue.close()
            self._queues.clear()
            self._idle.clear()
        self._local = threading.local()


def _busy(path: Path | str, seconds: float | None = None) -> DatabaseError:
    return DatabaseError(f"{path}: other writers kept the database busy for "
                         f"{_db.BUSY_TIMEOUT_SECONDS if seconds is None else seconds:g} s; "
                         "nothing was written, try again")


@contextlib.contextmanager
def _unsynced(
    conn: sqlite3.Connection, inner: contextlib.AbstractContextManager[sqlite3.Connection]
) -> Iterator[sqlite3.Connection]:
    conn.execute("PRAGMA synchronous = NORMAL")
    try:
        with inner as conn:
            yield conn
    finally:
        conn.execute("PRAGMA synchronous = FULL")


@contextlib.contextmanager
def _guarded(
    path: Path, inner: contextlib.AbstractContextManager[sqlite3.Connection]
) -> Iterator[sqlite3.Connection]:
    try:
        with inner as conn:
            yield conn
    except sqlite3.IntegrityError:
        raise
    except sqlite3.Error as exc:
        raise _translate(path, exc) from exc
