"""SQL for moving votes between hosts (export / import); integrity checks and online backups
are in :mod:`rater.store.integrity`.

Rows cross hosts by *stable* identities only: a matchup by its uuid4 hex id, a media by
``(participant name, prompt identifier, sha256)`` (format version 3; by prompt text before). Local row ids (media, models, prompts) differ from host to
host and never leave this module's callers in an export.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .dialect import is_postgres
from .votes import visible

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "begin_batch",
    "benchmarks_named",
    "checkpoint",
    "board_media",
    "commit_batch",
    "discard_some",
    "existing_matchups",
    "existing_votes",
    "exported_matchups",
    "exported_votes",
    "host_id",
    "import_turn",
    "pending_batches",
    "read_snapshot",
    "stage_matchups",
    "stage_votes",
    "staging",
]

_CHUNK = 500  # ids per IN (...) list, far below SQLite's variable limit
#: The PostgreSQL advisory lock an import holds for its whole run ("rater" + 2; see import_turn).
IMPORT_LOCK_KEY = 0x7261746572_02


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
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" if is_postgres(conn) else "BEGIN DEFERRED")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


def host_id(conn: sqlite3.Connection) -> str:
    """This database's host id: 32 hex digits, made once by the schema v2 migration."""
    return str(conn.execute("SELECT id FROM host").fetchone()[0])


# Matchups with everything that identifies them across hosts.
_MATCHUP_EXPORT = (
    "SELECT mu.id, mu.leaderboard_id, p.text AS prompt, p.identifier, lo.name AS left_model, "
    "lm.sha256 AS left_sha256, ro.name AS right_model, rm.sha256 AS right_sha256, mu.rater, "
    "mu.served_at, mu.repeat_of FROM matchups mu JOIN prompts p ON p.id = mu.prompt_id "
    "JOIN media lm ON lm.id = mu.left_media JOIN models lo ON lo.id = mu.left_model "
    "JOIN media rm ON rm.id = mu.right_media JOIN models ro ON ro.id = mu.right_model "
)


def exported_matchups(conn: sqlite3.Connection, leaderboard_id: str) -> list[dict[str, Any]]:
    """The board's voted matchups plus every matchup they repeat (transitively), originals first.

    Unvoted matchups stay home: another host importing one could serve it to the same rater and
    collect a vote that conflicts with the one this host may still collect. So do gold pairs'
    matchups (their media belong to hidden participants, and their votes count nowhere).
    """
    rows = _rows(
        conn.execute(
            "WITH RECURSIVE wanted(id) AS ("
            " SELECT v.matchup_id FROM votes v JOIN matchups mu ON mu.id = v.matchup_id"
            f" WHERE mu.leaderboard_id = ? AND mu.gold_pair IS NULL AND {visible('v')}"
            " UNION SELECT mu.repeat_of FROM matchups mu JOIN wanted w ON w.id = mu.id"
            " WHERE mu.repeat_of IS NOT NULL) "
            + _MATCHUP_EXPORT
            + "WHERE mu.id IN (SELECT id FROM wanted) ORDER BY mu.served_at, mu.id",
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
            f"WHERE mu.leaderboard_id = ? AND mu.gold_pair IS NULL AND {visible('v')} ORDER BY v.id",
            (host_id(conn), leaderboard_id),
        )
    )


def existing_matchups(conn: sqlite3.Connection, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Matchups already stored under any of ``ids`` (on any board), in export form."""
    out: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(ids))):
        marks = ", ".join("?" * len(chunk))
        sql = _MATCHUP_EXPORT + f"WHERE mu.id IN ({marks}) AND {visible('mu')}"
        for row in _rows(conn.execute(sql, chunk)):
            out[row["id"]] = row
    return out


def existing_votes(conn: sqlite3.Connection, matchup_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Votes already stored on any of ``matchup_ids``, keyed by matchup id."""
    here = host_id(conn)
    out: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(matchup_ids))):
        marks = ", ".join("?" * len(chunk))
        sql = (
            "SELECT matchup_id, rater, choice, voted_at, coalesce(origin, ?) AS origin FROM votes v "
            f"WHERE matchup_id IN ({marks}) AND {visible('v')}"
        )
        for row in _rows(conn.execute(sql, [here, *chunk])):
            out[row["matchup_id"]] = row
    return out


