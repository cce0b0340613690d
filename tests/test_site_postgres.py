"""``build-site`` from a PostgreSQL database: the same site as from the same data on SQLite.

The demo is made on SQLite and copied onto a real throwaway server with ``rater copy-db``; the
site is built from each. Every page, download and medium must be the same, apart from when it
was built, the database's name, and the numbering of chart gradients (a counter of the
process). The pseudonym key of a server database lives in this host's config folder (the
server holds no file of ours); given the SQLite database's key, the pseudonyms match too.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from rater.cli import cli as rater_cli
from rater.store.pg_store import MEDIA_CACHE_ENV
from site_builder import pseudonym_key_path
from site_builder.cli import build_site as build_site_cli

#: What may differ between two builds of the same data: the time, the database's name, the
#: gradient ids of charts and how many charts this process has drawn so far.
VOLATILE = [
    (re.compile(rb'"built_at(_unix)?": ?[^,}\n]+'), b'"built_at": _'),
    (re.compile(rb'"database": ?"[^"]*"'), b'"database": _'),
    (re.compile(rb'"charts_rendered": ?\d+'), b'"charts_rendered": _'),
    (re.compile(rb"c\d+-gradient_\d+"), b"gradient"),
]


def _normalised(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix in (".html", ".json", ".svg"):
        for pattern, replacement in VOLATILE:
            data = pattern.sub(replacement, data)
    return data


def _files(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): _normalised(p) for p in sorted(site.rglob("*")) if p.is_file()}


def _text(page: Path) -> str:
    return " ".join(BeautifulSoup(page.read_text(encoding="utf-8"), "html5lib").get_text().split())


def _tables(page: Path) -> list[list[list[str]]]:
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html5lib")
    return [[[" ".join(cell.get_text().split()) for cell in row.find_all(["th", "td"])]
             for row in table.find_all("tr")] for table in soup.find_all("table")]


@pytest.fixture
def demo_on_both(pg_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """The demo on SQLite, and the same database copied onto the server."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(MEDIA_CACHE_ENV, str(tmp_path / "media-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("RATER_DB", raising=False)
    db = tmp_path / "demo.db"
    url = pg_server.create_database(f"site_{tmp_path.name.lower()}"[:60])
    runner = CliRunner()
    for args in (["--db", str(db), "demo"], ["copy-db", str(db), url]):
        result = runner.invoke(rater_cli, args)
        assert result.exit_code == 0, result.output
    return db, url


def build(db: Path | str, out: Path, **env: str) -> None:
    result = CliRunner().invoke(build_site_cli, ["--out", str(out), "--bootstrap", "0",
                                                 *(["--db", str(db)] if db else [])], env=env)
    assert result.exit_code == 0, result.output


def test_the_site_of_a_server_database_is_the_site_of_the_same_data_on_sqlite(demo_on_both, tmp_path) -> None:
    db, url = demo_on_both
    build(db, tmp_path / "from-sqlite")
    key = pseudonym_key_path(url)
    assert key.is_relative_to(tmp_path / "config") and not key.exists()
    key.parent.mkdir(parents=True)
    shutil.copy(f"{db}.pseudonym-key", key)  # the same pseudonyms
    build("", tmp_path / "from-postgresql", RATER_DB=url)
    on_sqlite, on_postgres = _files(tmp_path / "from-sqlite"), _files(tmp_path / "from-postgresql")
    assert sorted(on_postgres) == sorted(on_sqlite)
    assert sum(name.endswith(".html") for name in on_sqlite) > 20
    different = [name for name in on_sqlite if on_postgres[name] != on_sqlite[name]]
    assert different == []
    index = _text(tmp_path / "from-postgresql" / "index.html")
    assert index == _text(tmp_path / "from-sqlite" / "index.html") and "Demo: Pillow painters" in index
    for board in (tmp_path / "from-postgresql" / "boards").iterdir():
        standings = _tables(board / "index.html")
        assert standings and len(standings[0]) >= 4  # a header and the models, parsed
        assert standings == _tables(tmp_path / "from-sqlite" / "boards" / board.name / "index.html")
    assert not (tmp_path / "postgresql:").exists()


def test_a_server_database_gets_its_own_pseudonym_key_and_the_build_is_skipped_unchanged(demo_on_both, tmp_path) -> None:
    _, url = demo_on_both
    out = tmp_path / "site"
    build(url, out)
    key = pseudonym_key_path(url)
    assert key.is_file() and key.stat().st_mode & 0o777 == 0o600
    again = CliRunner().invoke(build_site_cli, ["--db", url, "--out", str(out), "--bootstrap", "0"])
    assert again.exit_code == 0 and "up to date" in again.output
    assert list(tmp_path.glob("*pseudonym-key*")) == [] and not (tmp_path / "postgresql:").exists()


def test_build_site_refuses_a_password_and_a_database_that_is_not_there(pg_server, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    runner = CliRunner()
    with_password = pg_server.url("x").replace("postgres@", "postgres:s3cret@")
    refused = runner.invoke(build_site_cli, ["--db", with_password, "--out", "site"])
    assert refused.exit_code == 1 and "RATER_DB" in refused.output and "s3cret" not in refused.output
    empty = pg_server.create_database(f"empty_{tmp_path.name.lower()}"[:60])
    for db, message in ((pg_server.url("no_such_database"), "no such database"), (empty, "no rater database")):
        failed = runner.invoke(build_site_cli, ["--db", db, "--out", "site"])
        assert failed.exit_code == 1 and failed.output.count("\n") == 1, failed.output
        assert message in failed.output
    assert list(tmp_path.iterdir()) == []  # no site, no key, no postgresql: folder
