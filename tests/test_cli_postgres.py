"""The command line and ``Client`` on a ``postgresql://`` URL (a real throwaway server).

The same commands print the same text as on an SQLite file; a server that cannot be reached, a
server database that does not exist and a missing psycopg are one-line errors that create
nothing; and the URL is never again taken for a file path (it used to make an SQLite database
under a folder named ``postgresql:`` in the working directory).
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import click.testing
import pytest
from click.testing import CliRunner

from rater import Client, DatabaseError, DatabaseNotFound
from rater.cli import cli
from rater.store.pg_store import MEDIA_CACHE_ENV

ROOT = Path(__file__).resolve().parents[1]
UNREACHABLE = "postgresql://someone:s3cret@127.0.0.1:1/rater"  # nothing listens on port 1
SHOWN = "postgresql://someone:***@127.0.0.1:1/rater"
_NUMBERS = itertools.count(1)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (where the old code made its ``postgresql:`` folder)."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv(MEDIA_CACHE_ENV, str(tmp_path / "media-cache"))
    monkeypatch.delenv("RATER_DB", raising=False)
    return work


@pytest.fixture
def pg_url(pg_server, workdir: Path) -> str:
    return pg_server.create_database(f"cli_{os.getpid()}_{next(_NUMBERS)}")


def run(db: str | Path, *args: str) -> click.testing.Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args])


def _ok(result: click.testing.Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def _session(db: str | Path, media: Path, png) -> list[str]:
    """init, create, add-model (twice), votes through the API, then what list, show and
    standings print, with the board's id taken out."""
    out = [_ok(run(db, "init"))]
    board = _ok(run(db, "create", "--name", "Fruit", "--instruction", "Which?", "--prompt", "An apple",
                    "--prompt", "A pear", "--repeat-share", "0")).strip()
    for model, seed in (("m1", 1), ("m2", 5)):
        png(seed, f"{model}-a.png"), png(seed + 1, f"{model}-b.png")
        manifest = media / f"{model}.csv"
        manifest.write_text(f"media,prompt\n{model}-a.png,An apple\n{model}-b.png,A pear\n", encoding="utf-8")
        out.append(_ok(run(db, "add-model", board, "--name", model, "--manifest", str(manifest))))
    with Client(db) as client:
        lb = client.mri.get_leaderboard_by_id(board)
        for rater in ("ann", "bob", "cy"):
            while (matchup := lb.next_matchup(rater, continue_when_settled=True)) is not None:
                lb.record_vote(matchup.id, "left" if matchup.left.model == "m1" else "right", rater)
    for args in (("list",), ("show", board), ("standings", board)):
        out.append(_ok(run(db, *args)))
    return [text.replace(board, "<id>") for text in out[1:]]


def test_init_create_add_list_show_standings_print_what_they_print_on_sqlite(pg_url, workdir, png, tmp_path) -> None:
    created = _ok(run(pg_url, "init"))
    assert created == f"created an empty database at {pg_url}\n"
    assert _ok(run(pg_url, "init")) == f"{pg_url} already exists (0 leaderboards); left as it is\n"
    on_sqlite = _session(tmp_path / "lb.db", tmp_path / "media", png)
    on_postgres = _session(pg_url, tmp_path / "media", png)
    assert on_postgres == on_sqlite
    assert "m1" in on_postgres[-1] and re.search(r"^<id>\t2 models\t\d+ votes\tFruit", on_postgres[2], re.M)
    assert list(workdir.iterdir()) == []  # no folder named "postgresql:", no file


def test_rater_db_selects_the_server_and_demo_loads_the_same_boards(pg_url, workdir, tmp_path) -> None:
    env = {"RATER_DB": pg_url}
    first = CliRunner().invoke(cli, ["demo"], env=env)
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(cli, ["demo"], env=env)
    assert again.output.count("(already loaded)") == 2
    assert _ok(run(tmp_path / "demo.db", "demo"))
    listed = {name: CliRunner().invoke(cli, ["list"], env={"RATER_DB": str(db)}).output
              for name, db in (("postgresql", pg_url), ("sqlite", tmp_path / "demo.db"))}
    ids = {name: [line.split("\t")[0] for line in text.splitlines()] for name, text in listed.items()}
    strip = {name: re.sub(r"^\w+\t", "", text, flags=re.M) for name, text in listed.items()}
    assert strip["postgresql"] == strip["sqlite"] and len(ids["sqlite"]) == 2
    for pg_id, sqlite_id in zip(ids["postgresql"], ids["sqlite"]):
        assert _ok(run(pg_url, "standings", pg_id)) == _ok(run(tmp_path / "demo.db", "standings", sqlite_id))
    assert list(workdir.iterdir()) == []


def test_an_unreachable_server_is_one_line_naming_the_url_without_its_password(workdir) -> None:
    with pytest.raises(DatabaseError) as caught:
        Client(UNREACHABLE)
    message = str(caught.value)
    assert "\n" not in message and SHOWN in message and "s3cret" not in message
    failed = CliRunner().invoke(cli, ["list"], env={"RATER_DB": UNREACHABLE})
    assert failed.exit_code == 1 and failed.output.count("\n") == 1, failed.output
    assert SHOWN in failed.output and "s3cret" not in failed.output and "Traceback" not in failed.output
    assert list(workdir.iterdir()) == []


def test_a_missing_server_database_is_not_found_and_nothing_is_created(pg_server, workdir) -> None:
    import psycopg

    missing = pg_server.url("no_such_database")
    with pytest.raises(DatabaseNotFound, match="no_such_database.*no such database"):
        Client(missing, create=True)
    with Client(missing) as client, pytest.raises(DatabaseNotFound, match="no_such_database.*no such database"):
        client.mri.list_leaderboards()  # as a missing SQLite file: on use
    for args in (["list"], ["init"], ["demo"]):
        failed = run(missing, *args)
        assert failed.exit_code == 1 and failed.output.count("\n") == 1, failed.output
        assert "no such database" in failed.output
    with psycopg.connect(pg_server.admin_url) as admin:
        assert admin.execute("SELECT count(*) FROM pg_database WHERE datname = 'no_such_database'").fetchone()[0] == 0
    assert list(workdir.iterdir()) == []


BLOCK_PSYCOPG = """
import sys

class _NoPsycopg:
    def find_spec(self, name, path=None, target=None):
        if name == "psycopg" or name.startswith(("psycopg.", "psycopg_")):
            raise ImportError(f"No module named {name!r} (blocked by the test)")
        return None

sys.meta_path.insert(0, _NoPsycopg())
"""


def test_without_psycopg_the_error_names_the_extra_to_install(tmp_path, workdir) -> None:
    blocker = tmp_path / "no-psycopg"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(textwrap.dedent(BLOCK_PSYCOPG), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), str(ROOT)]), "RATER_DB": UNREACHABLE}
    cli_run = subprocess.run([sys.executable, "-m", "rater", "list"], capture_output=True, text=True,
                             env=env, cwd=workdir, timeout=120)
    assert cli_run.returncode == 1 and cli_run.stdout == ""
    assert cli_run.stderr.count("\n") == 1, cli_run.stderr
    assert "pip install 'rater[postgresql]'" in cli_run.stderr and "s3cret" not in cli_run.stderr
    api = subprocess.run([sys.executable, "-c", "import psycopg"], capture_output=True, text=True, env=env, timeout=60)
    assert api.returncode == 1 and "blocked by the test" in api.stderr  # the block is real
    assert list(workdir.iterdir()) == []