def board_media(
    conn: sqlite3.Connection, leaderboard_id: str, by: str = "text"
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """The media of the participants rated on the board, keyed by ``(model name, prompt text,
    sha256)`` (``by="identifier"``: the prompt's identifier instead of its text): ``id,
    model_id, prompt_id``."""
    column = {"text": "p.text", "identifier": "p.identifier"}[by]
    rows = conn.execute(
        f"SELECT o.name, {column}, m.sha256, m.id, m.model_id, m.prompt_id FROM board_media m "
        "JOIN models o ON o.id = m.model_id JOIN prompts p ON p.id = m.prompt_id "
        "WHERE m.leaderboard_id = ?",
        (leaderboard_id,),
    )
    return {
        (model, prompt, sha): {"id": mid, "model_id": model_id, "prompt_id": prompt_id}
        for model, prompt, sha, mid, model_id, prompt_id in rows
    }


def benchmarks_named(conn: sqlite3.Connection, benchmark_id: str, name: str) -> list[str]:
    """The benchmark with this id if there is one, else the ids of those with this name."""
    found = conn.execute("SELECT id FROM benchmarks WHERE id = ?", (benchmark_id,)).fetchall()
    if not found:
        found = conn.execute("SELECT id FROM benchmarks WHERE name = ? ORDER BY created_at, id",
                             (name,)).fetchall()
    return [r[0] for r in found]


# -- imports staged in a pending batch ------------------------------------------------------------
# An import inserts its rows in many short write transactions, tagged with a batch that readers
# ignore (``votes.visible``) until :func:`commit_batch` flips it in one small transaction. Only one
# import runs at a time (:func:`import_turn`), so a pending batch seen by the import holding the
# turn was left by one that died: it is deleted (:func:`discard_some`) before anything else.


@contextlib.contextmanager
def import_turn(conn: sqlite3.Connection, db_path: Path | None) -> Iterator[bool]:
    """Hold the database's import turn (an ``flock`` on ``<db>-import-lock``; on PostgreSQL a
    session advisory lock of ``conn``, so on every host) for the block; yields False, holding
    nothing, when another import holds it."""
    if is_postgres(conn):
        if not conn.execute("SELECT pg_try_advisory_lock(?)", (IMPORT_LOCK_KEY,)).fetchone()[0]:
            yield False
            return
        try:
            yield True
        finally:
            conn.execute("SELECT pg_advisory_unlock(?)", (IMPORT_LOCK_KEY,))
        return
    if fcntl is None:  # pragma: no cover - not on POSIX
        yield True
        return
    fd = os.open(f"{db_path}-import-lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing releases the lock


@contextlib.contextmanager
def staging(conn: sqlite3.Connection) -> Iterator[None]:
    """Settings for writing a pending batch on this connection only: commits skip the fsync
    (``synchronous = NORMAL``) and do not checkpoint (call :func:`checkpoint` between them,
    outside the write lock, instead).

    A pending batch is invisible until :func:`commit_batch`, whose commit (after the block,
    synced as usual) also makes every earlier WAL frame durable: a power cut during staging
    loses at most some pending rows, which nothing shows. An automatic checkpoint would run
    inside a commit, while other writers wait for the lock.
    """
    if is_postgres(conn):  # the server checkpoints on its own; only the flush wait is skipped
        before = conn.execute("SHOW synchronous_commit").fetchone()[0]
        conn.execute("SET synchronous_commit = off")
        try:
            yield
        finally:
            conn.execute(f"SET synchronous_commit = {'on' if before == 'on' else 'off'}")
        return
    synchronous = int(conn.execute("PRAGMA synchronous").fetchone()[0])
    pages = int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute(f"PRAGMA wal_autocheckpoint = {pages}")


def checkpoint(conn: sqlite3.Connection) -> None:
    """Copy committed WAL frames into the database without blocking writers (``PASSIVE``), so
    the WAL stays small and no other writer's commit has a big checkpoint to do (SQLite only:
    a PostgreSQL server checkpoints by itself)."""
    if not is_postgres(conn):
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()


def pending_batches(conn: sqlite3.Connection) -> list[int]:
    """Ids of imports not committed (staging, or left by an import that died)."""
    return [r[0] for r in conn.execute("SELECT id FROM import_batches WHERE committed = 0")]


def begin_batch(conn: sqlite3.Connection) -> int:
    """Open a pending batch and return its id."""
    return int(conn.execute("INSERT INTO import_batches (started_at) VALUES (?) RETURNING id",
                            (time.time(),)).fetchone()[0])


def stage_matchups(conn: sqlite3.Connection, batch: int, rows: list[tuple[Any, ...]]) -> None:
    """Insert matchups into the pending ``batch``: tuples ``(id, leaderboard_id, prompt_id,
    left_media, left_model, right_media, right_model, rater, served_at, repeat_of)`` (times
    checked by the caller; repeats after their originals)."""
    conn.executemany(
        "INSERT INTO matchups (id, leaderboard_id, prompt_id, left_media, left_model, right_media,"
        " right_model, rater, served_at, repeat_of, batch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*row, batch) for row in rows],
    )


def stage_votes(conn: sqlite3.Connection, batch: int, rows: list[tuple[Any, ...]]) -> None:
    """Insert votes recorded by another host into the pending ``batch``: tuples ``(matchup_id,
    rater, choice, voted_at, origin)``; an origin of ``""`` or this host's id is stored as NULL
    ("recorded here")."""
    here = host_id(conn)
    conn.executemany(
        "INSERT INTO votes (matchup_id, rater, choice, voted_at, origin, batch) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(m, r, c, t, None if o in ("", here) else o, batch) for m, r, c, t, o in rows],
    )


def commit_batch(conn: sqlite3.Connection, batch: int, raters: Iterable[tuple[str, str]]) -> None:
    """Make the batch visible: give its ``(leaderboard_id, rater)`` pairs their rater rows and
    flip it, one small transaction whatever the batch's size."""
    conn.executemany(
        "INSERT INTO raters (leaderboard_id, name) VALUES (?, ?) ON CONFLICT DO NOTHING",
        sorted(set(raters)),
    )
    conn.execute("UPDATE import_batches SET committed = 1 WHERE id = ? AND committed = 0", (batch,))


def discard_some(conn: sqlite3.Connection, batch: int, limit: int) -> int:
    """Delete up to ``limit`` rows of the pending ``batch`` (votes first, then matchups, newest
    first so a repeat goes before its original); when none is left, the batch itself. Returns
    the number of rows deleted: call again (each in its own short transaction) until 0."""
    row = "ctid" if is_postgres(conn) else "rowid"  # the row's physical address
    for table, order in (("votes", "id"), ("matchups", "served_at")):
        deleted = conn.execute(
            f"DELETE FROM {table} WHERE {row} IN (SELECT {row} FROM {table} WHERE batch = ? "
            f"ORDER BY {order} DESC LIMIT ?)",
            (batch, limit),
        ).rowcount
        if deleted:
            return int(deleted)
    conn.execute("DELETE FROM import_batches WHERE id = ? AND committed = 0", (batch,))
    return 0
