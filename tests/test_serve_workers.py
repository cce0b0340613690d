"""``rater serve --workers N``: several app processes on one database behind Debian's nginx.

The multi-process test starts the real command (two Streamlit processes and nginx as child
processes) and drives raters over Streamlit's websocket protocol with the load benchmark's
client (``benchmarks/ws_rater.py``: the page over the websocket, answers over HTTP), both
through nginx and straight to each process.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import select
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from rater import DatabaseError, ValidationError
from rater.cli import cli
from rater.app.workers import nginx_config, serve_workers

from app_support import ROOT, make_board
from test_app_serve import free_port

NGINX = Path("/usr/sbin/nginx")
needs_nginx = pytest.mark.skipif(not NGINX.exists(), reason="needs Debian's nginx (apt-get install nginx)")


def ws_rater():
    spec = importlib.util.spec_from_file_location("ws_rater", ROOT / "benchmarks" / "ws_rater.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["ws_rater"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@needs_nginx
def test_generated_nginx_config_is_valid(tmp_path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_config(tmp_path, "127.0.0.1", free_port(), [free_port(), free_port()]))
    done = subprocess.run([str(NGINX), "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
                           "-c", str(conf)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    text = conf.read_text()
    assert "hash $rater_sticky consistent" in text and text.count("server 127.0.0.1:") == 2
    assert str(tmp_path) in text.split("pid ", 1)[1].split(";")[0]  # nothing in /run or /var


def test_bad_workers_change_nothing(client, png, tmp_path) -> None:
    make_board(client, png, models=2, prompts=1)
    with pytest.raises(ValidationError, match="--workers must be between 1 and 64"):
        serve_workers(client.db_path, 0)
    with pytest.raises(DatabaseError, match="no database at"):
        serve_workers(tmp_path / "missing.db", 2, port=free_port())
    assert not (tmp_path / "missing.db").exists()
    result = CliRunner().invoke(cli, ["--db", str(client.db_path), "serve", "--workers", "0"])
    assert result.exit_code == 2 and "--workers" in result.output


def stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def start_workers(db: Path, port: int, workers: int) -> tuple[subprocess.Popen, Path]:
    """``rater serve --workers N`` as a subprocess; returns it and nginx's folder once ready."""
    env = {**os.environ, "RATER_PASSCODE": "", "RATER_ADMIN_PASSCODE": "",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "rater", "--db", str(db), "serve", "--port",
                             str(port), "--workers", str(workers)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline, seen = time.monotonic() + 120, []
    while time.monotonic() < deadline and proc.poll() is None:
        ready, _, _ = select.select([proc.stdout], [], [], 1.0)
        if ready:
            line = proc.stdout.readline()
            seen.append(line)
            found = re.search(r"configuration and logs in (\S+)\)", line)
            if found:
                return proc, Path(found.group(1))
    stop(proc)  # SIGTERM: it stops its app processes and nginx too
    raise AssertionError(f"rater serve --workers did not start: {''.join(seen)[-2000:]}")


def wait_for(url: str, timeout: float = 30.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


VOTES_SHOWN = re.compile(r"Votes on this leaderboard: ([\d,]+)")


def shown_total(screen) -> int:  # type: ignore[no-untyped-def]
    [total] = [int(m.group(1).replace(",", "")) for t in screen.texts for m in [VOTES_SHOWN.search(t)] if m]
    return total


@needs_nginx
@pytest.mark.slow
def test_two_processes_on_one_database(client, png) -> None:
    lb = make_board(client, png, models=4, prompts=3, repeat_share=0.0)
    db = client.db_path
    port = free_port()
    ws = ws_rater()
    proc, folder = start_workers(db, port, 2)
    try:
        app_ports = [int(p) for p in
                     re.findall(r"server 127\.0\.0\.1:(\d+)", (folder / "nginx.conf").read_text())]
        wait_for(f"http://127.0.0.1:{port}/_stcore/health")
        assert len(app_ports) == 2

        async def through_nginx(k: int) -> int:
            rater = ws.WsRater(f"http://127.0.0.1:{port}/", lb.id, f"proxied-{k}", seed=k)
            await rater.open()
            for _ in range(4):
                await rater.vote()
            await rater.close()
            return 4

        async def alternating() -> list[tuple[int, int, float]]:
            """One rater with a page open on each process, voting on one, then the other: each
            process must count the other's votes and never serve a pair the other served."""
            raters = [ws.WsRater(f"http://127.0.0.1:{p}/", lb.id, "two-tabs", seed=50 + i)
                      for i, p in enumerate(app_ports)]
            for rater in raters:
                await rater.open()
            checks = []
            for k in range(6):
                rater = raters[k % 2]
                started = time.monotonic()
                await rater.vote()
                with sqlite3.connect(db) as conn:
                    stored = conn.execute("SELECT count(*) FROM votes").fetchone()[0]
                checks.append((shown_total(rater.screen), stored, time.monotonic() - started))
            tables = [await r.visit("Standings") for r in raters]
            for rater in raters:
                await rater.close()
            return checks, [t.tables for t in tables]

        async def proxied() -> int:
            return sum(await asyncio.wait_for(asyncio.gather(*(through_nginx(k) for k in range(8))), 120))

        acknowledged = asyncio.run(proxied())
        checks, tables = asyncio.run(asyncio.wait_for(alternating(), 120))
        time.sleep(1.5)  # nginx flushes its access log every second
        log = (folder / "access.log").read_text().splitlines()
    finally:
        out = stop(proc)
    assert proc.returncode is not None and not folder.exists(), out  # cleaned up on stop

    # Every acknowledged vote is stored, from both paths.
    with sqlite3.connect(db) as conn:
        counts = dict(conn.execute("SELECT rater, count(*) FROM votes GROUP BY rater"))
        served = conn.execute("SELECT rater, left_media, right_media FROM matchups").fetchall()
    assert sum(counts.values()) == acknowledged + 6 == 38
    assert all(counts[f"proxied-{k}"] == 4 for k in range(8)) and counts["two-tabs"] == 6
    # No rater was served the same media pair twice, whichever process served them.
    pairs = [(r, frozenset((a, b))) for r, a, b in served]
    assert len(pairs) == len(set(pairs))
    # Each process counted the other's votes at once (the total shown after each vote is the
    # number stored), well within a second.
    assert [shown for shown, _, _ in checks] == [stored for _, stored, _ in checks]
    assert max(seconds for _, _, seconds in checks) < 1.0
    # Both processes show the same standings.
    assert tables[0] and tables[0] == tables[1]
    # nginx spread the proxied raters over both processes, each browser kept on one.
    streams = [line.split() for line in log if "/_stcore/stream" in line]
    answers = [line for line in log if '"POST /_rater/answer ' in line]
    upstream_of: dict[str, set[str]] = {}
    for fields in (line.split() for line in log if "/_rater/" in line or "/_stcore/stream" in line):
        upstream_of.setdefault(fields[1], set()).add(fields[2])
    assert len(streams) == 8 and {f[2] for f in streams} == {f"127.0.0.1:{p}" for p in app_ports}
    assert len(answers) == acknowledged and all(" 200 " in line for line in answers)
    assert all(len(ups) == 1 for ups in upstream_of.values()), upstream_of
