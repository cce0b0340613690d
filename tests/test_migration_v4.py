"""Schema step 4 (pending import batches, the repeat trigger) on a database made by version 1
(``tests/fixtures/schema_v1.db``) and brought to version 2 first, as a user upgrading twice."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from rater import Client
from rater.store import SCHEMA_VERSION, schema, votes

V1 = Path(__file__).resolve().parent / "fixtures" / "schema_v1.db"


def test_a_v2_database_gets_step_4_keeping_every_vote_visible(tmp_path: Path) -> None:
    path = tmp_path / "lb.db"
    shutil.copyfile(V1, path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    schema.MIGRATIONS[1](conn)  # what version 2 of the tool did
    conn.execute("PRAGMA user_version = 2")
    conn.execute("COMMIT")
    before = conn.execute("SELECT id, matchup_id, rater, choice, voted_at, origin FROM votes").fetchall()
    served = conn.execute("SELECT id, repeat_of FROM matchups ORDER BY rowid").fetchall()
    conn.close()
    assert before, "the fixture has votes"
    with Client(path) as client:  # opening runs steps 3 and 4 (and any later ones)
        conn = client.store.conn
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("SELECT id, matchup_id, rater, choice, voted_at, origin FROM votes").fetchall() == before
        assert conn.execute("SELECT id, repeat_of FROM matchups ORDER BY rowid").fetchall() == served
        assert conn.execute("SELECT count(*) FROM votes WHERE batch IS NOT NULL").fetchone()[0] == 0
        assert votes.vote_summary(conn, "k7gq2mxa")["votes"] == 3  # all visible
        triggers = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert {"matchups_repeat_insert", "matchups_repeat_update"} <= triggers
        assert conn.execute("SELECT count(*) FROM import_batches").fetchone()[0] == 0
