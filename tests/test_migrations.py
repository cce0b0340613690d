"""Schema evolution: a database made by schema version 1 opens with the current code and is
migrated forward in place, one ordered step at a time, keeping every row.

``tests/fixtures/schema_v1.db`` comes from ``tests/fixtures/make_schema_v1.py`` (a frozen copy
of the version 1 DDL). The checks read the file with plain ``sqlite3``: they are about what is
on disk, not about what the store's functions make of it.
"""

from __future__ import annotations

import importlib.util
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from rater import Client
from rater.store import SCHEMA_VERSION, db, migrate, schema
from rater.store import exchange as exchange_sql
from rater.store import integrity

FIXTURES = Path(__file__).resolve().parent / "fixtures"
V1 = FIXTURES / "schema_v1.db"
V1_TABLES = ["leaderboards", "blobs", "prompts", "models", "media", "matchups", "votes", "raters"]


def _generator():
    spec = importlib.util.spec_from_file_location("make_schema_v1", FIXTURES / "make_schema_v1.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: Columns a later step renamed: step 7 made each board a benchmark of the same id, so the
#: owner of prompts, models and media is now ``benchmark_id``, holding the same value.
RENAMED = {(t, "leaderboard_id"): "benchmark_id" for t in ("prompts", "models", "media")}


def _rows(path: Path, columns: dict[str, list[str]] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the v1 tables, restricted to ``columns`` (the v1 columns, under their
    current names) when given."""
    conn = sqlite3.connect(path)
    try:
        out = {}
        for table in V1_TABLES:
            cols = ", ".join(RENAMED.get((table, c), c) for c in columns[table]) if columns else "*"
            out[table] = conn.execute(f"SELECT {cols} FROM {table} ORDER BY rowid").fetchall()
        return out
    finally:
        conn.close()


def _columns(path: Path) -> dict[str, list[str]]:
    conn = sqlite3.connect(path)
    try:
        return {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in V1_TABLES}
    finally:
        conn.close()


def _shape(conn: sqlite3.Connection) -> dict[str, Any]:
    """Tables with their columns (name, type, not null, default, pk) and indexes."""
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {
        "tables": {t: [tuple(r[1:]) for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables},
        "indexes": sorted(r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")),
        "foreign_keys": {t: sorted(tuple(r[2:5]) for r in conn.execute(f"PRAGMA foreign_key_list({t})"))
                         for t in tables},
    }


@pytest.fixture
def v1_copy(tmp_path: Path) -> Path:
    target = tmp_path / "old" / "lb.db"
    target.parent.mkdir()
    shutil.copyfile(V1, target)
    return target


def test_fixture_is_what_the_generator_makes(tmp_path: Path) -> None:
    fresh = _generator().make(tmp_path / "fresh.db")
    a, b = sqlite3.connect(fresh), sqlite3.connect(V1)
    try:
        assert list(a.iterdump()) == list(b.iterdump())
        assert b.execute("PRAGMA user_version").fetchone()[0] == 1
    finally:
        a.close()
        b.close()


def test_v1_database_is_migrated_in_place_keeping_every_row(v1_copy: Path) -> None:
    v1_columns = _columns(v1_copy)
    before = _rows(v1_copy)
    assert all(before[t] for t in V1_TABLES), "the fixture has rows in every table"
    with Client(v1_copy) as client:  # opening migrates
        conn = client.store.conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert integrity.check_integrity(conn) == []
        boards = {b.id: b for b in client.mri.list_leaderboards()}
        assert boards["k7gq2mxa"].name == "Art <b>arena</b> 🎨"
        assert boards["k7gq2mxa"].prompts == ["A red sun", "مرحبا boat"]
        assert [m.name for m in boards["k7gq2mxa"].models()] == ["alpha", "beta 🚀"]
        assert boards["k7gq2mxa"].summary()["votes"] == 3
        assert boards["p3xw9tzb"].inverse_ranking is True
        host = exchange_sql.host_id(conn)
        assert len(host) == 32 and int(host, 16) >= 0
        assert [r["origin"] for r in exchange_sql.exported_votes(conn, "k7gq2mxa")] == [host] * 3
    assert _rows(v1_copy, v1_columns) == before  # every v1 row, every v1 column, unchanged
    assert not Path(f"{v1_copy}.bak").exists() and len(list(v1_copy.parent.glob("*.db"))) == 1


def test_migrated_schema_equals_a_fresh_one(v1_copy: Path, tmp_path: Path) -> None:
    Client(v1_copy).close()
    Client(tmp_path / "fresh.db", create=True).close()
    migrated, fresh = sqlite3.connect(v1_copy), sqlite3.connect(tmp_path / "fresh.db")
    try:
        assert _shape(migrated) == _shape(fresh)
    finally:
        migrated.close()
        fresh.close()


def test_migrations_are_an_ordered_list_of_steps(tmp_path: Path) -> None:
    assert db.MIGRATIONS is schema.MIGRATIONS and SCHEMA_VERSION == len(schema.MIGRATIONS) >= 2
    conn = sqlite3.connect(tmp_path / "steps.db", isolation_level=None)
    try:
        for version, step in enumerate(schema.MIGRATIONS):
            assert conn.execute("PRAGMA user_version").fetchone()[0] == version
            conn.execute("BEGIN")
            step(conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"host", *V1_TABLES} <= tables
        assert migrate(conn, "steps.db") == SCHEMA_VERSION  # nothing left to do
    finally:
        conn.close()


def test_a_failing_step_leaves_the_last_complete_version(v1_copy: Path, monkeypatch) -> None:
    before = _rows(v1_copy)
    real = list(schema.MIGRATIONS)

    def half_done(conn: sqlite3.Connection) -> None:
        real[1](conn)  # the whole v2 step runs ...
        raise RuntimeError("power cut")  # ... and then the step fails before it is recorded

    monkeypatch.setattr(db, "MIGRATIONS", [real[0], half_done])
    with pytest.raises(RuntimeError, match="power cut"):
        Client(v1_copy)
    conn = sqlite3.connect(v1_copy)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert "origin" not in [r[1] for r in conn.execute("PRAGMA table_info(votes)")]
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'host'").fetchone()[0] == 0
    finally:
        conn.close()
    assert _rows(v1_copy) == before
    monkeypatch.undo()
    with Client(v1_copy) as client:  # the real step then succeeds
        assert client.store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert _rows(v1_copy, _columns(V1)) == before


def test_two_processes_opening_an_old_file_migrate_it_once(v1_copy: Path) -> None:
    first, second = Client(v1_copy), Client(v1_copy)
    try:
        assert exchange_sql.host_id(first.store.conn) == exchange_sql.host_id(second.store.conn)
    finally:
        first.close()
        second.close()


def test_step_10_adds_weighted_scoring_off_keeping_every_row(tmp_path: Path) -> None:
    """Schema step 10: every existing board keeps counting votes alike (weighted_scoring 0)."""
    target = tmp_path / "lb.db"
    shutil.copyfile(FIXTURES / "schema_v6.db", target)
    with Client(target) as client:
        boards = client.mri.list_leaderboards()
        assert boards and not any(b.weighted_scoring for b in boards)
        on = boards[0].update(weighted_scoring=True)
        assert on.weighted_scoring and client.mri.get_leaderboard_by_id(on.id).weighted_scoring
        with pytest.raises(Exception, match="weighted_scoring must be True or False"):
            boards[0].update(weighted_scoring="yes")


# -- PostgreSQL: the version machinery ----------------------------------------------------------
# A PostgreSQL database is created at the current version in one step (rater/store/schema_pg.py),
# its version in table rater_schema; there is no older PostgreSQL schema to migrate from.


def _raw(url: str):  # type: ignore[no-untyped-def]
    """A plain server connection (not the store's), speaking the store's ``?`` SQL."""
    import psycopg

    from rater.store.postgres import PgConnection

    return PgConnection(psycopg.connect(url, autocommit=True), url)


def _pg_dump(url: str) -> dict[str, Any]:
    from db_dump import dump_database

    conn = _raw(url)
    try:
        return dump_database(conn)
    finally:
        conn.close()


@pytest.mark.parametrize("version, error, message", [
    (SCHEMA_VERSION + 1, "SchemaTooNewError", f"schema version {SCHEMA_VERSION + 1}, newer than this tool's"),
    (SCHEMA_VERSION - 1, "DatabaseError", f"schema version {SCHEMA_VERSION - 1}, which no release of rater wrote"),
])
def test_postgresql_refuses_another_schema_version_untouched(pg_location: str, version: int, error: str,
                                                             message: str) -> None:
    from rater import errors

    with Client(pg_location, create=True) as client:
        client.mri.create_new_leaderboard("B", "Which?", ["p"])
    conn = _raw(pg_location)
    conn.execute("UPDATE rater_schema SET version = ?", (version,))
    conn.close()
    before = _pg_dump(pg_location)
    for create in (False, True):
        with pytest.raises(getattr(errors, error), match=message) as caught:
            Client(pg_location, create=create).mri.list_leaderboards()
        assert "\n" not in str(caught.value)
    assert _pg_dump(pg_location) == before


def test_postgresql_refuses_a_database_of_something_else_untouched(pg_location: str) -> None:
    from rater import DatabaseError

    conn = _raw(pg_location)
    conn.execute("CREATE TABLE people (name TEXT PRIMARY KEY)")
    conn.execute("INSERT INTO people VALUES (?)", ("ann",))
    conn.close()
    before = _pg_dump(pg_location)
    for create in (False, True):
        with pytest.raises(DatabaseError, match=r"holds something else \(1 tables, no rater schema\): refusing"):
            Client(pg_location, create=create).mri.list_leaderboards()
    assert _pg_dump(pg_location) == before


def test_postgresql_empty_database_gets_the_current_schema_only_with_create(pg_location: str) -> None:
    from rater import DatabaseNotFound

    with pytest.raises(DatabaseNotFound, match="the server database is empty"):
        Client(pg_location).mri.list_leaderboards()
    assert _pg_dump(pg_location)["tables"] == {}
    with Client(pg_location, create=True) as client:
        conn = client.store.conn
        assert conn.execute("SELECT singleton, version FROM rater_schema").fetchall() == [(1, SCHEMA_VERSION)]
        assert len(exchange_sql.host_id(conn)) == 32
        assert integrity.check_integrity(conn) == []
    tables = set(_pg_dump(pg_location)["tables"])
    assert {"rater_schema", "blob_data", "host", *V1_TABLES} <= tables


def _create_at_once(url: str, start, out) -> None:  # type: ignore[no-untyped-def]
    try:
        start.wait(30)
        with Client(url, create=True) as client:
            out.put(exchange_sql.host_id(client.store.conn))
    except BaseException as exc:  # noqa: BLE001  (reported to the test)
        out.put(f"{type(exc).__name__}: {exc}")


def test_postgresql_processes_creating_the_schema_at_once_make_it_once(pg_location: str) -> None:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")  # fresh interpreters, as separate hosts would be
    start, out = ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=_create_at_once, args=(pg_location, start, out)) for _ in range(4)]
    for w in workers:
        w.start()
    start.set()
    hosts = [out.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(30)
    assert len(set(hosts)) == 1 and len(hosts[0]) == 32, hosts  # every one saw the same, one schema
    conn = _raw(pg_location)
    try:
        assert conn.execute("SELECT count(*) FROM rater_schema").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM host").fetchone()[0] == 1
    finally:
        conn.close()
