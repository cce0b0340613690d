"""Schema step 3 (``show_standings`` on leaderboards): a version 2 database, made from the v1
fixture by the released steps, keeps every row and gets boards that hide their standings."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from rater import Client, ValidationError
from rater.store import SCHEMA_VERSION, schema

V1 = Path(__file__).resolve().parent / "fixtures" / "schema_v1.db"


def make_v2(path: Path) -> Path:
    """The v1 fixture taken to version 2 by the released steps (as version 2 of rater left it)."""
    shutil.copyfile(V1, path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        schema.MIGRATIONS[1](conn)
        conn.execute("PRAGMA user_version = 2")
        conn.execute("COMMIT")
    finally:
        conn.close()
    return path


def dump(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_v2_database_gets_show_standings_off_keeping_every_row(tmp_path) -> None:
    v2 = make_v2(tmp_path / "lb.db")
    tables = [r[0] for r in dump(v2, "SELECT name FROM sqlite_master WHERE type = 'table'")]
    before = {t: dump(v2, f"SELECT * FROM {t} ORDER BY rowid") for t in tables}
    with Client(v2) as client:
        assert client.store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 3
        boards = client.mri.list_leaderboards()
        assert boards and not any(b.show_standings for b in boards)  # hidden by default
        shown = boards[0].update(show_standings=True)
        assert shown.show_standings and client.mri.get_leaderboard_by_id(shown.id).show_standings
        with pytest.raises(ValidationError, match="show_standings must be True or False"):
            boards[0].update(show_standings="yes")
    after = {t: dump(v2, f"SELECT * FROM {t} ORDER BY rowid") for t in tables}
    for table in tables:
        if table != "leaderboards":  # later steps may add columns at the end (step 4: batch)
            assert [row[: len(b)] for row, b in zip(after[table], before[table])] == before[table], table
            assert len(after[table]) == len(before[table]), table
    # the leaderboards rows keep every column and gain the new one after them (later steps
    # add more columns after it: step 5, publish_prompts; step 6, min_votes)
    width = len(before["leaderboards"][0])
    assert [row[:width] for row in after["leaderboards"]] == before["leaderboards"]
    assert sorted(row[width] for row in after["leaderboards"]) == [0] * (len(before["leaderboards"]) - 1) + [1]
    with pytest.raises(sqlite3.IntegrityError):
        conn = sqlite3.connect(v2)
        try:
            conn.execute("UPDATE leaderboards SET show_standings = 2")
        finally:
            conn.close()
