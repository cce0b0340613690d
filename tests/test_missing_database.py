"""A missing, mistyped, deleted or replaced database is an error naming it, never a new one.

Only the calls and commands meant to create a database make one (``Client(create=True)``,
``create_new_leaderboard``, ``rater init``, ``rater create``, ``rater demo``); everything else,
the CLI, the Python API and the rating app, refuses a missing file and creates nothing, not even
its folder. A store whose file is deleted or replaced while it is open refuses to go on.

On PostgreSQL the same holds for a server database: a missing one (the server has no such
database) is a one-line :class:`DatabaseNotFound` and nothing is created on the server; an empty
one is given the rater schema only by a creating call. A file deleted or replaced has no server
counterpart.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from rater import Client, DatabaseGone, DatabaseNotFound
from rater.api.demo import DEMO_DIR
from rater.app import pair_api
from rater.cli import cli
from site_builder.cli import build_site

from app_support import make_board, open_app, pair_view, shown, start

PROMPTS = ["A red cube", "A blue sphere"]


def _missing(path: Path) -> str:
    return f"no database at {path}: check the path"


def _gone(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# -- Python API ----------------------------------------------------------------------------------


def test_client_on_a_missing_path_creates_nothing_until_a_board_is_created(tmp_path: Path) -> None:
    path = tmp_path / "typo" / "lb.db"
    client = Client(path)
    for call in (lambda: client.mri.list_leaderboards(), lambda: client.mri.find_leaderboards("x"),
                 lambda: client.mri.get_leaderboard_by_id("k7gq2mxa")):
        with pytest.raises(DatabaseNotFound, match=_missing(path)):
            call()
    assert not (tmp_path / "typo").exists()  # neither the file nor its folder
    lb = client.mri.create_new_leaderboard("B", "Which?", PROMPTS)  # the creating call
    assert path.is_file() and [b.id for b in client.mri.list_leaderboards()] == [lb.id]
    client.close()


def test_invalid_create_leaves_no_database(tmp_path: Path) -> None:
    path = tmp_path / "lb.db"
    with pytest.raises(Exception, match="prompts is empty"):
        Client(path).mri.create_new_leaderboard("B", "Which?", [])
    assert not path.exists()


def test_backup_of_a_missing_database_makes_nothing_at_the_destination(tmp_path: Path) -> None:
    with pytest.raises(DatabaseNotFound, match=_missing(tmp_path / "lb.db")):
        Client(tmp_path / "lb.db").backup(tmp_path / "copies" / "lb.db")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_create_true_makes_an_empty_database_now(tmp_path: Path) -> None:
    path = tmp_path / "new" / "lb.db"
    with Client(path, create=True) as client:
        assert path.is_file() and client.mri.list_leaderboards() == []


def _board_with_pair(tmp_path: Path, png) -> tuple[Path, Client, object, object]:
    path = tmp_path / "live" / "lb.db"
    with Client(path) as owner:
        make_board(owner, png, models=2, prompts=2, repeat_share=0.0)
    server = Client(path)  # like the running app: opened while the file was there
    [lb] = server.mri.list_leaderboards()
    return path, server, lb, lb.next_matchup("alice")


def test_a_deleted_database_refuses_the_vote_and_is_not_recreated(tmp_path: Path, png) -> None:
    path, server, lb, matchup = _board_with_pair(tmp_path, png)
    _gone(path)
    # The same thread's open connection would write into the unlinked file: refused.
    with pytest.raises(DatabaseGone, match=f"database {path} was deleted while in use; nothing was saved"):
        lb.record_vote(matchup.id, "left", "alice")
    # A new connection (Streamlit runs each click on a new thread) would create a new file: refused.
    errors: list[BaseException] = []

    def other_thread() -> None:
        try:
            lb.record_vote(matchup.id, "left", "alice")
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            errors.append(exc)

    worker = threading.Thread(target=other_thread)
    worker.start()
    worker.join()
    assert len(errors) == 1 and isinstance(errors[0], DatabaseGone), errors
    with pytest.raises(DatabaseGone):
        server.mri.create_new_leaderboard("again", "Which?", PROMPTS)  # not even a creating call
    assert not path.exists()
    server.close()


def test_a_replaced_database_is_refused_and_the_newcomer_untouched(tmp_path: Path, png) -> None:
    path, server, lb, matchup = _board_with_pair(tmp_path, png)
    other = tmp_path / "other.db"
    Client(other, create=True).close()
    os.replace(other, path)  # e.g. a backup moved over the live file
    before = path.read_bytes()
    with pytest.raises(DatabaseGone, match="was replaced by another file while in use"):
        lb.record_vote(matchup.id, "left", "alice")
    assert path.read_bytes() == before
    server.close()
    with Client(path) as fresh:
        assert fresh.mri.list_leaderboards() == []


# -- command line --------------------------------------------------------------------------------


NON_CREATING = [
    ["list"], ["show", "k7gq2mxa"], ["standings", "k7gq2mxa"],
    ["add-model", "k7gq2mxa", "--name", "m", "--manifest", "m.csv"],
    ["backup", "BACKUP"], ["export-votes", "k7gq2mxa", "out.jsonl"],
    ["import-votes", "in.jsonl"], ["gc"], ["gc", "--delete"], ["serve", "--port", "8599"],
]


@pytest.mark.parametrize("args", NON_CREATING, ids=[" ".join(a) for a in NON_CREATING])
def test_commands_refuse_a_missing_database_and_create_nothing(tmp_path: Path, args: list[str]) -> None:
    db = tmp_path / "typo" / "x.db"
    args = [str(tmp_path / "backup.db") if a == "BACKUP" else a for a in args]
    result = CliRunner().invoke(cli, ["--db", str(db), *args])
    assert result.exit_code == 1, result.output
    assert "no database at" in result.output and str(db) in result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no file, no folder, no backup


def test_build_site_refuses_a_missing_database_and_keeps_the_site(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("published", encoding="utf-8")
    db = tmp_path / "typo" / "x.db"
    result = CliRunner().invoke(build_site, ["--db", str(db), "--out", str(site)])
    assert result.exit_code == 1 and f"no database at {db}" in result.output
    assert not (tmp_path / "typo").exists()
    assert (site / "index.html").read_text(encoding="utf-8") == "published"


def test_init_creates_once_and_leaves_an_existing_database_alone(tmp_path: Path) -> None:
    db = tmp_path / "data" / "lb.db"
    first = CliRunner().invoke(cli, ["--db", str(db), "init"])
    assert first.exit_code == 0 and first.output == f"created an empty database at {db}\n"
    with Client(db) as client:
        client.mri.create_new_leaderboard("B", "Which?", PROMPTS)
    again = CliRunner().invoke(cli, ["--db", str(db), "init"])
    assert again.exit_code == 0 and again.output == f"{db} already exists (1 leaderboards); left as it is\n"
    assert len(Client(db).mri.list_leaderboards()) == 1


def test_creating_commands_create_only_when_they_succeed(tmp_path: Path) -> None:
    db = tmp_path / "new" / "lb.db"
    bad = CliRunner().invoke(cli, ["--db", str(db), "create", "--name", " ", "--instruction", "Which?",
                                   "--prompt", "p"])
    assert bad.exit_code == 1 and "leaderboard name" in bad.output
    assert not (tmp_path / "new").exists()
    no_demo = CliRunner().invoke(cli, ["--db", str(db), "demo", "--source", str(tmp_path / "nowhere")])
    assert no_demo.exit_code == 1 and "no demo manifest" in no_demo.output
    assert not (tmp_path / "new").exists()
    good = CliRunner().invoke(cli, ["--db", str(db), "create", "--name", "B", "--instruction", "Which?",
                                    "--prompt", "p"])
    assert good.exit_code == 0 and db.is_file()


def test_demo_creates_its_database(tmp_path: Path) -> None:
    db = tmp_path / "demo" / "lb.db"
    result = CliRunner().invoke(cli, ["--db", str(db), "demo", "--source", str(DEMO_DIR)])
    assert result.exit_code == 0, result.output
    assert len(Client(db).mri.list_leaderboards()) == 2


# -- the rating app ------------------------------------------------------------------------------


def test_app_says_its_database_was_deleted_and_saves_nothing(tmp_path: Path, png, monkeypatch) -> None:
    path = tmp_path / "served" / "lb.db"
    with Client(path) as owner:
        board = make_board(owner, png, models=2, prompts=2, repeat_share=0.0)
    at = start(open_app(monkeypatch, path, board.id), "alice")
    view = pair_view(at)
    assert view is not None and view["pair"] is not None
    kept = tmp_path / "kept.db"
    shutil.copy(path, kept)  # what the file held, to show no vote reached it
    _gone(path)
    status, reply = pair_api.answer(view["session"], view["pair"]["id"], "left")  # the route's own
    assert status == 200
    assert f"database {path} was deleted while in use; nothing was saved" in reply["error"], reply
    assert reply["pair"] is None and reply["rerun"]  # no next pair: nothing acknowledged
    at.run()  # the page drawn again, as the component asks
    assert not at.exception, at.exception
    errors = [shown(e.value) for e in at.error]
    assert any(f"database {path} was deleted while in use; nothing was saved" in e for e in errors), errors
    assert pair_view(at) is None
    assert not path.exists() and sorted(p.name for p in path.parent.iterdir() if p.suffix == ".db") == []
    with Client(kept) as copy:
        assert copy.mri.list_leaderboards()[0].summary()["votes"] == 0


def test_app_on_a_missing_database_says_so_and_creates_nothing(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "typo" / "lb.db"
    at = open_app(monkeypatch, path)
    assert not at.exception, at.exception
    assert [shown(e.value) for e in at.error] == [
        f"no database at {path}: check the path (--db, $RATER_DB) or create one with `rater init` "
        "(`rater create` and `rater demo` create one too)"]
    assert not (tmp_path / "typo").exists()


# -- a PostgreSQL server database ----------------------------------------------------------------


def _server_state(pg_server, url: str) -> tuple[list[str], int | None]:
    """The server's databases, and how many tables the one at ``url`` has (None: no such database)."""
    import psycopg

    with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:
        names = [r[0] for r in admin.execute("SELECT datname FROM pg_database ORDER BY datname")]
    name = url.rsplit("/", 1)[1]
    if name not in names:
        return names, None
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0]
    return names, tables


