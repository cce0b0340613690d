"""Several app hosts on one PostgreSQL database (a real server: ``tests/postgres_server.py``).

A host is a process with its own media cache (``RATER_MEDIA_CACHE``), empty until it serves
something: the media bytes live in the database. In one test process two Clients share the
matchmaker's in-memory state (one per database), so what needs separate matchmakers runs in
separate processes: ``rater serve`` processes driven over Streamlit's websocket
(``benchmarks/ws_rater.py``), and plain Python processes driving the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from rater import Client
from rater.app import pair_api
from rater.app.serve import prepare
from rater.cli import cli
from rater.intake.media import preview_path
from rater.matchmaking.state import state_for
from rater.store import votes
from rater.store.pg_store import MEDIA_CACHE_ENV

from app_support import ROOT, click, make_board, open_app, pair_urls, start
from conftest import make_png
from test_app_serve import free_port, stop_server, wait_healthy
from test_media_intake import big_image
from test_serve_browser import process_tree
from test_serve_workers import needs_nginx, shown_total, ws_rater

PROMPTS = ["A red sun over blue mountains", "A sailboat on calm water"]
PASSWORD = "s3cret-pw"  # the test server trusts loopback, so any password opens it


@pytest.fixture
def pg_url(pg_server, request) -> str:
    """A fresh server database's URL, with a password in it (which must never be shown)."""
    url = pg_server.create_database(f"hosts_{os.getpid()}_{request.node.name[:30].lower()}")
    return url.replace("postgres@", f"postgres:{PASSWORD}@", 1)


@contextlib.contextmanager
def media_cache(folder: Path) -> Iterator[None]:
    """``RATER_MEDIA_CACHE`` set to ``folder`` for what is opened inside."""
    before = os.environ.get(MEDIA_CACHE_ENV)
    os.environ[MEDIA_CACHE_ENV] = str(folder)
    try:
        yield
    finally:
        if before is None:
            del os.environ[MEDIA_CACHE_ENV]
        else:
            os.environ[MEDIA_CACHE_ENV] = before


