"""The store: connection settings, schema version, constraints that make bad states unstorable,
connections handed between threads. Tests marked ``both_backends`` run on SQLite and on
PostgreSQL; the settings of each have a test of their own."""

from __future__ import annotations

import re
import sqlite3
import threading
import uuid

import pytest

from rater import Client, DatabaseError, SchemaTooNewError
from rater.store import SCHEMA_VERSION, catalog, votes


def test_pragmas(client: Client) -> None:
    conn = client.store.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 10_000
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 1
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: a vote survives power loss


def test_postgresql_settings(pg_location: str) -> None:
    from rater.store.postgres import LOCK_TIMEOUT_SECONDS

    with Client(pg_location, create=True) as client:
        conn = client.store.conn
        assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "on"  # a vote survives power loss
        assert conn.execute("SHOW lock_timeout").fetchone()[0] == f"{LOCK_TIMEOUT_SECONDS}s"
        assert conn.execute("SELECT version FROM rater_schema").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SHOW server_encoding").fetchone()[0] == "UTF8"


#: How each backend reports the commit durability of a connection, and its "off" value.
SYNCHRONOUS = {"sqlite": ("PRAGMA synchronous", 0), "postgresql": ("SHOW synchronous_commit", "off")}


@pytest.mark.both_backends
def test_set_synchronous_reaches_every_connection_of_the_store(client: Client, backend: str) -> None:
    query, off = SYNCHRONOUS[backend]
    store = client.store
    first = store.conn
    client.store.set_synchronous("off")
    seen: list[int] = []
    worker = threading.Thread(target=lambda: seen.append(store.conn.execute(query).fetchone()[0]))
    worker.start()
    worker.join()
    assert first.execute(query).fetchone()[0] == off
    assert seen == [off]  # a connection opened later, on another thread, follows too
    with pytest.raises(ValueError, match="synchronous must be OFF, NORMAL or FULL"):
        store.set_synchronous("sometimes")
    assert first.execute(query).fetchone()[0] == off
    store.set_synchronous("full")
    assert first.execute(query).fetchone()[0] != off


@pytest.fixture
def board(client: Client, png):
    lb = client.mri.create_new_leaderboard("B", "Which?", ["p1", "p2"], False)
    lb.evaluate_model("m1", [png(1), png(2)], ["p1", "p2"])
    lb.evaluate_model("m2", [png(3), png(4)], ["p1", "p2"])
    other = client.mri.create_new_leaderboard("Other", "Which?", ["p1"], False)
    other.evaluate_model("m3", [png(5)], ["p1"])
    media = {(m["model"], m["prompt"]): m for b in (lb, other) for m in catalog.list_media(client.store.conn, b.id)}
    return lb, other, media


T0 = 1_750_000_000.0  # a plausible time (the store refuses times before 2000)


def matchup(lb, left, right, rater="r", prompt_id=None):
    return {"id": uuid.uuid4().hex, "leaderboard_id": lb.id, "prompt_id": prompt_id or left["prompt_id"],
            "left_media": left["id"], "left_model": left["model_id"], "right_media": right["id"],
            "right_model": right["model_id"], "rater": rater, "served_at": T0, "repeat_of": None}


@pytest.mark.both_backends
def test_valid_matchup_and_vote(client: Client, board) -> None:
    lb, _, media = board
    row = matchup(lb, media[("m1", "p1")], media[("m2", "p1")])
    with client.store.write() as conn:
        votes.insert_matchup(conn, row)
        assert votes.insert_vote(conn, row["id"], "r", "left", T0 + 2)
        assert not votes.insert_vote(conn, row["id"], "r", "right", T0 + 3)  # one vote per matchup
    assert votes.get_vote(client.store.conn, row["id"])["choice"] == "left"


@pytest.mark.both_backends
@pytest.mark.parametrize("case", ["different prompts", "same model", "other board", "wrong model"])
def test_invalid_matchups_are_unstorable(client: Client, board, case: str) -> None:
    lb, other, media = board
    rows = {
        "different prompts": matchup(lb, media[("m1", "p1")], media[("m2", "p2")]),
        "same model": matchup(lb, media[("m1", "p1")], media[("m1", "p1")]),
        "other board": matchup(lb, media[("m1", "p1")], media[("m3", "p1")]),
        "wrong model": {**matchup(lb, media[("m1", "p1")], media[("m2", "p1")]), "left_model": media[("m2", "p1")]["model_id"], "right_model": media[("m1", "p1")]["model_id"]},
    }
    with pytest.raises(sqlite3.IntegrityError):
        with client.store.write() as conn:
            votes.insert_matchup(conn, rows[case])
    assert client.store.conn.execute("SELECT count(*) FROM matchups").fetchone()[0] == 0


@pytest.mark.both_backends
def test_votes_must_refer_to_a_matchup_served_to_that_rater(client: Client, board) -> None:
    lb, _, media = board
    row = matchup(lb, media[("m1", "p1")], media[("m2", "p1")], rater="alice")
    with client.store.write() as conn:
        votes.insert_matchup(conn, row)
    for matchup_id, rater in ((uuid.uuid4().hex, "alice"), (row["id"], "bob")):
        with pytest.raises(sqlite3.IntegrityError):
            with client.store.write() as conn:
                votes.insert_vote(conn, matchup_id, rater, "left", T0 + 2)
    with pytest.raises(sqlite3.IntegrityError):
        with client.store.write() as conn:
            votes.insert_vote(conn, row["id"], "alice", "sideways", T0 + 2)
    assert client.store.conn.execute("SELECT count(*) FROM votes").fetchone()[0] == 0


