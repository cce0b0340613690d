"""Schema step 7 (benchmarks): a database made by version 6 becomes one benchmark per board,
of the same id and name, keeping every row and every standing.

``tests/fixtures/schema_v6.db`` was written by the version 6 code through its public API
(``tests/fixtures/make_schema_v6.py``), and ``schema_v6.standings.json`` holds the standings
that version computed for each board.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from rater import Client
from rater.store import SCHEMA_VERSION

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TABLES = ["leaderboards", "blobs", "prompts", "models", "media", "matchups", "votes", "raters", "host"]
COLUMNS = ["name", "wins", "losses", "ties", "score", "ci_low", "ci_high", "rank", "rank_low", "rank_high"]


@pytest.fixture
def v6(tmp_path: Path) -> Path:
    target = tmp_path / "lb.db"
    shutil.copyfile(FIXTURES / "schema_v6.db", target)
    return target


def _dump(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in TABLES}
    finally:
        conn.close()


def test_every_row_is_kept_and_each_board_becomes_a_benchmark(v6: Path) -> None:
    before = _dump(v6)
    assert sqlite3.connect(v6).execute("PRAGMA user_version").fetchone()[0] == 6
    with Client(v6) as client:
        assert client.store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 7
        boards = client.mri.list_leaderboards()
        assert len(boards) == 2
        conn = client.store.conn
        for board in boards:
            assert conn.execute("SELECT name FROM benchmarks WHERE id = ?", (board.id,)).fetchone() == (board.name,)
            assert conn.execute("SELECT benchmark_id FROM leaderboards WHERE id = ?", (board.id,)).fetchone() == (board.id,)
            assert [m.name for m in board.models()] == ["alpha", "beta", "gamma"]
            assert conn.execute("SELECT identifier FROM prompts WHERE benchmark_id = ? ORDER BY position",
                                (board.id,)).fetchall() == [(t,) for t in board.prompts]
        assert conn.execute("SELECT DISTINCT status FROM models").fetchall() == [("rating",)]
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 6  # one per model and board
    after = _dump(v6)
    for table in TABLES:  # step 7 keeps the column order and appends its columns at the end
        assert [row[: len(b)] for row, b in zip(after[table], before[table])] == before[table], table
        assert len(after[table]) == len(before[table]), table


def test_standings_are_identical_after_the_migration(v6: Path) -> None:
    expected = json.loads((FIXTURES / "schema_v6.standings.json").read_text())
    with Client(v6) as client:
        for board_id, rows in expected.items():
            table = client.mri.get_leaderboard_by_id(board_id).get_standings(seed=7)
            got = table[COLUMNS].to_dict(orient="records")
            assert got == rows, board_id
