"""SQL the matchmaker needs: incremental reads of models, media and votes, and rater history.

Every read here is either keyed by an index or an id range (``id > ?``), so the matchmaker's
in-memory state can be brought up to date in well under a millisecond however large the board
is. ``CROSS JOIN`` pins SQLite's join order where the planner would otherwise scan a whole board.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from .dialect import is_postgres, now_epoch, ordered_join
from .votes import visible

__all__ = [
    "board_model_rows",
    "bulk_insert_matchups",
    "bulk_insert_votes",
    "change_probe",
    "media_rows",
    "new_vote_rows",
    "pair_served",
    "rater_repeat_candidates",
    "served_meanwhile",
    "vote_position",
]


def change_probe(conn: sqlite3.Connection) -> tuple[int, int, int, int, int]:
    """``(vote position, max media id, max model id, imports committed, catalog version)`` over
    the whole database: cheap lookups that tell whether anything may have changed since the
    last look (the vote position: see :func:`vote_position`). An import's votes become visible all at once with ids below votes already seen,
    and the catalog version moves when a participant is disabled, enabled, renamed, deleted or
    run, or a prompt is re-tagged, so a change in either of the last two means "read
    everything again"."""
    postgres = is_postgres(conn)  # there the vote position is a query of its own
    row = conn.execute(
        f"SELECT {'0' if postgres else '(SELECT max(id) FROM votes)'}, (SELECT max(id) FROM media), "
        "(SELECT max(id) FROM models), (SELECT count(*) FROM import_batches WHERE committed = 1), "
        "(SELECT n FROM catalog_version)"
    ).fetchone()
    votes_at = vote_position(conn) if postgres else int(row[0] or 0)
    return votes_at, int(row[1] or 0), int(row[2] or 0), int(row[3]), int(row[4])


#: A PostgreSQL vote position packs ``(txid, id)`` as ``txid << ID_BITS | id``.
ID_BITS = 40


def vote_position(conn: sqlite3.Connection) -> int:
    """Where the change feed of votes stands: every vote at or below it is committed and read
    in order, and no vote will ever commit at or below it later.

    On SQLite it is the highest vote id: writers take the database's lock in turn, so votes
    commit in id order. PostgreSQL assigns ids when a row is inserted, not when it commits, so
    a vote with a lower id can become visible after one with a higher id (a writer outside the
    store's write lock, for one). There the feed is ordered by ``(txid, id)``, the writing
    transaction and the id, and stops below the oldest transaction still running
    (``pg_snapshot_xmin``): every transaction below that has ended, so nothing can appear
    behind the position later. A vote of a transaction still running is read once it and all
    older ones have ended.
    """
    if not is_postgres(conn):
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM votes").fetchone()[0])
    row = conn.execute(
        # ordered by the column v.txid: a bare "txid" would be the text output column, where '998' > '1000'
        "SELECT CAST(v.txid AS text), v.id FROM votes v WHERE v.txid < pg_snapshot_xmin(pg_current_snapshot()) "
        "ORDER BY v.txid DESC, v.id DESC LIMIT 1").fetchone()
    return 0 if row is None else int(row[0]) << ID_BITS | int(row[1])


def _position_range(conn: sqlite3.Connection, after: int, upto: int) -> tuple[str, tuple[Any, ...], str]:
    """The WHERE clause, its parameters and the ORDER BY for votes in ``(after, upto]``."""
    if not is_postgres(conn):
        return "v.id > ? AND v.id <= ?", (after, upto), "v.id"
    mask = (1 << ID_BITS) - 1
    return ("(v.txid, v.id) > (CAST(? AS xid8), ?) AND (v.txid, v.id) <= (CAST(? AS xid8), ?)",
            (str(after >> ID_BITS), after & mask, str(upto >> ID_BITS), upto & mask), "v.txid, v.id")


def board_model_rows(
    conn: sqlite3.Connection, leaderboard_id: str, after_id: int = 0
) -> list[tuple[int, str]]:
    """``(model_id, name)`` of the board's models with ``id > after_id``, in id order."""
    return conn.execute(
        "SELECT id, name FROM board_models WHERE leaderboard_id = ? AND id > ? ORDER BY id",
        (leaderboard_id, after_id),
    ).fetchall()


def media_rows(
    conn: sqlite3.Connection, leaderboard_id: str, after_id: int = 0
) -> list[tuple[int, int, int, str, str, str]]:
    """``(media_id, model_id, prompt_id, sha256, ext, kind)`` of the board's media with
    ``id > after_id``, in id order: media of the participants rated on the board, for the
    prompts its tag scope serves."""
    return conn.execute(
        "SELECT m.id, m.model_id, m.prompt_id, m.sha256, b.ext, b.kind FROM board_media m "
        f"{ordered_join(conn)} blobs b ON b.sha256 = m.sha256 "
        "WHERE m.id > ? AND m.leaderboard_id = ? AND m.prompt_id IN (SELECT id FROM board_prompts "
        "WHERE leaderboard_id = ? AND in_scope) ORDER BY m.id",
        (after_id, leaderboard_id, leaderboard_id),
    ).fetchall()


