"""An import is all or nothing although it writes in many short transactions.

A big import runs as the real ``rater import-votes`` command in a subprocess and is killed with
SIGKILL while its rows are being staged: no reader (standings, vote counts, the matchmaker,
exports) ever sees a partial import, a rater can still vote, and running the import again
cleans the leftovers and imports every vote once.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rater import Client
from rater.store import exchange as exchange_sql
from rater.store import votes

ROOT = Path(__file__).resolve().parents[1]
N_VOTES = 10_000

pytestmark = pytest.mark.both_backends  # the importing host on SQLite, then on PostgreSQL


def _bench():  # benchmarks/ is not a package
    spec = importlib.util.spec_from_file_location(
        "vote_latency_under_writes", ROOT / "benchmarks" / "vote_latency_under_writes.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _target(tmp_path: Path, new_location) -> tuple[str, str, Path]:
    """The importing host B (on the test's backend), its board's id, and host A's export of
    ``N_VOTES`` votes on that board."""
    bench = _bench()
    db, board_id, path = bench.make_vote_file(tmp_path, N_VOTES, models=6, prompts=4)
    location = new_location("host-b-here")
    if location.endswith(".db"):
        return str(db), board_id, path
    Client(location, create=True).close()
    board_id = bench.vote_load.prepare_board(location, models=6, prompts=4, work=tmp_path / "host-b" / "load-media")
    return location, board_id, path


_PENDING = ("SELECT (SELECT count(*) FROM matchups WHERE batch IN (SELECT id FROM import_batches WHERE "
            "committed = 0)) + (SELECT count(*) FROM votes WHERE batch IN (SELECT id FROM import_batches "
            "WHERE committed = 0))")


def _pending(db: str) -> int:
    """Staged rows of unfinished imports, read on a connection of its own (plain sqlite3 or
    psycopg: what is on disk, or committed on the server)."""
    if db.endswith(".db"):
        conn = sqlite3.connect(db)
        try:
            return conn.execute(_PENDING).fetchone()[0]
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(db) as conn:
        return conn.execute(_PENDING).fetchone()[0]


def _seen(client: Client, board_id: str, tmp_path: Path) -> tuple[int, int, int, int]:
    """What readers see: vote count, standings' total matches, matchmaker's vote count, and
    votes a fresh export would carry."""
    lb = client.mri.get_leaderboard_by_id(board_id)
    standings = lb.get_standings()
    exported = lb.export_votes(tmp_path / "seen.jsonl").votes
    return (votes.vote_summary(client.store.conn, board_id)["votes"],
            int(standings["total_matches"].sum()) // 2 if len(standings) else 0,
            lb.status().votes, exported)


def test_sigkill_during_a_big_import_leaves_nothing_visible(tmp_path: Path, new_location) -> None:
    db, board_id, path = _target(tmp_path, new_location)
    with Client(db) as client:
        lb = client.mri.get_leaderboard_by_id(board_id)
        for k in range(3):  # votes of this host, which must stay (a rater new to the board
            m = lb.next_matchup(f"local-{k}")  # is never served a quality-control repeat,
            lb.record_vote(m.id, "left", f"local-{k}")  # which standings leave out)
        before = _seen(client, board_id, tmp_path)
    assert before == (3, 3, 3, 3)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "rater", "--db", db, "import-votes", str(path)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    with Client(db) as client:
        while _pending(db) < 2_000 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the import finished before it could be killed"
        assert _seen(client, board_id, tmp_path) == before  # while staging: nothing shows
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        assert _pending(db) > 0  # leftovers of the killed import are on disk ...
        assert _seen(client, board_id, tmp_path) == before  # ... and invisible
        m = client.mri.get_leaderboard_by_id(board_id).next_matchup("after-kill")
        assert client.mri.get_leaderboard_by_id(board_id).record_vote(m.id, "right", "after-kill").counted
    with Client(db) as client:  # a fresh process's view
        assert _seen(client, board_id, tmp_path) == (4, 4, 4, 4)
        result = client.import_votes(path)
        assert (result.matchups_added, result.votes_added) == (N_VOTES, N_VOTES)
        assert _pending(db) == 0
        assert _seen(client, board_id, tmp_path) == (4 + N_VOTES,) * 4
        again = client.import_votes(path)
        assert (again.votes_added, again.votes_present) == (0, N_VOTES)
        assert client.store.conn.execute("SELECT count(*) FROM votes").fetchone()[0] == 4 + N_VOTES


def test_an_import_failing_midway_removes_what_it_staged(tmp_path: Path, new_location) -> None:
    """A conflict only the database can see, made while the import stages its rows: another
    writer stores a matchup under an id from the middle of the file. The import is refused with
    one line and every chunk it had written is deleted."""
    db, board_id, path = _target(tmp_path, new_location)
    matchup_lines = [x for x in path.read_text(encoding="utf-8").split("\n") if '"type": "matchup"' in x]
    last = json.loads(matchup_lines[len(matchup_lines) // 2])  # staged soon after the first 2,000
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "rater", "--db", db, "import-votes", str(path)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with Client(db) as client:
        deadline = time.monotonic() + 120
        while _pending(db) < 2_000 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "the import finished before the conflict could be made"
        media = exchange_sql.board_media(client.store.conn, board_id)
        left = media[(last["left"]["model"], last["prompt"], last["left"]["sha256"])]
        right = media[(last["right"]["model"], last["prompt"], last["right"]["sha256"])]
        with client.store.write() as conn:
            votes.insert_matchup(conn, {
                "id": last["id"], "leaderboard_id": board_id, "prompt_id": left["prompt_id"],
                "left_media": left["id"], "left_model": left["model_id"], "right_media": right["id"],
                "right_model": right["model_id"], "rater": "someone", "served_at": time.time(),
                "repeat_of": None})
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 1 and stderr.count("\n") == 1, stderr
        assert "refused by the database's constraints" in stderr and "nothing was imported" in stderr
        assert _pending(db) == 0
        assert _seen(client, board_id, tmp_path) == (0, 0, 0, 0)
        assert client.store.conn.execute("SELECT count(*) FROM matchups").fetchone()[0] == 1