def host(url: str, cache: Path, *, create: bool = False) -> Client:
    """The database as a host whose media cache is ``cache`` sees it."""
    with media_cache(cache):
        return Client(url, create=create)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def big_image_board(client: Client, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Two models with a large image each (so each has a preview) and a prompt asset."""
    asset = make_png(tmp_path / "upload" / "asset.png", 7, size=32)
    lb = client.mri.create_new_leaderboard("Big", "Which is better?", PROMPTS[:1], prompt_assets=[asset],
                                           show_prompt_asset=True, repeat_share=0.0)
    sources = {sha(asset): asset}
    for i, size in enumerate([(4000, 3000), (3000, 4000)]):
        source = big_image(tmp_path / "upload" / f"{i}.png", size)
        lb.evaluate_model(f"m{i}", [source], PROMPTS[:1])
        sources[sha(source)] = source
    return lb, sources


def test_a_host_serves_media_only_another_host_uploaded(pg_url, tmp_path, monkeypatch) -> None:
    uploader = host(pg_url, tmp_path / "cache-1", create=True)
    lb, sources = big_image_board(uploader, tmp_path)
    previews = {sha(preview_path(path)) for name in ("m0", "m1") for path in lb.model_media(name)[PROMPTS[0]]}
    assert len(previews) == 2  # made at upload, in the uploader's cache
    shutil.rmtree(tmp_path / "upload")  # the originals are gone: only the database has them

    other = host(pg_url, tmp_path / "cache-2")
    assert files_in(tmp_path / "cache-2") == set()
    board = other.mri.get_leaderboard_by_id(lb.id)
    pair = board.next_matchup("ann")
    for path in (pair.left.path, pair.right.path, pair.prompt_asset):
        assert path.is_relative_to(tmp_path / "cache-2") and sha(path) == path.stem and path.stem in sources
    assert [p.is_file() for files in board.model_media("m1").values() for p in files] == [True]
    assert board.prompt_assets[0] == pair.prompt_asset

    # A third host's rater app: it copies the originals out and makes their previews itself.
    with media_cache(tmp_path / "cache-3"):
        at = start(open_app(monkeypatch, pg_url, lb.id))
    served = [pair_api.media_path(*url.rsplit("/", 2)[1:]) for url in pair_urls(at)]
    assert all(p.is_relative_to(tmp_path / "cache-3") and ".preview-" in p.name for p in served), served
    assert {sha(p) for p in served} == previews, "each side is the preview, made by the host that shows it"
    made = files_in(tmp_path / "cache-3")
    assert sum(".preview-" in name for name in made) == 2 and len(made) == 5  # + originals, asset


def test_a_media_cache_emptied_while_the_app_runs_is_filled_again(pg_url, tmp_path, monkeypatch) -> None:
    uploader = host(pg_url, tmp_path / "cache-1", create=True)
    lb = uploader.mri.create_new_leaderboard("Small", "Which is better?", PROMPTS, repeat_share=0.0)
    for m in range(3):
        lb.evaluate_model(f"m{m}", [make_png(tmp_path / "upload" / f"{m}-{k}.png", 10 * m + k) for k in range(2)],
                          PROMPTS)
    cache = tmp_path / "cache-app"
    with media_cache(cache):
        at = start(open_app(monkeypatch, pg_url, lb.id))
        first = pair_urls(at)
        assert files_in(cache)  # the shown pair and the prepared next one
        for _ in range(3):
            shutil.rmtree(cache)  # e.g. an operator clearing disk space
            at = click(at, "A is better")
            assert not at.warning and not at.error, [w.value for w in at.warning]
            shown = pair_urls(at)
            assert shown != first and all(at.main.get("image"))
            first = shown
            assert files_in(cache), "the pair on screen was copied out of the database again"


# -- the CLI and `rater serve` on a server database ----------------------------------------------


def test_a_password_goes_in_rater_db_never_on_the_command_line(pg_url, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(MEDIA_CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv("RATER_DB", raising=False)
    runner = CliRunner()
    refused = runner.invoke(cli, ["--db", pg_url, "init"])
    assert refused.exit_code == 1 and refused.output.count("\n") == 1, refused.output
    assert "RATER_DB" in refused.output and PASSWORD not in refused.output
    assert list(tmp_path.iterdir()) == []  # no SQLite file under a folder named "postgresql:"
    shown = pg_url.replace(PASSWORD, "***")
    created = runner.invoke(cli, ["init"], env={"RATER_DB": pg_url})
    assert created.output == f"created an empty database at {shown}\n"
    again = runner.invoke(cli, ["init"], env={"RATER_DB": pg_url})
    assert again.output == f"{shown} already exists (0 leaderboards); left as it is\n"
    listed = runner.invoke(cli, ["--db", pg_url.replace(f":{PASSWORD}", ""), "list"])
    assert listed.exit_code == 0, listed.output
    refused = runner.invoke(cli, ["serve", "--db", pg_url])
    assert refused.exit_code == 1 and "RATER_DB" in refused.output and PASSWORD not in refused.output
    command, env = prepare(pg_url, free_port())
    assert env["RATER_DB"] == pg_url and not any(PASSWORD in part for part in command)
    for wrong in (pg_url.rsplit("/", 1)[0] + "/no_such_db", f"postgresql://postgres:{PASSWORD}@127.0.0.1:1/x"):
        failed = runner.invoke(cli, ["serve", "--port", str(free_port())], env={"RATER_DB": wrong})
        assert failed.exit_code == 1 and failed.output.count("\n") == 1 and PASSWORD not in failed.output
        assert "postgres:***@127.0.0.1:" in failed.output
    assert list(tmp_path.iterdir()) == []


def start_host(url: str, cache: Path, *, workers: int = 1) -> tuple[subprocess.Popen, int]:
    """An app host with its own media cache: ``rater serve --db URL`` (without the password),
    or with ``workers`` > 1, ``RATER_DB=URL rater serve --workers N`` (behind nginx); returns
    the process and its port once it answers."""
    port = free_port()
    env = {**os.environ, "RATER_DB": url, MEDIA_CACHE_ENV: str(cache), "RATER_PASSCODE": "",
           "RATER_ADMIN_PASSCODE": "", "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    where = ["--db", url.replace(f":{PASSWORD}", "")] if workers == 1 else []  # else RATER_DB
    proc = subprocess.Popen([sys.executable, "-m", "rater", "serve", "--port", str(port), "--workers", str(workers), *where],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    wait_healthy(f"http://127.0.0.1:{port}/", proc, timeout=120)
    return proc, port


def stored(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


@needs_nginx
@pytest.mark.slow
def test_two_app_hosts_on_one_database(pg_url, png, tmp_path) -> None:
    uploader = host(pg_url, tmp_path / "cache-0", create=True)
    lb = make_board(uploader, png, models=4, prompts=3, repeat_share=0.0)
    hashes = {p.stem for m in lb.models() for files in lb.model_media(m.name).values() for p in files}
    ws = ws_rater()
    one, port_one = start_host(pg_url, tmp_path / "cache-1")
    two, port_two = start_host(pg_url, tmp_path / "cache-2", workers=2)  # nginx and two processes
    hosts = [f"http://127.0.0.1:{port_one}/", f"http://127.0.0.1:{port_two}/"]
    try:
        tree = process_tree(one.pid) + process_tree(two.pid)
        cmdlines = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in tree]
        assert sum(b"streamlit" in c for c in cmdlines) == 3 and not any(PASSWORD.encode() in c for c in cmdlines)

        async def rate(base: str, name: str, seed: int, votes: int = 4) -> list[str]:
            rater = ws.WsRater(base, lb.id, name, seed=seed)
            await rater.open()
            voted = [(await rater.vote())[1] for _ in range(votes)]
            await rater.close()
            return voted

        async def at_once() -> list[str]:
            """Raters on each host, and raters with a page open on both hosts, all voting at
            once (a rater on two hosts must never get the same pair twice)."""
            jobs = [rate(base, f"{k}-on-{h}", seed=10 * h + k) for h, base in enumerate(hosts) for k in range(3)]
            jobs += [rate(base, f"both-{k}", seed=50 + 10 * h + k) for h, base in enumerate(hosts) for k in range(2)]
            return [m for voted in await asyncio.gather(*jobs) for m in voted]

        async def alternating() -> tuple[list[tuple[int, int, float]], list[list[bytes]], bytes]:
            """One rater voting on host 1, then on host 2, ...: after each vote the page shows
            the board's total as its host's matchmaker counts it, which must include the vote
            just acknowledged by the other host."""
            raters = [ws.WsRater(base, lb.id, "two-hosts", seed=90 + i) for i, base in enumerate(hosts)]
            for rater in raters:
                await rater.open()
            status, _, image = await ws.http_get("127.0.0.1", port_two, raters[1].screen.images[0], raters[1]._headers())
            assert status == 200
            checks, acked = [], time.monotonic()
            for k in range(8):
                rater = raters[k % 2]
                await rater.vote()
                shown_at = time.monotonic()
                checks.append((shown_total(rater.screen), stored(pg_url, "SELECT count(*) FROM votes")[0][0],
                               shown_at - acked))
                acked = shown_at
            tables = [(await r.visit("Standings")).tables for r in raters]
            texts = [t for r in raters for t in r.screen.texts]
            for rater in raters:
                await rater.close()
            return checks, tables, image, texts

        acknowledged = asyncio.run(asyncio.wait_for(at_once(), 300))
        checks, tables, image, texts = asyncio.run(asyncio.wait_for(alternating(), 120))
    finally:
        outputs = [stop_server(p) for p in (one, two)]
    assert not any(PASSWORD in out for out in outputs) and f"Rating app for {pg_url.replace(PASSWORD, '***')}" in outputs[1]
    assert not any(PASSWORD in t for t in texts)

    # Every acknowledged vote is stored, once; no rater got a media pair twice, across hosts.
    votes = stored(pg_url, "SELECT matchup_id FROM votes WHERE rater <> 'two-hosts'")
    assert sorted(m for (m,) in votes) == sorted(acknowledged) and len(acknowledged) == 40
    served = stored(pg_url, "SELECT rater, left_media, right_media FROM matchups")
    pairs = [(r, frozenset((a, b))) for r, a, b in served]
    assert len(pairs) == len(set(pairs))
    # Each host counted the other's latest vote at its next request. The time measured is an
    # upper bound: from the vote's acknowledgement on one host to the end of the next vote's
    # whole round trip on the other (the API test below measures the delay itself).
    assert [shown for shown, _, _ in checks] == [count for _, count, _ in checks]
    delay = max(seconds for _, _, seconds in checks[1:])
    print(f"\nvote on one host counted by the other's matchmaker within {1000 * delay:.0f} ms")
    assert delay < 2.0
    # The same standings from either host.
    assert tables[0] and tables[0] == tables[1]
    # Host 2 never saw an upload: it served the media from the database, byte for byte.
    assert hashlib.sha256(image).hexdigest() in hashes
    assert files_in(tmp_path / "cache-1") and files_in(tmp_path / "cache-2")


# -- two Python processes on the API, each its own host ------------------------------------------

#: One host: its own Client (and matchmaker) and media cache. ``vote`` serves and votes for each
#: rater in turn (``pause`` seconds between votes), recording what was acknowledged and when;
#: ``watch`` polls its matchmaker's count of the board's votes until ``target`` and records when
#: each count first appeared. Once every host is done, each reads its standings.
HOST_SCRIPT = r"""
import json, pathlib, sys, time
from rater import Client
from rater.app import pair_api
url, board_id, mode, raters, rounds, pause, start_at, hosts, out = sys.argv[1:]
lb = Client(url).mri.get_leaderboard_by_id(board_id)
log = []
while time.time() < float(start_at):
    time.sleep(0.001)
if mode == "vote":
    for k in range(int(rounds)):
        for r, rater in enumerate(raters.split(",")):
            pair = lb.next_matchup(rater, continue_when_settled=True)
            if pair is not None:
                receipt = lb.record_vote(pair.id, ("left", "right", "tie")[(k + r) % 3], rater)
                log.append([pair.id, receipt.counted, time.time()])
                time.sleep(float(pause))
else:
    seen = lb.status().votes
    deadline = time.time() + 60
    while seen < int(rounds) and time.time() < deadline:
        votes = lb.status().votes
        if votes != seen:
            log.append([votes, time.time()])
            seen = votes
        time.sleep(0.002)
folder = pathlib.Path(out).parent
(folder / (pathlib.Path(out).name + ".done")).touch()
while len(list(folder.glob("*.done"))) < int(hosts):  # every host has written all it will
    time.sleep(0.01)
json.dump({"log": log, "standings": lb.get_standings().to_csv(), "media": str(lb.model_media(lb.models()[0].name))},
          open(out, "w"))
"""


def run_hosts(url: str, board_id: str, tmp_path: Path, jobs: list[tuple[str, str, int, float]]) -> list[dict]:
    """Run one host process per job ``(mode, raters, rounds, pause)``, all starting at once,
    each with its own media cache; their results."""
    start_at = time.time() + 3.0  # every process has imported rater and opened the board by then
    folder = tmp_path / f"hosts-{time.monotonic_ns()}"
    folder.mkdir()
    procs = []
    for i, (mode, raters, rounds, pause) in enumerate(jobs):
        env = {**os.environ, MEDIA_CACHE_ENV: str(tmp_path / f"api-cache-{i}"),
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        procs.append(subprocess.Popen(
            [sys.executable, "-c", HOST_SCRIPT, url, board_id, mode, raters, str(rounds), str(pause),
             str(start_at), str(len(jobs)), str(folder / f"host-{i}.json")], env=env, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-3000:]
    return [json.loads((folder / f"host-{i}.json").read_text()) for i in range(len(jobs))]


@pytest.mark.slow
def test_two_api_hosts_count_every_vote_once_and_see_each_other_within_a_second(pg_url, png, tmp_path) -> None:
    uploader = host(pg_url, tmp_path / "cache-0", create=True)
    lb = make_board(uploader, png, models=4, prompts=3, repeat_share=0.0)
    shared = "r1,r2,r3,r4"  # the same raters voting on both hosts at the same time
    one, two = run_hosts(pg_url, lb.id, tmp_path, [("vote", shared, 6, 0.0), ("vote", shared + ",only-2", 6, 0.0)])
    acknowledged = [m for result in (one, two) for m, counted, _ in result["log"] if counted]
    votes = stored(pg_url, "SELECT matchup_id FROM votes")
    assert len(acknowledged) > 40 and sorted(m for (m,) in votes) == sorted(acknowledged)
    served = stored(pg_url, "SELECT rater, left_media, right_media FROM matchups")
    pairs = [(r, frozenset((a, b))) for r, a, b in served]
    assert len(pairs) == len(set(pairs)), "a rater was served a media pair twice"
    assert one["standings"] == two["standings"] == lb.get_standings().to_csv()
    assert "api-cache-1" in two["media"] and files_in(tmp_path / "api-cache-1")

    # Visibility: host 1 votes every 0.2 s; host 2's matchmaker counts each vote within a second.
    total = len(votes) + 12
    voter, watcher = run_hosts(pg_url, lb.id, tmp_path, [("vote", "v1,v2", 6, 0.2), ("watch", "", total, 0.0)])
    acked = [at for _, _, at in voter["log"]]
    seen = watcher["log"]  # (count, when host 2 first saw it)
    delays = [min(when for count, when in seen if count >= len(votes) + k + 1) - at for k, at in enumerate(acked)]
    assert len(acked) == 12 and seen[-1][0] == total
    print(f"\nvote on host 1 counted by host 2's matchmaker after {1000 * max(delays):.0f} ms at most "
          f"(median {1000 * sorted(delays)[len(delays) // 2]:.0f} ms, {len(delays)} votes)")
    assert max(delays) < 1.0
    assert voter["standings"] == watcher["standings"]


@pytest.mark.both_backends
def test_a_pair_served_by_another_process_between_pick_and_store_is_not_stored_again(db_location, png) -> None:
    """The pick is checked again inside the write transaction: here the board has one pair,
    picked for "ann" while another process (holding the write lock) serves her that very pair."""
    client, other = Client(db_location, create=True), None
    lb = make_board(client, png, models=2, prompts=1, repeat_share=0.0)
    other = Client(db_location)
    (a, ma, p), (b, mb, _) = client.store.conn.execute(
        "SELECT model_id, id, prompt_id FROM board_media WHERE leaderboard_id = ? ORDER BY id", (lb.id,)).fetchall()
    lb.status()  # the matchmaker has loaded the board
    state, got = state_for(client.store, lb.id), []
    with other.store.write() as conn:  # the other process is storing, so ann's pick must wait
        picking = threading.Thread(target=lambda: got.append(lb.next_matchup("ann")))
        picking.start()
        deadline = time.monotonic() + 30
        while not state.inflight and time.monotonic() < deadline:
            time.sleep(0.005)
        assert state.inflight == {("ann", ma, mb)}  # picked, waiting to store it
        votes.insert_matchup(conn, {"id": "f" * 32, "leaderboard_id": lb.id, "prompt_id": p, "left_media": mb,
                                    "left_model": b, "right_media": ma, "right_model": a, "rater": "ann",
                                    "served_at": time.time(), "repeat_of": None})
    picking.join(30)
    assert got == [None]  # nothing else to show her
    assert client.store.conn.execute("SELECT count(*) FROM matchups WHERE rater = 'ann'").fetchone()[0] == 1
    client.close()
    other.close()


def test_the_raters_page_asks_the_database_for_missing_media_and_copies_nothing(pg_url, png, tmp_path, monkeypatch) -> None:
    uploader = host(pg_url, tmp_path / "cache-1", create=True)
    lb = make_board(uploader, png, models=3, prompts=2, repeat_share=0.0)
    [gone] = lb.model_media("model-1")["A blue sphere"]
    stored(pg_url, f"DELETE FROM blob_data WHERE sha256 = '{gone.stem}' RETURNING sha256")  # a damaged database
    with media_cache(tmp_path / "cache-owner"):
        at = open_app(monkeypatch, pg_url, lb.id)
        at.switch_page("views/raters.py").run()
    assert not at.exception
    [listing] = [c.value for c in at.code]
    assert listing == f"model-1, 'A blue sphere': {tmp_path / 'cache-owner' / gone.stem[:2] / gone.name}"
    assert files_in(tmp_path / "cache-owner") == set()  # checking the board copied no medium