def new_vote_rows(
    conn: sqlite3.Connection, leaderboard_id: str, after: int, upto: int
) -> list[tuple[Any, ...]]:
    """Votes on the board with a position (:func:`vote_position`) in ``(after, upto]``, in
    feed order, as tuples ``(vote_id, matchup_id, left_model, right_model, choice, prompt_id,
    rater, is_repeat)``.

    Walks the votes by their position and joins each to its matchup, so the cost is
    proportional to the number of new votes (in the whole database), not to the size of the board.
    """
    where, params, order = _position_range(conn, after, upto)
    return conn.execute(
        "SELECT v.id, v.matchup_id, mu.left_model, mu.right_model, v.choice, mu.prompt_id, "
        "v.rater, CASE WHEN mu.repeat_of IS NULL THEN 0 ELSE 1 END FROM votes v "
        f"{ordered_join(conn)} matchups mu ON mu.id = v.matchup_id "
        f"WHERE {where} AND mu.leaderboard_id = ? AND {visible('v')} ORDER BY {order}",
        (*params, leaderboard_id),
    ).fetchall()


def pair_served(conn: sqlite3.Connection, leaderboard_id: str, rater: str, media_x: int,
                media_y: int) -> bool:
    """Whether this pair of media was ever served to ``rater`` on this board, either way round
    (two lookups in the ``matchups_by_media`` index; the same media are rated on every
    leaderboard of their benchmark, so a pair judged on one criterion may come on another)."""
    return conn.execute(
        "SELECT EXISTS (SELECT 1 FROM matchups WHERE rater = ? AND left_media = ? "
        "AND right_media = ? AND leaderboard_id = ?) OR EXISTS (SELECT 1 FROM matchups WHERE "
        "rater = ? AND left_media = ? AND right_media = ? AND leaderboard_id = ?)",
        (rater, media_x, media_y, leaderboard_id, rater, media_y, media_x, leaderboard_id),
    ).fetchone()[0] == 1


def served_meanwhile(conn: sqlite3.Connection, row: dict[str, Any]) -> bool:
    """Whether the matchup ``row`` (``leaderboard_id, rater, left_media, right_media,
    repeat_of``), picked but not stored yet, was taken since: its media pair served to its rater
    on the board, or for a repeat, its original repeated. Asked in the transaction that stores
    it, so two processes that picked the same pair at once cannot both store it."""
    if row["repeat_of"] is None:
        return pair_served(conn, row["leaderboard_id"], row["rater"], row["left_media"], row["right_media"])
    return conn.execute(
        "SELECT EXISTS (SELECT 1 FROM matchups WHERE leaderboard_id = ? AND rater = ? AND repeat_of = ?)",
        (row["leaderboard_id"], row["rater"], row["repeat_of"]),
    ).fetchone()[0] == 1


def rater_repeat_candidates(
    conn: sqlite3.Connection, leaderboard_id: str, rater: str
) -> list[dict[str, Any]]:
    """Matchups this rater voted on that are not repeats and were never repeated, oldest first:
    ``id, prompt_id, left_media, left_model, right_media, right_model, served_at``."""
    cur = conn.execute(
        "SELECT mu.id, mu.prompt_id, mu.left_media, mu.left_model, mu.right_media, "
        "mu.right_model, mu.served_at FROM matchups mu JOIN votes v ON v.matchup_id = mu.id "
        f"WHERE mu.leaderboard_id = ? AND mu.rater = ? AND mu.repeat_of IS NULL AND {visible('v')} "
        # served in the past (an imported one may be up to a day ahead): a repeat must be later
        f"AND mu.served_at < {now_epoch(conn)} "
        "AND mu.id NOT IN (SELECT repeat_of FROM matchups WHERE leaderboard_id = ? "
        "AND rater = ? AND repeat_of IS NOT NULL) ORDER BY mu.served_at",
        (leaderboard_id, rater, leaderboard_id, rater),
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def bulk_insert_matchups(conn: sqlite3.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert many served matchups at once (benchmarks and simulations build big boards this
    way): tuples ``(id, leaderboard_id, prompt_id, left_media, left_model, right_media,
    right_model, rater, served_at, repeat_of)``. Raters must already exist or be added with
    :func:`rater.store.votes.ensure_rater`."""
    conn.executemany(
        "INSERT INTO matchups (id, leaderboard_id, prompt_id, left_media, left_model, "
        "right_media, right_model, rater, served_at, repeat_of) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def bulk_insert_votes(conn: sqlite3.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert many votes at once: tuples ``(matchup_id, rater, choice, voted_at)``."""
    conn.executemany(
        "INSERT INTO votes (matchup_id, rater, choice, voted_at) VALUES (?, ?, ?, ?)", rows
    )

