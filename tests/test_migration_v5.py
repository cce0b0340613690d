"""Schema step 5 (model cards on ``models``, ``publish_prompts`` on leaderboards): a version 4
database, made from the v1 fixture by the released steps, keeps every row; its boards keep
what their site showed (prompts published exactly where raters saw them); the new columns
refuse what the API refuses."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rater import Client
from rater.store import SCHEMA_VERSION, schema
from test_migration_show_standings import dump, make_v2



def make_v4(path: Path) -> Path:
    """The v1 fixture taken to version 4 by the released steps (as version 4 of rater left it)."""
    make_v2(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for step in schema.MIGRATIONS[2:4]:
            step(conn)
        conn.execute("PRAGMA user_version = 4")
        conn.execute("COMMIT")
    finally:
        conn.close()
    return path


def test_v4_database_keeps_every_row_and_what_its_site_showed(tmp_path) -> None:
    v4 = make_v4(tmp_path / "lb.db")
    tables = [r[0] for r in dump(v4, "SELECT name FROM sqlite_master WHERE type = 'table'")]
    before = {t: dump(v4, f"SELECT * FROM {t} ORDER BY rowid") for t in tables}
    shown_before = dict(dump(v4, "SELECT id, show_prompt FROM leaderboards"))
    assert sorted(shown_before.values()) == [0, 1]  # the fixture has one board of each
    with Client(v4) as client:
        assert client.store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 5
        boards = client.mri.list_leaderboards()
        assert {b.id: b.publish_prompts for b in boards} == {k: bool(v) for k, v in shown_before.items()}
        for board in boards:
            assert all(not any(c.as_dict().values()) for c in board.model_cards().values())
        board = next(b for b in boards if b.models())
        name = board.models()[0].name
        assert board.set_model_info(name, organization="Acme").organization == "Acme"
    after = {t: dump(v4, f"SELECT * FROM {t} ORDER BY rowid") for t in tables}
    for table in tables:  # every old row and column kept (new columns come last)
        assert len(after[table]) == len(before[table]), table
        if table != "models":
            assert [row[: len(b)] for row, b in zip(after[table], before[table])] == before[table], table
    assert [row[:4] for row in after["models"]] == before["models"]


@pytest.mark.parametrize("statement", [
    "UPDATE models SET url = 'javascript:alert(1)'",
    "UPDATE models SET released = '2023-02-29'",
    "UPDATE models SET released = '2023-2-1'",
    "UPDATE models SET organization = substr(hex(zeroblob(60)), 1, 101)",
    "UPDATE models SET description = NULL",
    "UPDATE leaderboards SET publish_prompts = 2",
])
def test_the_new_columns_refuse_what_the_api_refuses(tmp_path, statement) -> None:
    v4 = make_v4(tmp_path / "lb.db")
    Client(v4).close()  # migrates
    conn = sqlite3.connect(v4)
    try:
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(statement)
    finally:
        conn.close()
