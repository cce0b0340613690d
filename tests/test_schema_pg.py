"""The PostgreSQL schema (rater.store.schema_pg) against the SQLite one at the same version.

Each test builds a fresh SQLite database with ``rater.store.db.connect`` and a fresh PostgreSQL
database from ``SCHEMA_PG`` on a real throwaway server, then compares their structure (tables,
columns, keys, indexes, views, triggers) or runs the same writes on both and compares what each
accepts and refuses, with the same trigger messages.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rater.store.db import SCHEMA_VERSION, connect
from rater.store.schema_pg import IDENTITY_TABLES, SCHEMA_PG

try:
    import psycopg
except ImportError:  # then the pg_server fixture skips (or fails the run, in CI) with the reason
    psycopg = None

PG_ONLY_TABLES = {"rater_schema": ["singleton", "version"], "blob_data": ["sha256", "data"]}
PG_ONLY_COLUMNS = {"votes": ["txid"]}
REPEAT = ("a quality-control repeat must repeat an earlier matchup of the same rater on the same "
          "board and media pair, sides swapped")
BENCHMARK = "a matchup must pair media of its own leaderboard's benchmark"
ADMITTED = "rater not admitted: this leaderboard is open only to the members of its audiences"


@pytest.fixture
def pg(pg_server: Any) -> Iterator[Any]:
    """An autocommit connection to a fresh database holding SCHEMA_PG (conftest's cluster)."""
    with psycopg.connect(pg_server.create_database(f"s{uuid.uuid4().hex}"), autocommit=True) as conn:
        with conn.transaction():
            conn.execute(SCHEMA_PG)
        yield conn


@pytest.fixture
def lite(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    conn = connect(tmp_path / "lite.db", create=True)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 10
    yield conn
    conn.close()


class Db:
    """One backend, spoken to with ``?`` placeholders."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.pg = not isinstance(conn, sqlite3.Connection)

    def rows(self, sql: str, *params: object) -> list[tuple]:
        cursor = self.conn.execute(sql.replace("?", "%s") if self.pg else sql, params)
        return [tuple(r) for r in cursor.fetchall()] if cursor.description else []

    def one(self, sql: str, *params: object) -> Any:
        return self.rows(sql, *params)[0][0]

    def outcome(self, sql: str, *params: object) -> str:
        """"ok", or the message of the integrity error refusing the statement."""
        try:
            self.rows(sql, *params)
        except sqlite3.IntegrityError as exc:
            return str(exc)
        except psycopg.IntegrityError as exc:
            return str(exc.diag.message_primary)
        return "ok"

    def refused(self, sql: str, *params: object) -> bool:  # CHECK messages differ
        return self.outcome(sql, *params) != "ok"


def both(lite: sqlite3.Connection, pg: Any, scenario: Callable[[Db], Any]) -> Any:
    """Run ``scenario`` on each backend; what it returns must be the same on both."""
    on_sqlite, on_pg = scenario(Db(lite)), scenario(Db(pg))
    assert on_pg == on_sqlite
    return on_pg


def populate(db: Db) -> dict[str, int]:
    """Two benchmarks with a board, a prompt, two rated models and their media each."""
    ids: dict[str, int] = {}
    db.rows("INSERT INTO blobs (sha256, kind, mime, ext, size) VALUES (?, 'image', 'image/png', 'png', 5)",
            "a" * 64)
    for n in (1, 2):
        db.rows("INSERT INTO benchmarks (id, name, created_at) VALUES (?, 'b', 0)", f"bench-{n}")
        db.rows("INSERT INTO leaderboards (id, name, instruction, show_prompt, created_at, benchmark_id)"
                " VALUES (?, 'b', 'pick', 1, 0, ?)", f"board-{n}", f"bench-{n}")
        ids[f"p{n}"] = db.one("INSERT INTO prompts (benchmark_id, position, text, identifier) "
                              "VALUES (?, 0, 'a cat', 'a cat') RETURNING id", f"bench-{n}")
        for side in "ab":
            model = ids[f"model{n}{side}"] = db.one(
                "INSERT INTO models (benchmark_id, name, created_at) VALUES (?, ?, 0) RETURNING id",
                f"bench-{n}", f"model {side}")
            ids[f"media{n}{side}"] = db.one(
                "INSERT INTO media (benchmark_id, model_id, prompt_id, sha256, created_at) "
                "VALUES (?, ?, ?, ?, 0) RETURNING id", f"bench-{n}", model, ids[f"p{n}"], "a" * 64)
            db.rows("INSERT INTO runs (leaderboard_id, model_id, started_at) VALUES (?, ?, 0)",
                    f"board-{n}", model)
    return ids


def serve(db: Db, ids: dict[str, int], matchup: str, rater: str, at: float, *, board: int = 1,
          media: int = 1, swapped: bool = False, repeat_of: str | None = None,
          batch: int | None = None) -> str:
    left, right = ("b", "a") if swapped else ("a", "b")
    return db.outcome(
        "INSERT INTO matchups (id, leaderboard_id, prompt_id, left_media, left_model, right_media,"
        " right_model, rater, served_at, repeat_of, batch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        matchup, f"board-{board}", ids[f"p{media}"], ids[f"media{media}{left}"],
        ids[f"model{media}{left}"], ids[f"media{media}{right}"], ids[f"model{media}{right}"],
        rater, at, repeat_of, batch)


def vote(db: Db, matchup: str, rater: str, at: float, batch: int | None = None) -> str:
    return db.outcome("INSERT INTO votes (matchup_id, rater, choice, voted_at, batch) "
                      "VALUES (?, ?, 'left', ?, ?)", matchup, rater, at, batch)


# --- structure ------------------------------------------------------------------------------------

def sqlite_tables(lite: sqlite3.Connection, kind: str = "table") -> list[str]:
    return [name for (name,) in lite.execute(
        "SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%' ORDER BY name",
        (kind,))]


def pg_columns(pg: Any, table: str) -> list[tuple]:
    return pg.execute(
        "SELECT column_name, data_type, is_nullable = 'NO', column_default, is_identity = 'YES', "
        "collation_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name = %s ORDER BY ordinal_position", (table,)).fetchall()


def test_same_tables_and_columns_in_the_same_order(lite, pg):
    pg_tables = {t for (t,) in pg.execute("SELECT table_name FROM information_schema.tables WHERE "
                                          "table_schema = 'public' AND table_type = 'BASE TABLE'")}
    assert pg_tables == set(sqlite_tables(lite)) | set(PG_ONLY_TABLES)
    for table, columns in PG_ONLY_TABLES.items():
        assert [c[0] for c in pg_columns(pg, table)] == columns
    types = {"TEXT": {"text"}, "REAL": {"double precision"}, "INTEGER": {"integer", "bigint"}}
    for table in sqlite_tables(lite):
        info = lite.execute(f"PRAGMA table_info({table})").fetchall()
        columns = pg_columns(pg, table)
        assert [c[0] for c in columns] == [c[1] for c in info] + PG_ONLY_COLUMNS.get(table, [])
        for (_, name, kind, notnull, default, pk), (_, pg_type, pg_notnull, pg_default, identity,
                                                    collation) in zip(info, columns):
            where = f"{table}.{name}"
            assert pg_type in types[kind], where
            assert pg_notnull == bool(notnull or pk), where  # a PG key column is never NULL
            assert (re.sub(r"::[a-z ]+$", "", pg_default) if pg_default else None) == default, where
            assert identity == (kind == "INTEGER" and pk == 1 and name == "id"), where
            assert collation == ("C" if kind == "TEXT" else None), where
    assert pg_columns(pg, "votes")[-1][:4] == ("txid", "xid8", True, "pg_current_xact_id()")


def test_identity_tables_are_the_sqlite_rowid_tables(lite, pg):
    rowid_tables = {t for t in sqlite_tables(lite) if any(
        c[1] == "id" and c[2] == "INTEGER" and c[5] == 1 for c in lite.execute(f"PRAGMA table_info({t})"))}
    identity = {t for (t,) in pg.execute("SELECT table_name FROM information_schema.columns "
                                         "WHERE table_schema = 'public' AND is_identity = 'YES'")}
    assert set(IDENTITY_TABLES) == rowid_tables == identity


def sqlite_keys(lite: sqlite3.Connection) -> set[tuple]:
    keys = set()
    for table in sqlite_tables(lite):
        for _, index, unique, origin, partial in lite.execute(f"PRAGMA index_list({table})"):
            if origin in ("pk", "u"):
                cols = tuple(r[2] for r in lite.execute(f"PRAGMA index_info({index})"))
                keys.add((table, "p" if origin == "pk" else "u", cols))
        pk = tuple(c[1] for c in sorted(lite.execute(f"PRAGMA table_info({table})"), key=lambda c: c[5])
                   if c[5])
        keys.add((table, "p", pk))  # an INTEGER PRIMARY KEY has no index of its own
    return keys


def pg_constraints(pg: Any, kinds: str) -> list[tuple]:
    return pg.execute(
        "SELECT c.conrelid::regclass::text, c.contype, c.confrelid::regclass::text, c.confdeltype,"
        " ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a"
        "  ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),"
        " ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a"
        "  ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)"
        " FROM pg_constraint c WHERE c.connamespace = 'public'::regnamespace AND c.contype = ANY(%s)",
        (list(kinds),)).fetchall()


def test_same_primary_keys_uniques_and_foreign_keys(lite, pg):
    pg_keys = {(t, kind, tuple(cols)) for t, kind, _, _, cols, _ in pg_constraints(pg, "pu")}
    extra = {("rater_schema", "p", ("singleton",)), ("blob_data", "p", ("sha256",))}
    assert pg_keys == sqlite_keys(lite) | extra
    actions = {"NO ACTION": "a", "CASCADE": "c", "SET NULL": "n"}
    sqlite_fks = set()
    for table in sqlite_tables(lite):
        grouped: dict[int, list] = {}
        for fk_id, _, target, source, dest, _, on_delete, _ in lite.execute(
                f"PRAGMA foreign_key_list({table})"):
            grouped.setdefault(fk_id, [target, actions[on_delete], [], []])
            grouped[fk_id][2].append(source)
            grouped[fk_id][3].append(dest)
        sqlite_fks |= {(table, t, a, tuple(s), tuple(d)) for t, a, s, d in grouped.values()}
    pg_fks = {(t, ref, action, tuple(cols), tuple(to))
              for t, _, ref, action, cols, to in pg_constraints(pg, "f")}
    assert pg_fks == sqlite_fks | {("blob_data", "blobs", "c", ("sha256",), ("sha256",))}


def test_same_indexes(lite, pg):
    def shape(table: str, sql: str) -> tuple:
        columns = re.search(r"\(([^)]*)\)", sql[sql.index(" ON "):]).group(1)
        where = re.search(r"WHERE \(?(.*?)\)?$", sql)
        return (table, "UNIQUE" in sql.split(" ON ")[0], columns.replace(" ", ""),
                where.group(1).replace("(", "").replace(")", "") if where else None)

    sqlite_indexes = {name: shape(table, sql) for name, table, sql in lite.execute(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    pg_indexes = {name: shape(table, sql) for name, table, sql in pg.execute(
        "SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = 'public' AND "
        "indexname NOT IN (SELECT conname FROM pg_constraint)")}
    pg_indexes = {n: (t, u, c, w.replace("'::text", "'") if w else w) for n, (t, u, c, w) in pg_indexes.items()}
    assert pg_indexes == sqlite_indexes | {"votes_by_txid": ("votes", False, "txid,id", None)}


def test_same_views(lite, pg):
    assert sqlite_tables(lite, "view") == ["board_media", "board_models", "board_prompts"]
    for view in sqlite_tables(lite, "view"):
        columns = pg_columns(pg, view)
        assert [c[0] for c in columns] == [c[1] for c in lite.execute(f"PRAGMA table_info({view})")]
    assert dict((c[0], c[1]) for c in pg_columns(pg, "board_prompts"))["in_scope"] == "boolean"


def test_same_triggers_with_the_same_messages(lite, pg):
    names = {n for (n,) in pg.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")}
    assert names == set(sqlite_tables(lite, "trigger"))
    sqlite_messages = {m.replace("''", "'") for (sql,) in lite.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger'")
        for m in re.findall(r"RAISE\(ABORT, '((?:[^']|'')*)'\)", sql)}
    assert sqlite_messages == {REPEAT, BENCHMARK, ADMITTED}


def test_initial_rows(lite, pg):
    db = Db(pg)
    assert db.rows("SELECT singleton, n FROM catalog_version") == [(1, 0)]
    assert db.rows("SELECT * FROM rater_schema") == db.rows("SELECT * FROM host") == []  # the caller's
    assert Db(lite).rows("SELECT singleton, n FROM catalog_version") == [(1, 0)]


# --- behaviour: the same writes accepted and refused, with the same messages --------------------

def test_a_matchup_must_stay_within_its_board_benchmark(lite, pg):
    def scenario(db: Db) -> list[str]:
        ids = populate(db)
        return [serve(db, ids, "m1", "ann", 1.0, board=2, media=1),   # bench-1 media, bench-2 board
                serve(db, ids, "m2", "ann", 1.0, board=2, media=2)]
    assert both(lite, pg, scenario) == [BENCHMARK, "ok"]


def test_a_repeat_must_swap_an_earlier_matchup_of_the_same_rater(lite, pg):
    def scenario(db: Db) -> list[str]:
        ids = populate(db)
        return [
            serve(db, ids, "m1", "ann", 1.0),
            serve(db, ids, "same-sides", "ann", 2.0, repeat_of="m1"),
            serve(db, ids, "earlier", "ann", 0.5, swapped=True, repeat_of="m1"),
            serve(db, ids, "other-rater", "bob", 2.0, swapped=True, repeat_of="m1"),
            serve(db, ids, "m2", "ann", 2.0, swapped=True, repeat_of="m1"),
            db.outcome("UPDATE matchups SET served_at = 0.1 WHERE id = 'm2'"),    # matchups_repeat_update
            db.outcome("UPDATE matchups SET served_at = 3.0 WHERE id = 'm2'"),
            db.outcome("UPDATE matchups SET repeat_of = 'm2' WHERE id = 'm1'"),
        ]
    assert both(lite, pg, scenario) == ["ok", REPEAT, REPEAT, REPEAT, "ok", REPEAT, "ok", REPEAT]


def test_an_audience_board_admits_only_current_members(lite, pg):
    def scenario(db: Db) -> list[str]:
        ids = populate(db)
        before = [serve(db, ids, "open-1", "eve", 1.0), serve(db, ids, "open-2", "old", 1.0)]
        db.rows("INSERT INTO audiences (id, name, created_at) VALUES ('aud-1', 'panel', 0)")
        db.rows("INSERT INTO board_audiences VALUES ('board-1', 'aud-1')")
        for rater, expires, revoked in (("ann", None, None), ("old", 5.0, None), ("gone", None, 1.0)):
            db.rows("INSERT INTO audience_raters (audience_id, rater, source, created_at, expires_at,"
                    " revoked_at) VALUES ('aud-1', ?, 'invite', 0, ?, ?)", rater, expires, revoked)
        batch = db.one("INSERT INTO import_batches (started_at) VALUES (0) RETURNING id")
        return before + [
            serve(db, ids, "eve", "eve", 2.0),
            serve(db, ids, "ann", "ann", 2.0),
            serve(db, ids, "old-late", "old", 10.0),
            serve(db, ids, "old-early", "old", 4.0),
            serve(db, ids, "gone", "gone", 2.0),
            serve(db, ids, "imported", "eve", 2.0, batch=batch),
            serve(db, ids, "elsewhere", "eve", 2.0, board=2, media=2),
            vote(db, "open-1", "eve", 3.0),
            vote(db, "open-2", "old", 6.0),
            vote(db, "open-2", "old", 4.5),
            vote(db, "open-1", "eve", 3.0, batch),
            vote(db, "ann", "ann", 3.0),
            vote(db, "elsewhere", "eve", 3.0),
        ]
    assert both(lite, pg, scenario) == [
        "ok", "ok", ADMITTED, "ok", ADMITTED, "ok", ADMITTED, "ok", "ok",
        ADMITTED, ADMITTED, "ok", "ok", "ok", "ok"]


def test_catalog_version_counts_each_changed_row(lite, pg):
    def scenario(db: Db) -> list[int]:
        ids = populate(db)  # four runs
        seen = [db.one("SELECT n FROM catalog_version")]
        for statement in (
            f"INSERT INTO runs (leaderboard_id, model_id, started_at) VALUES ('board-1', {ids['model1a']}, 1)",
            "UPDATE models SET status = 'disabled' WHERE benchmark_id = 'bench-1'",   # two rows
            "UPDATE models SET name = name WHERE benchmark_id = 'bench-2'",           # named: counts
            "UPDATE models SET organization = 'lab'",
            "UPDATE prompts SET tags = '[\"a\"]' WHERE benchmark_id = 'bench-1'",
            "UPDATE prompts SET text = 'a dog'",
            "UPDATE models SET status = 'rating' WHERE id = -1",
        ):
            db.rows(statement)
            seen.append(db.one("SELECT n FROM catalog_version"))
        return seen
    assert both(lite, pg, scenario) == [4, 5, 7, 9, 9, 10, 10, 10]


def test_checks_refuse_the_same_values(lite, pg):
    def scenario(db: Db) -> list[bool]:
        populate(db)
        cards = [("released", "2024-02-30"), ("released", "2024-02-29"), ("released", "2024-2-01"),
                 ("url", "ftp://x"), ("url", "HTTPS://x"), ("url", "http://example.org/m"),
                 ("url", "example.org")]
        return [
            db.refused("INSERT INTO prompts (benchmark_id, position, text, identifier, tags) "
                       "VALUES ('bench-1', 1, 'x', 'x', ?)", "[1"),
            db.refused("INSERT INTO prompts (benchmark_id, position, text, identifier, tags) "
                       "VALUES ('bench-1', 2, 'y', 'y', ?)", '["a", 1]'),
            db.refused("UPDATE leaderboards SET excluded_tags = '{' WHERE id = 'board-1'"),
            db.refused("INSERT INTO audiences (id, name, created_at, extra_params) "
                       "VALUES ('aud-1', 'x', 0, 'nope')"),
            *(db.refused(f"INSERT INTO models (benchmark_id, name, created_at, {column}) "
                         "VALUES ('bench-1', ?, 0, ?)", value, value) for column, value in cards),
            db.refused("UPDATE leaderboards SET qualification_required = 3 WHERE id = 'board-1'"),
            db.refused("UPDATE leaderboards SET repeat_share = 0.6 WHERE id = 'board-1'"),
            db.refused("INSERT INTO prompts (benchmark_id, position, text, identifier) "
                       "VALUES ('bench-1', 3, '  ', 'blank')"),
        ]
    assert both(lite, pg, scenario) == [
        True, False, True, True, True, False, True, True, False, False, True, True, True, True]


def test_a_release_date_must_be_a_real_day(lite, pg):
    days = ["2024-02-29", "2023-02-29", "2000-02-29", "1900-02-29", "0000-02-29", "2024-04-31",
            "2024-04-30", "2024-12-31", "9999-12-31", "2024-02-30", "1970-01-01"]
    # SQLite's date() round-trips exactly the real days (it gives NULL for month 13 or day 00,
    # which the SQLite CHECK lets through: PostgreSQL refuses those too)
    real = [lite.execute("SELECT date(?, '+0 days') IS ?", (d, d)).fetchone()[0] == 1 for d in days]
    assert [pg.execute("SELECT rater_is_date(%s)", (d,)).fetchone()[0] for d in days] == real
    assert [pg.execute("SELECT rater_is_date(%s)", (d,)).fetchone()[0]
            for d in ("2024-13-01", "2024-00-10", "2024-01-00", "2024-01-32", "2024-01-01 ")] == [False] * 5


def test_board_scope_follows_the_tags_alike(lite, pg):
    def scenario(db: Db) -> list[tuple]:
        populate(db)
        tags = ['["a"]', '["b"]', '["a", "z"]', "[]", '{"k": "a"}', '"a"', '["c", "a"]']
        for position, tag in enumerate(tags, start=1):
            db.rows("INSERT INTO prompts (benchmark_id, position, text, identifier, tags) "
                    "VALUES ('bench-1', ?, 'p', ?, ?)", position, f"p{position}", tag)
        db.rows("UPDATE leaderboards SET included_tags = '[\"a\"]', excluded_tags = '[\"z\"]' "
                "WHERE id = 'board-1'")
        db.rows("INSERT INTO leaderboards (id, name, instruction, show_prompt, created_at, benchmark_id,"
                " excluded_tags) VALUES ('board-3', 'b', 'pick', 1, 0, 'bench-1', '[\"b\"]')")
        return sorted((board, position, bool(scope)) for board, position, scope in db.rows(
            "SELECT leaderboard_id, position, in_scope FROM board_prompts WHERE benchmark_id = 'bench-1'"))
    scope = both(lite, pg, scenario)
    assert [s for b, _, s in scope if b == "board-1"] == [False, True, False, False, False, True, True, True]
    assert sum(s for b, _, s in scope if b == "board-3") == 7


def test_board_views_list_the_rated_models_and_their_media(lite, pg):
    def scenario(db: Db) -> list[tuple]:
        ids = populate(db)
        db.rows("UPDATE models SET status = 'disabled' WHERE id = ?", ids["model2b"])
        return sorted(db.rows("SELECT leaderboard_id, model_id, prompt_id, sha256 FROM board_media")
                      + db.rows("SELECT leaderboard_id, id, 0, name FROM board_models"))
    assert len(both(lite, pg, scenario)) == 6


# --- PostgreSQL-only pieces ---------------------------------------------------------------------

def test_votes_carry_their_transaction_and_blob_data_goes_with_its_blob(pg):
    db = Db(pg)
    ids = populate(db)
    serve(db, ids, "m1", "ann", 1.0)
    with pg.transaction():
        assert vote(db, "m1", "ann", 2.0) == "ok"
        writer = db.one("SELECT pg_current_xact_id()::text")
    assert db.one("SELECT txid::text FROM votes") == writer
    db.rows("INSERT INTO blobs (sha256, kind, mime, ext, size) VALUES (?, 'text', 'text/plain', 'txt', 2)",
            "b" * 64)
    db.rows("INSERT INTO blob_data (sha256, data) VALUES (?, ?)", "b" * 64, b"hi")
    assert db.refused("INSERT INTO blob_data (sha256, data) VALUES (?, ?)", "c" * 64, b"x")
    db.rows("DELETE FROM blobs WHERE sha256 = ?", "b" * 64)
    assert db.rows("SELECT sha256 FROM blob_data") == []


def test_explicit_ids_then_setval_as_documented(pg):
    db = Db(pg)
    db.rows("INSERT INTO import_batches (id, started_at) VALUES (41, 0), (7, 0)")
    db.rows("SELECT setval(pg_get_serial_sequence('import_batches', 'id'), coalesce(max(id), 0) + 1, "
            "false) FROM import_batches")
    assert db.one("INSERT INTO import_batches (started_at) VALUES (0) RETURNING id") == 42


def test_bad_json_is_a_failed_check_not_a_data_error(pg):
    checks = [pg.execute("SELECT rater_is_json(%s)", (doc,)).fetchone()[0]
              for doc in ("[1", '"\\u0000"', "", "[]", ' {"a": [1, null]} ')]
    assert checks == [False, False, False, True, True]
    with pytest.raises(psycopg.errors.CheckViolation):
        pg.execute("INSERT INTO benchmarks VALUES ('bench-1', 'b', 0)")
        pg.execute("INSERT INTO leaderboards (id, name, instruction, show_prompt, created_at, "
                   "benchmark_id, included_tags) VALUES ('board-1', 'b', 'i', 1, 0, 'bench-1', '[')")
