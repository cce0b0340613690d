"""Opening the SQLite database: pragmas, schema versions and migrations.

The ``rater.store`` package is the only place in the project that speaks SQL. This module opens a
connection with the settings every caller relies on (WAL, a long busy timeout, foreign keys,
durable commits), checks the schema version recorded in ``PRAGMA user_version`` and migrates an
older database forward in place, one ordered step at a time. A database written by a newer
version of the tool is refused, never migrated down.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlite_utils

from ..errors import DatabaseError, SchemaTooNewError

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Store",
    "connect",
    "migrate",
    "transaction",
]

BUSY_TIMEOUT_SECONDS = 30.0

# --- schema, version 1 ---------------------------------------------------------------------------
# Constraints make invalid states unstorable: a matchup's two media share its prompt and belong to
# two different models of the matchup's leaderboard (composite foreign keys), and a vote refers to
# a served matchup, from the rater it was served to, once (unique matchup_id).
_SCHEMA_V1 = """
CREATE TABLE leaderboards (
    id                TEXT PRIMARY KEY CHECK (length(id) BETWEEN 4 AND 32),
    name              TEXT NOT NULL CHECK (length(trim(name)) > 0),
    instruction       TEXT NOT NULL CHECK (length(trim(instruction)) > 0),
    show_prompt       INTEGER NOT NULL CHECK (show_prompt IN (0, 1)),
    show_prompt_asset INTEGER NOT NULL DEFAULT 0 CHECK (show_prompt_asset IN (0, 1)),
    inverse_ranking   INTEGER NOT NULL DEFAULT 0 CHECK (inverse_ranking IN (0, 1)),
    strategy          TEXT NOT NULL DEFAULT 'information'
                      CHECK (strategy IN ('information', 'uniform')),
    repeat_share      REAL NOT NULL DEFAULT 0.05 CHECK (repeat_share >= 0 AND repeat_share <= 0.5),
    max_pair_votes    INTEGER NOT NULL DEFAULT 60 CHECK (max_pair_votes >= 1),
    created_at        REAL NOT NULL
);
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    kind   TEXT NOT NULL CHECK (kind IN ('image', 'video', 'audio')),
    mime   TEXT NOT NULL,
    ext    TEXT NOT NULL,
    size   INTEGER NOT NULL CHECK (size > 0)
);
CREATE TABLE prompts (
    id             INTEGER PRIMARY KEY,
    leaderboard_id TEXT NOT NULL REFERENCES leaderboards(id) ON DELETE CASCADE,
    position       INTEGER NOT NULL CHECK (position >= 0),
    text           TEXT NOT NULL CHECK (length(trim(text)) > 0),
    tags           TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    asset_sha256   TEXT REFERENCES blobs(sha256),
    UNIQUE (leaderboard_id, position),
    UNIQUE (leaderboard_id, text),
    UNIQUE (id, leaderboard_id)
);
CREATE TABLE models (
    id             INTEGER PRIMARY KEY,
    leaderboard_id TEXT NOT NULL REFERENCES leaderboards(id) ON DELETE CASCADE,
    name           TEXT NOT NULL CHECK (length(trim(name)) > 0),
    created_at     REAL NOT NULL,
    UNIQUE (leaderboard_id, name),
    UNIQUE (id, leaderboard_id)
);
CREATE TABLE media (
    id             INTEGER PRIMARY KEY,
    leaderboard_id TEXT NOT NULL,
    model_id       INTEGER NOT NULL,
    prompt_id      INTEGER NOT NULL,
    sha256         TEXT NOT NULL REFERENCES blobs(sha256),
    original_name  TEXT NOT NULL DEFAULT '',
    created_at     REAL NOT NULL,
    FOREIGN KEY (model_id, leaderboard_id) REFERENCES models(id, leaderboard_id) ON DELETE CASCADE,
    FOREIGN KEY (prompt_id, leaderboard_id) REFERENCES prompts(id, leaderboard_id) ON DELETE CASCADE,
    UNIQUE (model_id, prompt_id, sha256),
    UNIQUE (id, prompt_id, model_id, leaderboard_id)
);
CREATE INDEX media_by_prompt ON media (leaderboard_id, prompt_id, model_id);
CREATE TABLE matchups (
    id             TEXT PRIMARY KEY,
    leaderboard_id TEXT NOT NULL,
    prompt_id      INTEGER NOT NULL,
    left_media     INTEGER NOT NULL,
    left_model     INTEGER NOT NULL,
    right_media    INTEGER NOT NULL,
    right_model    INTEGER NOT NULL,
    rater          TEXT NOT NULL CHECK (length(trim(rater)) > 0),
    served_at      REAL NOT NULL,
    repeat_of      TEXT REFERENCES matchups(id),
    CHECK (left_model <> right_model),
    FOREIGN KEY (left_media, prompt_id, left_model, leaderboard_id)
        REFERENCES media(id, prompt_id, model_id, leaderboard_id),
    FOREIGN KEY (right_media, prompt_id, right_model, leaderboard_id)
        REFERENCES media(id, prompt_id, model_id, leaderboard_id),
    UNIQUE (id, rater)
);
CREATE INDEX matchups_by_rater ON matchups (leaderboard_id, rater, served_at);
CREATE INDEX matchups_by_media ON matchups (rater, left_media, right_media);
CREATE TABLE votes (
    id         INTEGER PRIMARY KEY,
    matchup_id TEXT NOT NULL UNIQUE,
    rater      TEXT NOT NULL,
    choice     TEXT NOT NULL CHECK (choice IN ('left', 'right', 'tie')),
    voted_at   REAL NOT NULL,
    FOREIGN KEY (matchup_id, rater) REFERENCES matchups(id, rater)
);
CREATE TABLE raters (
    leaderboard_id TEXT NOT NULL REFERENCES leaderboards(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    excluded       INTEGER NOT NULL DEFAULT 0 CHECK (excluded IN (0, 1)),
    PRIMARY KEY (leaderboard_id, name)
);
"""


def _execute_script(conn: sqlite3.Connection, script: str) -> None:
    """Run statements one by one (``executescript`` would commit the open transaction)."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _migrate_to_1(conn: sqlite3.Connection) -> None:
    _execute_script(conn, _SCHEMA_V1)


#: Ordered migration steps: ``MIGRATIONS[k]`` takes a database from version ``k`` to ``k + 1``.
#: Append new steps; never edit a released one.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migrate_to_1]
SCHEMA_VERSION = len(MIGRATIONS)


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the block in one write transaction: all of it is committed, or none of it.

    ``BEGIN IMMEDIATE`` takes the write lock up front, so concurrent writers queue on the busy
    timeout instead of failing with "database is locked" when a read upgrades to a write.
    """
    if conn.in_transaction:  # nested: the outer block owns commit and rollback
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _translate(path: Path, exc: sqlite3.Error) -> DatabaseError:
    message = str(exc)
    if "file is not a database" in message or "malformed" in message:
        return DatabaseError(f"{path} is not a usable SQLite database ({message})")
    if "readonly" in message or "read-only" in message:
        return DatabaseError(f"{path} is read-only: cannot write to it ({message})")
    if "unable to open" in message:
        return DatabaseError(f"cannot open database {path} ({message})")
    return DatabaseError(f"database {path}: {message}")


def migrate(conn: sqlite3.Connection, path: Path | str = "database") -> int:
    """Bring the schema up to :data:`SCHEMA_VERSION` in place and return the version found.

    Each step runs in its own transaction together with the ``user_version`` bump, so an
    interrupted migration leaves the database at the last completed version.

    :raises SchemaTooNewError: the file was written by a newer version of this tool.
    """
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"{path} has schema version {found}, newer than this tool's {SCHEMA_VERSION}: "
            "upgrade rater to open it (the file was left untouched)"
        )
    if found == 0:
        _refuse_foreign(conn, path)
    for version in range(found, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read inside the lock: another process may have migrated meanwhile.
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            if current == version:
                MIGRATIONS[version](conn)
                conn.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
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


def connect(path: Path | str) -> sqlite3.Connection:
    """Open (creating if needed) the database at ``path``, migrated to the current schema.

    :raises DatabaseError: the file is not SQLite, is corrupt, read-only where a write was
        needed, or has a newer schema version.
    """
    path = Path(path)
    if path.is_dir():
        raise DatabaseError(f"{path} is a directory, not a database file")
    if path.exists():
        _check_header(path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise _translate(path, exc) from exc
    try:
        _configure(conn, path)
    except BaseException as exc:
        conn.close()
        if isinstance(exc, sqlite3.Error):
            raise _translate(path, exc) from exc
        raise
    return conn


def _configure(conn: sqlite3.Connection, path: Path) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
    conn.execute("PRAGMA foreign_keys = ON")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"{path} has schema version {version}, newer than this tool's {SCHEMA_VERSION}: "
            "upgrade rater to open it (the file was left untouched)"
        )
    if version == 0:
        _refuse_foreign(conn, path)
    if os.access(path, os.W_OK):
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise DatabaseError(f"{path}: could not switch to WAL mode (got {mode})")
    conn.execute("PRAGMA synchronous = FULL")
    if version < SCHEMA_VERSION:
        migrate(conn, path)


def _check_header(path: Path) -> None:
    size = path.stat().st_size
    if size == 0:
        return  # an empty file is a valid, empty SQLite database
    with open(path, "rb") as fh:
        header = fh.read(100)
    if not header.startswith(b"SQLite format 3\x00"):
        raise DatabaseError(f"{path} is not an SQLite database (refusing to touch it)")
    if len(header) < 100:
        raise DatabaseError(f"{path} is truncated ({size} bytes): not a usable SQLite database")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    if page_size and pages and size < page_size * pages and not Path(f"{path}-wal").exists():
        raise DatabaseError(
            f"{path} is truncated: {size} bytes where its header promises {page_size * pages}"
        )


class Store:
    """A database file plus the media folder beside it, with one connection per thread.

    Streamlit serves each browser session from its own thread, and SQLite connections are
    cheapest used by one thread at a time, so :attr:`conn` hands each thread its own.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.media_dir = self.path.parent / "media"
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        _ = self.conn  # open now so a bad file fails at construction

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @property
    def db(self) -> sqlite_utils.Database:
        """This thread's connection wrapped by sqlite-utils."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite_utils.Database(self.conn)
            self._local.db = db
        return db

    def write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A write transaction on this thread's connection (see :func:`transaction`)."""
        return _guarded(self.path, transaction(self.conn))

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()


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