def test_refuses_files_that_are_not_our_database(tmp_path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("just text " * 100)
    with pytest.raises(DatabaseError, match="not an SQLite database"):
        Client(text)
    assert text.read_text() == "just text " * 100
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.commit()
    conn.close()
    before = foreign.read_bytes()
    with pytest.raises(DatabaseError, match="SQLite database of something else"):
        Client(foreign)
    assert foreign.read_bytes() == before


def test_refuses_a_newer_schema_without_touching_it(tmp_path) -> None:
    path = tmp_path / "future.db"
    Client(path, create=True).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(SchemaTooNewError, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
        Client(path)
    assert path.read_bytes() == before


def _in_thread(fn):  # type: ignore[no-untyped-def]
    import threading

    out: list = []

    def run() -> None:
        try:
            out.append(fn())
        except BaseException as exc:  # noqa: BLE001  (raised again in the caller's thread)
            out.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]


@pytest.mark.both_backends
def test_release_thread_hands_the_connection_to_the_next_thread(client: Client) -> None:
    first = client.store.conn

    def use_and_release() -> sqlite3.Connection:
        conn = client.store.conn
        conn.execute("SELECT count(*) FROM leaderboards").fetchone()
        client.store.release_thread()
        return conn

    used = _in_thread(use_and_release)
    assert used is not first  # each thread has its own while it runs
    assert _in_thread(use_and_release) is used  # the next thread gets it back, still open
    assert used.execute("SELECT 1").fetchone() == (1,)
    assert client.store.conn is first  # this thread's own is untouched
    client.store.close()
    with pytest.raises(sqlite3.ProgrammingError):  # close() closes the idle ones too
        used.execute("SELECT 1")


@pytest.mark.both_backends
def test_release_thread_keeps_at_most_a_few_and_never_one_inside_a_transaction(client: Client) -> None:
    import threading

    from rater.store.store import IDLE_CONNECTIONS

    held = threading.Barrier(IDLE_CONNECTIONS + 2)
    conns: list[sqlite3.Connection] = []

    def hold() -> None:  # all alive at once: each opens its own
        conns.append(client.store.conn)
        held.wait(timeout=30)
        client.store.release_thread()

    workers = [threading.Thread(target=hold) for _ in range(IDLE_CONNECTIONS + 2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    open_ = []
    for conn in conns:
        try:
            conn.execute("SELECT 1")
            open_.append(conn)
        except sqlite3.ProgrammingError:
            pass
    assert len(open_) == IDLE_CONNECTIONS  # the rest were closed

    def leave_open() -> sqlite3.Connection:
        conn = client.store.conn
        conn.execute("BEGIN")
        conn.execute("UPDATE leaderboards SET name = name")
        client.store.release_thread()
        return conn

    left = _in_thread(leave_open)
    with pytest.raises(sqlite3.ProgrammingError):  # closed (rolled back), not handed on
        left.execute("SELECT 1")
    assert _in_thread(lambda: client.store.conn) is not left


def test_a_handed_back_connection_is_refused_once_the_file_was_replaced(tmp_path) -> None:
    from rater.errors import DatabaseGone

    path = tmp_path / "r.db"
    with Client(path, create=True) as client:
        _in_thread(lambda: (client.store.conn, client.store.release_thread()))
        path.rename(tmp_path / "moved.db")
        Client(path, create=True).close()  # another file under the name
        with pytest.raises(DatabaseGone):
            _in_thread(lambda: client.store.conn)


@pytest.mark.both_backends
def test_change_marker_moves_on_every_change_a_cached_page_depends_on(client: Client, png) -> None:
    from rater.app.session import standings_key

    lb = client.mri.create_new_leaderboard("Cached", "Which?", ["p1"], False)
    seen = [standings_key(lb)]
    lb.evaluate_model("m1", [png(1)], ["p1"])  # a new model: the Standings page must show it
    seen.append(standings_key(lb))
    lb.evaluate_model("m2", [png(2)], ["p1"])
    seen.append(standings_key(lb))
    matchup = lb.next_matchup("r")
    lb.record_vote(matchup.id, "left", "r")
    seen.append(standings_key(lb))
    lb.exclude_rater("r")
    seen.append(standings_key(lb))
    assert len(set(seen)) == len(seen), seen
    assert standings_key(lb) == seen[-1]  # and stays put while nothing changes


def test_postgresql_integrity_check_finds_a_dangling_reference(pg_location: str, png) -> None:
    """PostgreSQL enforces foreign keys, but a load with triggers off (``session_replication_role
    = replica``) does not: the integrity check must still see a vote whose matchup is gone."""
    from rater.store import integrity

    with Client(pg_location, create=True) as client:
        lb = client.mri.create_new_leaderboard("B", "Which?", ["p1"], False)
        lb.evaluate_model("m1", [png(1)], ["p1"])
        lb.evaluate_model("m2", [png(2)], ["p1"])
        m = lb.next_matchup("r")
        lb.record_vote(m.id, "left", "r")
        conn = client.store.conn
        assert integrity.check_integrity(conn) == []
        conn.execute("SET session_replication_role = replica")
        conn.execute("DELETE FROM matchups WHERE id = ?", (m.id,))
        conn.execute("SET session_replication_role = origin")
        [problem] = integrity.check_integrity(conn)
        assert re.fullmatch(r"dangling reference in votes row \S+ to matchups", problem), problem
