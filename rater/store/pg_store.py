"""The :class:`PostgresStore`: a :class:`~rater.store.store.Store` on a PostgreSQL server database.

Everything above the store sees the same object: one connection per thread at a time (handed
back for the next thread), ``write()`` transactions taken in turn with every other writer of the
database (its advisory lock, on every host; a plain vote's single INSERT goes without it: see
:mod:`rater.store.postgres`), ``durable=False``
for writes whose loss in a crash is harmless. What a file store checks about its file (deleted,
replaced, read-only) has no server counterpart; the server reports its own errors.

Media bytes live in the database (``blob_data``), so every host can serve every medium; each
host keeps them in a local cache folder as files, written on first use and rebuilt from the
database whenever it is emptied (:meth:`PostgresStore.media_file`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import DatabaseNotFound, MediaError
from .files import blob_file
from .db import transaction
from . import postgres as _pg  # LOCK_TIMEOUT_SECONDS read at use
from .postgres import connect_postgres, display_url
from .store import Store, _busy, _guarded

__all__ = ["MEDIA_CACHE_ENV", "PostgresStore", "default_media_cache"]

#: The environment variable naming a host's media cache folder for a PostgreSQL database.
MEDIA_CACHE_ENV = "RATER_MEDIA_CACHE"


def default_media_cache(url: str) -> Path:
    """``$RATER_MEDIA_CACHE``, else ``~/.cache/rater/media/<16 hex digits of the URL>`` (the URL
    without its password, so changing a password keeps the cache)."""
    chosen = os.environ.get(MEDIA_CACHE_ENV)
    if chosen:
        return Path(chosen)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "rater" / "media" / hashlib.sha256(display_url(url).encode()).hexdigest()[:16]


class PostgresStore(Store):
    """A PostgreSQL database (``postgresql://user@host:port/db``) behind the :class:`Store` interface.

    :param url: the server database. It must exist on the server; with ``create`` an empty one
        is given the rater schema (without, a creating call gives it; any other use raises
        :class:`DatabaseNotFound`, as on a missing SQLite file).
    :param media_cache: this host's folder of media files (default: :func:`default_media_cache`).
    """

    dialect = "postgresql"

    def __init__(self, url: str, *, create: bool = False, media_cache: Path | None = None) -> None:
        self.url = url
        self.path = None
        self.media_dir = media_cache or default_media_cache(url)
        self._identity = None
        self._init_connections()
        try:
            self._open(create)  # a server or schema problem fails at construction ...
        except DatabaseNotFound:
            if create:
                raise
            # ... but, as a missing SQLite file, a missing database or schema only on use:
            # a creating call (``require(create=True)``) then gives an empty database the schema.

    @property
    def location(self) -> str:
        return display_url(self.url)

    @property
    def key(self) -> str:
        return display_url(self.url)

    def check_identity(self) -> None:
        """Nothing to check: the server keeps its database."""

    def _open(self, create: bool) -> Any:
        with self._opening:
            conn = connect_postgres(self.url, create=create)
            if self._synchronous != "FULL":
                conn.execute(self._synchronous_setting(self._synchronous))
        self._local.conn = conn
        with self._lock:
            self._all.append(conn)
        return conn

    def write(self, *, durable: bool = True, single_statement: bool = False) -> contextlib.AbstractContextManager[Any]:
        """A write transaction holding the database's write lock (see :meth:`Store.write`)."""
        inner = transaction(self.conn, durable=durable and self._synchronous == "FULL",
                            single_statement=single_statement)
        return _guarded(self.location, _waited(self.location, inner))

    def _synchronous_setting(self, level: str) -> str:
        """``"FULL"``: each commit waits for the server's WAL flush; ``"NORMAL"`` or ``"OFF"``:
        it does not (``synchronous_commit = off``), for measuring or throwaway databases."""
        return f"SET synchronous_commit = {'on' if level == 'FULL' else 'off'}"

    def missing_media(self, media: Iterable[tuple[str, str]]) -> set[str]:
        """The sha256 of those stored media ``(sha256, ext)`` the database has no bytes of;
        this host's cache is neither read nor filled (checking a board copies nothing)."""
        wanted = sorted({sha for sha, _ in media})
        if not wanted:
            return set()
        kept = self.conn.execute("SELECT sha256 FROM blob_data WHERE sha256 = ANY(?)", (wanted,)).fetchall()
        return set(wanted) - {str(row[0]) for row in kept}

    def media_file(self, sha256: str, ext: str) -> Path:
        """The medium as a file of this host's cache, copied out of the database on first use."""
        path = blob_file(self.media_dir, sha256, ext)
        if path.exists():
            return path
        row = self.conn.execute("SELECT data FROM blob_data WHERE sha256 = ?", (sha256,)).fetchone()
        if row is None:
            return path  # not stored: callers report a missing file as they do on SQLite
        data = bytes(row[0])
        if hashlib.sha256(data).hexdigest() != sha256:
            raise MediaError(f"the stored bytes of medium {sha256} do not match its hash: the database is damaged")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".cache-", suffix=f".{ext}")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)  # whole or not at all, even with two threads filling it at once
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return path



@contextlib.contextmanager
def _waited(location: str, inner: contextlib.AbstractContextManager[Any]) -> Iterator[Any]:
    """A writer that waited out the lock timeout for the write lock (or a row) gets the one-line
    error a writer of an SQLite file gets; the transaction was rolled back."""
    try:
        with inner as conn:
            yield conn
    except sqlite3.OperationalError as exc:
        if not str(exc).startswith("database is locked"):
            raise
        raise _busy(location, _pg.LOCK_TIMEOUT_SECONDS) from exc