def test_a_missing_server_database_is_one_line_and_nothing_is_created(pg_server) -> None:
    url = pg_server.url("typo_db")
    before = _server_state(pg_server, url)
    assert before[1] is None
    message = f"no database at {url}: the server has no such database; create it first"
    client = Client(url)
    for call in (lambda: client.mri.list_leaderboards(), lambda: client.mri.get_leaderboard_by_id("k7gq2mxa"),
                 lambda: client.mri.create_new_leaderboard("B", "Which?", PROMPTS)):  # not even a creating call
        with pytest.raises(DatabaseNotFound, match=message) as caught:
            call()
        assert "\n" not in str(caught.value)
    with pytest.raises(DatabaseNotFound, match=message):
        Client(url, create=True)
    client.close()
    assert _server_state(pg_server, url) == before


def test_an_empty_server_database_gets_the_schema_only_from_a_creating_call(pg_location, pg_server) -> None:
    before = _server_state(pg_server, pg_location)
    assert before[1] == 0
    client = Client(pg_location)
    for call in (lambda: client.mri.list_leaderboards(), lambda: client.mri.find_leaderboards("x"),
                 lambda: client.mri.get_leaderboard_by_id("k7gq2mxa")):
        with pytest.raises(DatabaseNotFound, match=f"no rater database at {pg_location} yet"):
            call()
    with pytest.raises(Exception, match="prompts is empty"):
        client.mri.create_new_leaderboard("B", "Which?", [])  # an invalid creating call
    assert _server_state(pg_server, pg_location) == before  # still empty
    lb = client.mri.create_new_leaderboard("B", "Which?", PROMPTS)  # the creating call
    assert [b.id for b in client.mri.list_leaderboards()] == [lb.id]
    assert _server_state(pg_server, pg_location)[1] > 0
    client.close()


PG_NON_CREATING = [a for a in NON_CREATING if a[0] not in ("serve", "backup")]


@pytest.mark.parametrize("args", PG_NON_CREATING, ids=[" ".join(a) for a in PG_NON_CREATING])
def test_commands_refuse_a_missing_server_database_and_create_nothing(pg_server, tmp_path: Path,
                                                                      args: list[str]) -> None:
    url = pg_server.url("typo_db")
    before = _server_state(pg_server, url)
    result = CliRunner().invoke(cli, ["--db", url, *args])
    assert result.exit_code == 1, result.output
    assert f"no database at {url}: the server has no such database" in result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert _server_state(pg_server, url) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no file either
