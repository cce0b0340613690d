"""Export/import across backends: the same board exports the same bytes from SQLite and from
PostgreSQL, one import runs at a time on either, and the integrity check sees a dangling key on
either (the hosts of test_exchange, built on each backend)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_exchange import _dump, built, hosts  # noqa: F401  (fixtures)

from prebuilt import Prebuilt
from rater import Client
from rater.exchange.votes import ExchangeError
from rater.store import exchange as exchange_sql
from rater.store import integrity

pytestmark = pytest.mark.both_backends


def test_check_integrity_names_a_dangling_reference(hosts) -> None:
    """A row whose foreign key names no row (written with the checks set aside, as a damaged
    file or a careless copy could hold) is reported on either backend."""
    _, _, (client, board), _ = hosts
    conn = client.store.conn
    assert integrity.check_integrity(conn) == []
    rules_off = ("SET session_replication_role = replica" if client.store.path is None
                 else "PRAGMA foreign_keys = OFF")
    conn.execute(rules_off)
    conn.execute("UPDATE raters SET leaderboard_id = 'gone' WHERE leaderboard_id = ?", (board.id,))
    [problem, *_] = integrity.check_integrity(conn)
    assert problem.startswith("dangling reference in raters row ") and problem.endswith(" to leaderboards")


def test_an_export_is_the_same_from_sqlite_and_from_postgresql(built: Prebuilt, pg_location: str, request,
                                                               tmp_path: Path) -> None:
    """The same board on both backends (host B, which merged host A's votes, copied onto a
    server by copy-db) exports the same bytes, apart from the host ids and the export time."""
    from rater.exchange.copy_db import copy_database

    work, locations, (a_id, b_id) = built.copy("sqlite", None, request)
    with Client(locations["host-a"]) as a_client, Client(locations["host-b"]) as b_client:
        a_client.mri.get_leaderboard_by_id(a_id).export_votes(work / "a.jsonl")
        b_client.import_votes(work / "a.jsonl")
    copy_database(locations["host-b"], pg_location)
    exported = export_text(locations["host-b"], b_id, tmp_path / "sqlite.jsonl")
    assert exported.count('"type": "vote"') == 70 and exported.count("HOST") == 31
    assert export_text(pg_location, b_id, tmp_path / "postgresql.jsonl") == exported


def export_text(location: str, board_id: str, path: Path) -> str:
    """The board's export, as text, with this host's id as ``HOST`` and the export time as 0."""
    with Client(location) as client:
        host = exchange_sql.host_id(client.store.conn)
        client.mri.get_leaderboard_by_id(board_id).export_votes(path)
    text = path.read_bytes().decode("utf-8").replace(host, "HOST")
    return re.sub(r'"exported_at": [0-9.e+]+', '"exported_at": 0', text)


def test_an_import_waits_for_the_one_running(hosts) -> None:
    """One import at a time per database (an flock on SQLite, a session advisory lock on
    PostgreSQL, so on every host): the second is refused in one line, changing nothing."""
    tmp, _, (_, a), (b_client, _) = hosts
    a.export_votes(path := tmp / "a.jsonl")
    other = Client(b_client.db_path)  # another process's, or host's, connection
    before = _dump(b_client)
    with exchange_sql.import_turn(other.store.conn, other.store.path) as ours:
        assert ours
        with pytest.raises(ExchangeError, match=r"another import into .* is running: .*nothing was imported$"):
            b_client.import_votes(path)
        assert _dump(b_client) == before
    other.close()
    assert b_client.import_votes(path).votes_added == 40
