"""Copies taken while a rater keeps voting hold one consistent moment: ``client.backup(dest)`` of a
PostgreSQL database (the same self-contained SQLite file and media folder as of an SQLite one)
and ``copy-db`` of a live SQLite database into PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pandas as pd
import pytest
from conftest import make_png

from rater import Client, DatabaseError
from rater.exchange.copy_db import copy_database

PROMPTS = [f"prompt {i}" for i in range(4)]


def _board(url: str, tmp_path: Path) -> str:
    with Client(url) as client:
        lb = client.mri.create_new_leaderboard("Backup", "Which?", PROMPTS, False, strategy="uniform")
        for m in range(5):
            files = [make_png(tmp_path / "src" / f"{m}-{p}.png", 50 * m + p, size=8 + m) for p in range(len(PROMPTS))]
            lb.evaluate_model(f"model-{m}", files, PROMPTS)
        return lb.id


def _voter(url: str, board_id: str, stop: threading.Event, acknowledged: list[int]) -> None:
    """Votes until stopped; appends each acknowledged vote's id (one writer: ids in commit order)."""
    with Client(url) as client:
        lb = client.mri.get_leaderboard_by_id(board_id)
        n = 0
        while not stop.is_set():
            rater = f"r{n // 40}"
            matchup = lb.next_matchup(rater, continue_when_settled=True)
            if matchup is not None:
                lb.record_vote(matchup.id, "left" if n % 3 else "right", rater)
                acknowledged.append(client.store.conn.execute(
                    "SELECT id FROM votes WHERE matchup_id = ?", (matchup.id,)).fetchone()[0])
            n += 1


def _while_voting(location: str, board_id: str, take) -> tuple[int, int, list[int]]:
    """Run ``take()`` while a rater votes on ``location``: acknowledged votes before and after
    it, and the ids of all of them once the voter stopped."""
    stop, acknowledged = threading.Event(), []
    voter = threading.Thread(target=_voter, args=(location, board_id, stop, acknowledged))
    voter.start()
    try:
        while len(acknowledged) < 30:
            stop.wait(0.05)
        before = len(acknowledged)
        take()
        after = len(acknowledged)
    finally:
        stop.set()
        voter.join(timeout=60)
    assert after > before, "no vote was recorded while the copy ran: the test shows nothing"
    return before, after, acknowledged


def test_copy_db_of_a_live_sqlite_database_while_a_rater_votes(tmp_path, pg_server) -> None:
    source = str(tmp_path / "live" / "lb.db")
    Client(source, create=True).close()
    board_id = _board(source, tmp_path)
    url = pg_server.create_database("copy_live")
    before, after, acknowledged = _while_voting(source, board_id, lambda: copy_database(source, url))
    with Client(url) as copy:
        ids = [r[0] for r in copy.store.conn.execute("SELECT id FROM votes ORDER BY id")]
    assert before <= len(ids) <= after and ids == sorted(acknowledged)[:len(ids)]


def test_backup_of_a_server_database_while_a_rater_votes(tmp_path, pg_server, monkeypatch) -> None:
    monkeypatch.setenv("RATER_MEDIA_CACHE", str(tmp_path / "cache"))
    url = pg_server.create_database("backup_live")
    Client(url, create=True).close()
    board_id = _board(url, tmp_path)
    results = []

    def take() -> None:
        with Client(url) as client:
            results.append(client.backup(tmp_path / "during" / "lb.db"))

    before, after, acknowledged = _while_voting(url, board_id, take)
    during = results[0]

    copy = sqlite3.connect(tmp_path / "during" / "lb.db")
    ids = [r[0] for r in copy.execute("SELECT id FROM votes ORDER BY id")]
    assert before <= during.votes == len(ids) <= after
    assert ids == sorted(acknowledged)[:len(ids)], "a snapshot: every vote up to one moment, none after"
    assert copy.execute("SELECT count(*) FROM matchups m JOIN votes v ON v.matchup_id = m.id").fetchone()[0] == len(ids)
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
    copy.close()
    assert not (tmp_path / "during" / "lb.db-wal").exists()
    assert during.media_copied == 5 * len(PROMPTS) and not during.media_missing

    final = tmp_path / "final" / "lb.db"
    with Client(url) as client:
        client.backup(final)
        live = client.mri.get_leaderboard_by_id(board_id)
        expected, media = live.get_standings(seed=1), live.model_media("model-3")
        with pytest.raises(DatabaseError, match="already exists"):
            client.backup(final)
        assert client.backup(final, overwrite=True).votes == len(acknowledged)
    with Client(final) as restored:  # a normal SQLite database, its media beside it
        lb = restored.mri.get_leaderboard_by_id(board_id)
        pd.testing.assert_frame_equal(lb.get_standings(seed=1), expected)
        got = lb.model_media("model-3")
        assert all(p.is_relative_to(final.parent / "media") for files in got.values() for p in files)
        assert {k: [p.read_bytes() for p in v] for k, v in got.items()} == \
               {k: [p.read_bytes() for p in v] for k, v in media.items()}
        matchup = lb.next_matchup("after-restore", continue_when_settled=True)
        lb.record_vote(matchup.id, "tie", "after-restore")
