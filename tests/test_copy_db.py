"""``rater copy-db SRC DEST``: a whole database moved between SQLite and PostgreSQL, either way.

Real files, the real server (conftest's ``pg_server``), the real CLI in a subprocess where a
process is killed. The expected values are the source's own rows, read back with plain SQL.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import ROOT, make_png
from db_dump import dump_database

from rater import Benchmark, Client, DatabaseError, DatabaseNotFound, MediaError, Tag
from rater.cli import cli
from rater.exchange.copy_db import copy_database
from rater.intake.media import preview_path
from rater.store.files import blob_file
from rater.store.copying import COPY_TABLES

IDS = ["beach", "peak", "city"]
TAGS = [[Tag("beach", category="scene"), "outdoor"], ["mountain", "outdoor"], ["city"]]
MODELS = ["ModelA", "ModelB", "ModelC", "ModelD"]


def _outputs(folder: Path, model: str) -> list[Path]:
    k = MODELS.index(model)
    return [make_png(folder / model / f"{i}.png", 40 * k + i + 1, size=8 + i) for i in range(len(IDS))]


def _vote(lb, raters: list[str], rounds: int) -> int:
    """Each rater asks ``rounds`` times; the left side wins two votes in three. Returns the votes."""
    cast = 0
    for n in range(rounds * len(raters)):
        rater = raters[n % len(raters)]
        if (matchup := lb.next_matchup(rater, continue_when_settled=True)) is not None:
            cast += lb.record_vote(matchup.id, "right" if cast % 3 == 2 else "left", rater).counted
    return cast


def _populate(client: Client, tmp_path: Path) -> Benchmark:
    """Two boards of one benchmark with tags and a prompt asset, votes, an excluded rater, a
    disabled participant, gold pairs with a removed one, an audience with members (one revoked)."""
    bench = client.mri.create_new_benchmark(
        name="Copied", identifiers=IDS, prompts=["A beach", "A peak", "A city"], tags=TAGS,
        prompt_assets=[make_png(tmp_path / "assets" / "0.png", 900), None, None])
    open_board = bench.create_leaderboard("Realism", "Which is more realistic?", show_prompt=True)
    closed = bench.create_leaderboard("Outdoor", "Which is better?", included_tags=["outdoor"])
    for name in MODELS:
        bench.evaluate_model(name, _outputs(tmp_path / "out", name), identifiers=IDS)
    gold = [open_board.add_gold_pair(make_png(tmp_path / "gold" / f"good{i}.png", 700 + i),
                                     make_png(tmp_path / "gold" / f"bad{i}.png", 800 + i), IDS[i]) for i in range(2)]
    open_board.remove_gold_pair(gold[1].id)
    assert _vote(open_board, ["ann", "bob", "cy", "dee"], 8) > 20
    open_board.exclude_rater("dee")
    audience = client.audience.create_audience("Panel")
    audience.attach(closed)
    invites = audience.invite(closed, count=3, quota=5)
    members = [client.audience.admit_invite(i.url.split("invite=")[1]).rater for i in invites[:2]]
    assert _vote(closed, members, 3) > 0
    client.audience.revoke(members[1])
    bench.participant("ModelD").disable()
    return bench


def _dump(location: str) -> dict[str, list[tuple]]:
    """Every row of every table (tests/db_dump.py), but what only PostgreSQL has: its schema
    version and media bytes tables (the media are compared as files) and ``votes.txid`` (the
    last column: the transaction that wrote the row)."""
    with Client(location) as client:
        tables = dump_database(client.store.conn)["tables"]
        if client.store.dialect == "postgresql":
            del tables["rater_schema"], tables["blob_data"]
            tables["votes"] = [row[:-1] for row in tables["votes"]]
        return tables


def _standings(location: str, bench_id: str) -> list[pd.DataFrame]:
    with Client(location) as client:
        bench = client.mri.get_benchmark_by_id(bench_id)
        tables = [lb.get_standings(seed=1) for lb in bench.leaderboards]
        tables += [lb.get_standings(tags=["outdoor"], seed=1) for lb in bench.leaderboards]
        return [*tables, bench.get_overall_standings()]


def _media(location: str, bench_id: str) -> dict[tuple[str, str], bytes]:
    with Client(location) as client:
        bench = client.mri.get_benchmark_by_id(bench_id)
        return {(p.name, ident): b"".join(f.read_bytes() for f in files)
                for p in bench.participants for ident, files in p.media().items()}


def test_sqlite_to_postgresql_and_back_is_the_same_database(tmp_path, pg_server, monkeypatch) -> None:
    source = str(tmp_path / "src" / "lb.db")
    with Client(source, create=True) as client:
        bench = _populate(client, tmp_path)
    url = pg_server.create_database("copy_round_trip")
    back = str(tmp_path / "back" / "lb.db")
    monkeypatch.setenv("RATER_MEDIA_CACHE", str(tmp_path / "cache"))  # empty: media come from the database
    lines: list[str] = []
    into_server = copy_database(source, url, progress=lines.append)
    assert "votes: " in "\n".join(lines) and lines[-1].startswith("media: ")
    copy_database(url, back)

    dumps = [_dump(source), _dump(url), _dump(back)]
    assert dumps[0]["votes"] and dumps[0]["audience_raters"] and dumps[0]["gold_pairs"]
    assert any(r[2] == 1 for r in dumps[0]["raters"]), "an excluded rater"
    assert any("disabled" in r for r in dumps[0]["models"])
    assert set(dumps[0]) == set(dumps[1]) == set(dumps[2]) == {table for table, _ in COPY_TABLES}
    for table in dumps[0]:
        assert dumps[1][table] == dumps[0][table], table
        assert dumps[2][table] == dumps[0][table], table
    assert into_server.rows == {table: len(rows) for table, rows in dumps[0].items()}

    standings = [_standings(where, bench.id) for where in (source, url, back)]
    for copy in standings[1:]:
        for expected, got in zip(standings[0], copy):
            pd.testing.assert_frame_equal(got, expected)
    media = _media(source, bench.id)
    assert len(media) == len(MODELS) * len(IDS)
    assert _media(url, bench.id) == media and _media(back, bench.id) == media
    assert not list((tmp_path / "back").glob(".*")), "no temporary file left"

    with Client(url) as client:  # new rows on the copy get new ids (the sequences moved on)
        lb = client.mri.get_benchmark_by_id(bench.id).leaderboards[0]
        before = client.store.conn.execute("SELECT max(id) FROM votes").fetchone()[0]
        matchup = lb.next_matchup("newcomer", continue_when_settled=True)
        lb.record_vote(matchup.id, "left", "newcomer")
        assert client.store.conn.execute("SELECT max(id) FROM votes").fetchone()[0] == before + 1
        client.mri.get_benchmark_by_id(bench.id).evaluate_model(
            "ModelE", [make_png(tmp_path / "late" / f"{i}.png", 600 + i) for i in range(len(IDS))], identifiers=IDS)
        audience = client.audience.list_audiences()[0]
        assert len(audience.invite(audience.leaderboard_ids[0], count=1)) == 1


def test_postgresql_to_postgresql_and_sqlite_to_sqlite(tmp_path, pg_server) -> None:
    source = str(tmp_path / "src" / "lb.db")
    with Client(source, create=True) as client:
        _populate(client, tmp_path)
    first, second = pg_server.create_database("copy_pp_1"), pg_server.create_database("copy_pp_2")
    copy_database(source, first)
    copy_database(first, second)
    beside = tmp_path / "src" / "copy.db"  # same folder: the media are already there
    result = copy_database(source, beside)
    assert result.media_copied == 0 and _dump(second) == _dump(source) == _dump(str(beside))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "rater", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def _snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_refusals_change_nothing(tmp_path, pg_server, png) -> None:
    source = tmp_path / "src" / "lb.db"
    with Client(source, create=True) as client:
        lb = client.mri.create_new_leaderboard("B", "Which?", ["p"], False)
        lb.evaluate_model("m", [png(1)], ["p"])
    taken = tmp_path / "taken" / "lb.db"
    taken.parent.mkdir()
    taken.write_bytes(b"not ours")
    src_before, taken_before = _snapshot(source.parent), _snapshot(taken.parent)

    result = CliRunner().invoke(cli, ["copy-db", str(source), str(taken)])
    assert result.exit_code == 1 and "already exists" in result.output and len(result.output.splitlines()) == 1
    assert _snapshot(taken.parent) == taken_before

    rater_db = pg_server.create_database("copy_taken")
    Client(rater_db, create=True).close()
    other = pg_server.create_database("copy_other")
    import psycopg

    with psycopg.connect(other, autocommit=True) as conn:  # another program's table: not empty either
        conn.execute("CREATE TABLE notes (x int)")
    for url in (rater_db, other):
        result = CliRunner().invoke(cli, ["copy-db", str(source), url])
        assert result.exit_code == 1 and "is not empty" in result.output, result.output
    with psycopg.connect(other) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 1
    with Client(rater_db) as client:
        assert client.mri.list_leaderboards() == []

    result = CliRunner().invoke(cli, ["copy-db", str(source), "postgresql://rater:s3cret@127.0.0.1:1/x"])
    assert result.exit_code == 1 and "password" in result.output and "s3cret" not in result.output

    missing = tmp_path / "nowhere" / "lb.db"
    result = CliRunner().invoke(cli, ["copy-db", str(missing), str(tmp_path / "new" / "lb.db")])
    assert result.exit_code == 1 and "no database at" in result.output
    assert not (tmp_path / "new").exists()
    with pytest.raises(DatabaseNotFound):
        copy_database(pg_server.url("copy_no_such_database"), tmp_path / "new" / "lb.db")
    assert not (tmp_path / "new").exists()

    with Client(source) as client:  # an older schema version: refused, not migrated
        client.store.conn.execute("PRAGMA user_version = 9")
    src_before = _snapshot(source.parent)
    result = CliRunner().invoke(cli, ["copy-db", str(source), str(tmp_path / "new" / "lb.db")])
    assert result.exit_code == 1 and "older than 10" in result.output and "open it once" in result.output
    assert _snapshot(source.parent) == src_before and not (tmp_path / "new").exists()


def test_a_row_the_server_refuses_leaves_it_empty(tmp_path, pg_server, png) -> None:
    source = tmp_path / "src" / "lb.db"
    with Client(source, create=True) as client:
        lb = client.mri.create_new_leaderboard("B", "Which?", ["p"], False)
        lb.evaluate_model("m", [png(1)], ["p"])
        lb.evaluate_model("n", [png(2)], ["p"])
        # SQLite's CHECK lets a month 13 through (date() gives NULL); PostgreSQL's does not.
        client.store.conn.execute("UPDATE models SET released = '2024-13-01' WHERE name = 'n'")
    url = pg_server.create_database("copy_refused")
    with pytest.raises(DatabaseError, match="refused a row of models"):
        copy_database(source, url)
    import psycopg

    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0
    copy_database(tmp_path / "src" / "lb.db", tmp_path / "ok" / "lb.db")  # SQLite holds it


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """A board of 15,000 votes (rows only: its media files were never written)."""
    spec = importlib.util.spec_from_file_location("matchmaking_speed", ROOT / "benchmarks" / "matchmaking_speed.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    path = tmp_path_factory.mktemp("big") / "lb.db"
    with Client(path, create=True) as client:
        client.store.set_synchronous("OFF")
        bench.build(client, models=8, prompts=10, media_per=1, n_votes=15_000, raters=40)
    return path


@pytest.mark.parametrize("into", ["sqlite", "postgresql"])
def test_a_copy_killed_midway_leaves_no_destination(tmp_path, pg_server, big, into) -> None:
    source = big
    dest = str(tmp_path / "dest" / "lb.db") if into == "sqlite" else pg_server.create_database("copy_killed")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "rater", "copy-db", str(source), dest], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:
            if line.startswith("matchups: "):
                proc.send_signal(signal.SIGKILL)
                break
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "the copy finished before it could be killed"
    if into == "sqlite":
        assert not Path(dest).exists()
    else:
        import psycopg

        with psycopg.connect(dest) as conn:  # the server rolled the transaction back
            assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0
    again = _run("copy-db", str(source), dest)  # the same destination is still new
    assert again.returncode == 0, again.stderr
    assert "15,000 votes" in again.stdout
    if into == "sqlite":
        assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == ["lb.db"], "leftovers swept"


def test_media_from_a_server_become_files_with_their_previews(tmp_path, pg_server, monkeypatch) -> None:
    monkeypatch.setenv("RATER_MEDIA_CACHE", str(tmp_path / "cache"))
    url = pg_server.create_database("copy_previews")
    large, small = make_png(tmp_path / "in" / "large.png", 5, size=1600), make_png(tmp_path / "in" / "small.png", 6)
    with Client(url, create=True) as client:
        lb = client.mri.create_new_leaderboard("B", "Which?", ["p"], False)
        lb.evaluate_model("big", [large], ["p"])
        lb.evaluate_model("little", [small], ["p"])
    back = tmp_path / "back" / "lb.db"
    assert copy_database(url, back).media_copied == 2
    for image, wanted in ((large, True), (small, False)):
        stored = blob_file(back.parent / "media", hashlib.sha256(image.read_bytes()).hexdigest(), "png")
        assert stored.read_bytes() == image.read_bytes()
        assert preview_path(stored).is_file() == wanted  # as an upload makes them


def test_the_source_is_left_byte_for_byte_as_it_was(tmp_path, png) -> None:
    live = tmp_path / "live" / "lb.db"
    with Client(live, create=True) as client:
        lb = client.mri.create_new_leaderboard("B", "Which?", ["p"], False)
        lb.evaluate_model("m", [png(1)], ["p"])
        client.backup(tmp_path / "kept" / "lb.db")  # a rollback-journal file, as backups are
    before = _snapshot(tmp_path / "kept")
    copy_database(tmp_path / "kept" / "lb.db", tmp_path / "copy" / "lb.db")
    assert _snapshot(tmp_path / "kept") == before  # not switched to WAL, no file beside it
    assert _dump(str(tmp_path / "copy" / "lb.db")) == _dump(str(live))


def test_a_damaged_medium_stops_the_copy_and_leaves_nothing(tmp_path, pg_server, png, monkeypatch) -> None:
    monkeypatch.setenv("RATER_MEDIA_CACHE", str(tmp_path / "cache"))
    url = pg_server.create_database("copy_damaged")
    with Client(url, create=True) as client:
        lb = client.mri.create_new_leaderboard("B", "Which?", ["p"], False)
        for seed in range(4):
            lb.evaluate_model(f"m{seed}", [png(seed)], ["p"])
        last = client.store.conn.execute("SELECT max(sha256) FROM blob_data").fetchone()[0]
        with client.store.write() as conn:  # the last one copied: the others are written by then
            conn.execute("UPDATE blob_data SET data = ? WHERE sha256 = ?", (b"damaged", last))
    dest = tmp_path / "new" / "deeper" / "lb.db"
    with pytest.raises(MediaError, match=f"medium {last} .* do not match its hash"):
        copy_database(url, dest)
    assert not (tmp_path / "new").exists(), "no file, no media, no folder left"
