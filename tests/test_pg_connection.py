"""The PostgreSQL connection the store's SQL speaks to (rater/store/postgres.py), on a real server."""

from __future__ import annotations

import sqlite3

import pytest

from rater import Client
from rater.errors import DatabaseError
from rater.store.postgres import _placeholders, display_url


def test_placeholders_are_rewritten_only_outside_quotes() -> None:
    assert _placeholders("SELECT ?, '?', \"a?\" WHERE x LIKE 'a%' AND y = ?") == (
        "SELECT %s, '?', \"a?\" WHERE x LIKE 'a%%' AND y = %s")
    assert _placeholders("INSERT INTO t VALUES (:id, :name_2, x::text)") == (
        "INSERT INTO t VALUES (%(id)s, %(name_2)s, x::text)")


def test_a_password_never_reaches_a_message() -> None:
    assert display_url("postgresql://u:s3cret@db.example:5432/x") == "postgresql://u:***@db.example:5432/x"
    assert display_url("postgresql://u@db/x") == "postgresql://u@db/x"
    with pytest.raises(DatabaseError) as caught:
        Client("postgresql://u:s3cret@127.0.0.1:1/x")  # nothing listens on port 1
    assert "s3cret" not in str(caught.value) and "127.0.0.1:1" in str(caught.value)


def test_a_refusal_of_the_schema_arrives_as_an_integrity_error(pg_server) -> None:
    client = Client(pg_server.create_database("integrity"), create=True)
    conn = client.store.conn
    with pytest.raises(sqlite3.IntegrityError, match="CHECK|check"):
        conn.execute("INSERT INTO benchmarks (id, name, created_at) VALUES (?, ?, ?)", ("ab", "x", 1.0))
    with pytest.raises(sqlite3.IntegrityError, match="duplicate|unique"):
        for _ in range(2):
            conn.execute("INSERT INTO benchmarks (id, name, created_at) VALUES (?, ?, ?)", ("abcd", "x", 1.0))
    client.close()


def test_a_lost_server_connection_is_replaced_on_the_next_use(pg_server) -> None:
    import psycopg

    client = Client(pg_server.create_database("lost"), create=True)
    board = client.mri.create_new_leaderboard("B", "Which?", ["a", "b"])
    pid = client.store.conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(Exception):  # the statement in flight when the server dropped it
        client.store.conn.execute("SELECT 1").fetchone()
    assert client.mri.get_leaderboard_by_id(board.id).name == "B"  # a new connection
    assert client.store.conn.execute("SELECT pg_backend_pid()").fetchone()[0] != pid
    client.close()
