"""What keeps a vote cheap for the server (``benchmarks/rater_load.py`` measures it): a vote
runs no Streamlit script (one HTTP request), media are looked at once per process, the served matchup's
commit does not sync on its own (the vote's does), and pending matchups are counted per
candidate pair in one lookup."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import PIL.Image
import pytest

from rater.app import media_files, pair_api
from rater.app.views import common
from rater.intake.media import preview_path
from rater.matchmaking.select import _held

from app_support import make_board, open_app, pair_view, start
from test_app_serve import free_port, start_server, stop_server, wait_healthy
from test_serve_workers import ws_rater


@pytest.mark.slow
def test_a_vote_runs_no_script(client, png) -> None:
    lb = make_board(client, png, models=3, prompts=2, repeat_share=0.0)
    port = free_port()
    proc = start_server(client.db_path, port, env={"RATER_PASSCODE": "", "RATER_ADMIN_PASSCODE": ""})
    try:
        wait_healthy(f"http://127.0.0.1:{port}/", proc)
        ws = ws_rater()

        async def rate() -> tuple[object, object, list[str]]:
            rater = ws.WsRater(f"http://127.0.0.1:{port}/", lb.id, "fragment-rater")
            opened = await rater.open()
            await rater.vote("left")
            voted = rater.screen
            sent = await rater.received(1.0)
            await rater.close()
            return opened, voted, sent

        opened, voted, sent = asyncio.run(asyncio.wait_for(rate(), 60))
    finally:
        stop_server(proc)
    # The first run draws the whole page; a vote is one HTTP request whose reply is the next
    # pair: the server runs no script for it and draws nothing over the websocket.
    assert any(t.startswith("Rating as") for t in opened.texts) and opened.fragment_id
    assert not {"new_session", "delta", "script_finished"} & set(sent), sent
    assert any("Your votes this session: 1" in t for t in voted.texts)
    assert voted.matchup_id != opened.matchup_id and len(voted.images) == 2
    with client.store.conn as conn:
        assert conn.execute("SELECT count(*) FROM votes").fetchone()[0] == 1


def test_an_answer_is_stored_and_the_next_pair_served_without_a_run(client, png, monkeypatch) -> None:
    """An answer is ``POST /_rater/answer``: :func:`pair_api.answer` on a worker thread of the
    server (no Streamlit script run, no script-run context), whose reply is the next pair."""
    lb = make_board(client, png, models=3, prompts=2, repeat_share=0.0)
    at = start(open_app(monkeypatch, client.db_path, lb.id), "fragment-rater")
    opened = pair_view(at)
    replies: list[tuple[int, dict]] = []
    worker = threading.Thread(target=lambda: replies.append(  # as the route runs it
        pair_api.answer(opened["session"], opened["pair"]["id"], "left")))
    worker.start()
    worker.join()
    [(status, voted)] = replies
    # stored, and the next pair served, before any script ran again
    assert status == 200 and voted["error"] is None and voted["rerun"] is False
    with client.store.conn as conn:
        assert conn.execute("SELECT matchup_id, choice FROM votes").fetchall() == [
            (opened["pair"]["id"], "left")]
    assert voted["pair"]["id"] != opened["pair"]["id"] and voted["serial"] == opened["serial"] + 1
    assert voted["progress"].startswith("Your votes this session: 1")
    at.run()  # a later run of the page (e.g. a refresh of the fragment) shows the same pair
    assert not at.exception
    again = pair_view(at)
    assert again["pair"] == voted["pair"] and again["serial"] == voted["serial"]
    assert again["progress"] == voted["progress"]


def test_shown_file_looks_at_a_medium_once(png, monkeypatch, tmp_path) -> None:
    opened: list[str] = []
    real_open = PIL.Image.open

    def counting_open(fp, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(str(fp))
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(PIL.Image, "open", counting_open)
    small = png(1)
    assert media_files.shown_file(small) == small and opened
    opened.clear()
    assert media_files.shown_file(small) == small and not opened  # remembered
    big = tmp_path / "big.png"
    PIL.Image.new("RGB", (4000, 3000), (200, 10, 10)).save(big)
    preview = media_files.shown_file(big)
    assert preview == preview_path(big) and preview.is_file()
    preview.unlink()  # e.g. removed by `rater gc`: made again, not served missing
    assert media_files.shown_file(big) == preview and preview.is_file()
    missing = tmp_path / "missing.png"
    assert media_files.shown_file(missing) == missing and missing not in media_files._shown


def test_one_client_per_database_for_all_threads(client, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("RATER_DB", str(client.db_path))
    found: list[object] = []
    threads = [threading.Thread(target=lambda: found.append(common.client())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in found}) == 1 and found[0] is common.client()
    other = tmp_path / "other" / "leaderboards.db"
    other.parent.mkdir()
    type(client)(other, create=True).close()
    monkeypatch.setenv("RATER_DB", str(other))
    assert common.client() is not found[0] and common.client().db_path == other


def test_served_matchup_commits_unsynced_and_the_vote_synced(client, png) -> None:
    lb = make_board(client, png, models=3, prompts=2, repeat_share=0.0)
    conn = client.store.conn
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        matchup = lb.next_matchup("sync-rater")
        served = list(statements)
        statements.clear()
        lb.record_vote(matchup.id, "left", "sync-rater")
        voted = list(statements)
    finally:
        conn.set_trace_callback(None)
    def normalised(found: list[str]) -> list[str]:
        return [" ".join(s.split()).upper() for s in found]

    served, voted = normalised(served), normalised(voted)
    insert = next(i for i, s in enumerate(served) if s.startswith("INSERT INTO MATCHUPS"))
    unsynced = served.index("PRAGMA SYNCHRONOUS = NORMAL")
    commit = served.index("COMMIT")
    assert unsynced < insert < commit < served.index("PRAGMA SYNCHRONOUS = FULL")
    assert not any("SYNCHRONOUS" in s for s in voted) and "COMMIT" in voted  # at FULL
    assert int(conn.execute("PRAGMA synchronous").fetchone()[0]) == 2  # FULL again


def test_pending_matchups_counted_per_candidate_pair() -> None:
    rng = np.random.default_rng(3)
    ca, cb = rng.integers(0, 12, 300), rng.integers(0, 12, 300)
    pending = {}
    for _ in range(40):
        x, y = sorted(int(v) for v in rng.choice(12, size=2, replace=False))
        pending[(x, y)] = int(rng.integers(1, 4))
    expected = np.zeros(len(ca))
    for (x, y), count in pending.items():  # the definition: pending on that pair, either side
        expected[((ca == x) & (cb == y)) | ((ca == y) & (cb == x))] += count
    assert np.array_equal(_held(pending, ca, cb), expected) and expected.any()
