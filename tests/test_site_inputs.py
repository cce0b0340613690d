"""Bad input cannot break a build: absurd vote times, a board that fails, formula-looking
names in CSVs, a new pseudonym key, colliding slugs, separators and control characters in
names, local paths, and media types."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import site_builder
from ranking import HistoryWarning, Vote, standings_history
from rater.cli import cli
from rater.results.csv_cells import csv_field, safe_cell
from site_builder import build_site
from site_builder.cli import build_site as build_site_command
from site_builder.context import slug
from site_support import make_database, make_named_database, parse, set_vote_time

ABSURD_TIMES = [32503680000.0, -5.0, 1e300, float("inf")]  # year 3000, before 1970, ...


@pytest.mark.parametrize("bad", ABSURD_TIMES + [float("nan")])
def test_history_leaves_out_votes_it_cannot_date(bad: float) -> None:
    day = 86400.0
    good = [Vote("a", "b", "a", time=1.7e9 + k * day) for k in range(4)]
    good += [Vote("b", "c", "a", time=1.7e9 + k * day) for k in range(4)]
    with pytest.warns(HistoryWarning, match="1 vote"):
        history = standings_history([*good, Vote("c", "a", "a", time=bad)])
    expected = standings_history(good)
    assert history.drop(columns="votes_so_far").equals(expected.drop(columns="votes_so_far"))
    assert history.attrs["untimed_votes"] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert standings_history(good).attrs["untimed_votes"] == 0


@pytest.fixture(scope="module")
def two_boards(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("inputs")
    db, images, audio = make_database(folder)
    return {"folder": folder, "db": db, "images": images, "audio": audio}


@pytest.mark.parametrize("bad", ABSURD_TIMES)
def test_an_absurd_vote_time_does_not_stop_the_build(two_boards: dict, tmp_path: Path,
                                                     bad: float) -> None:
    db = tmp_path / "copy.db"
    with sqlite3.connect(two_boards["db"]) as source, sqlite3.connect(db) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    for path in two_boards["db"].parent.iterdir():  # the media store beside it
        if path.is_dir():
            (tmp_path / path.name).symlink_to(path)
    set_vote_time(db, two_boards["audio"].id, bad)
    result = CliRunner().invoke(build_site_command, ["--db", str(db), "--out",
                                                     str(tmp_path / "site"), "--bootstrap", "0"])
    assert result.exit_code == 0, result.output
    assert "left out of the rank history" in result.output
    for board in ("images", "audio"):
        page = parse(tmp_path / "site" / "boards" / two_boards[board].id / "index.html")
        assert page.select("table.standings tbody tr")
        assert page.select_one("#scores svg") is not None
    card_times = [t["datetime"] for t in parse(tmp_path / "site" / "index.html").select("time")]
    assert all(t.startswith("20") for t in card_times), card_times


def test_one_failing_board_never_stops_the_others(two_boards: dict, tmp_path: Path) -> None:
    db = tmp_path / "copy.db"
    with sqlite3.connect(two_boards["db"]) as source, sqlite3.connect(db) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    for path in two_boards["db"].parent.iterdir():
        if path.is_dir():
            (tmp_path / path.name).symlink_to(path)
    audio, images = two_boards["audio"].id, two_boards["images"].id
    set_vote_time(db, audio, "yesterday")  # text in the REAL column: unreadable as a time
    site = tmp_path / "site"
    result = CliRunner().invoke(build_site_command, ["--db", str(db), "--out", str(site),
                                                     "--bootstrap", "0"])
    assert result.exit_code == 1
    assert f"Error: board {audio} could not be built: ValueError" in result.output
    assert parse(site / "boards" / images / "index.html").select("table.standings tbody tr")
    error_page = parse(site / "boards" / audio / "index.html")
    assert "yesterday" in error_page.select_one("#build-error pre").get_text()
    cards = parse(site / "index.html").select("a.board-card")
    assert len(cards) == 2 and "could not be built" in cards[1].get_text()
    again = CliRunner().invoke(build_site_command, ["--db", str(db), "--out", str(site),
                                                    "--bootstrap", "0"])
    assert again.exit_code == 1 and "up to date" in again.output and audio in again.output
    reported: list[BaseException] = []
    written = site_builder.watch(0.01, max_builds=2, sleep=lambda s: None,
                                 on_error=reported.append, db_path=db, out=tmp_path / "w",
                                 progress=None, settings=site_builder.Settings(n_bootstrap=0))
    assert written == 1 and reported == []
    assert (tmp_path / "w" / "boards" / images / "index.html").is_file()


FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)"]


def test_formula_looking_text_is_neutralised_in_every_csv(tmp_path: Path) -> None:
    assert [safe_cell(t)[0] for t in [*FORMULAS, "\tTAB", "\rCR", "\nLF"]] == ["'"] * 7
    assert safe_cell("plain") == "plain" and safe_cell(-2.5) == -2.5
    assert csv_field("=a,b") == "\"'=a,b\""
    db, board = make_named_database(tmp_path, FORMULAS, votes=30)
    site = tmp_path / "site"
    build_site(db, site, progress=None, settings=site_builder.Settings(n_bootstrap=0))
    folder = site / "boards" / board.id
    cells: list[str] = []
    for name in ("standings.csv", "votes.csv"):
        with open(folder / name, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        cells += [r[k] for r in rows for k in ("name", "left", "right") if k in r]
    output = CliRunner().invoke(cli, ["--db", str(db), "standings", board.id, "--format", "csv"])
    assert output.exit_code == 0, output.output
    cells += [r["name"] for r in csv.DictReader(io.StringIO(output.output))]
    assert len(cells) > 2 * len(FORMULAS)
    assert all(c[0] not in "=+-@\t\r" for c in cells), [c for c in cells if c[0] in "=+-@\t\r"]
    assert {c[1:] for c in cells} == set(FORMULAS)
    names = {r["name"] for r in json.loads((folder / "standings.json").read_text())["standings"]}
    assert names == set(FORMULAS), "the JSON download keeps the exact names"


def _raters(folder: Path) -> set[str]:
    with open(folder / "votes.csv", newline="", encoding="utf-8") as fh:
        return {r["rater"] for r in csv.DictReader(fh)}


def test_a_new_pseudonym_key_rebuilds_every_board(two_boards: dict, tmp_path: Path) -> None:
    site = tmp_path / "site"
    db = two_boards["db"]
    build_site(db, site, progress=None)
    boards = [site / "boards" / two_boards[k].id for k in ("images", "audio")]
    before = [_raters(b) for b in boards]
    Path(f"{db}.pseudonym-key").unlink()
    again = build_site(db, site, progress=None)
    assert not again.skipped and sorted(again.rebuilt) == sorted(two_boards[k].id for k in
                                                                 ("images", "audio"))
    after = [_raters(b) for b in boards]
    assert all(not (old & new) for old, new in zip(before, after)), "no old pseudonym is left"
    assert after[0] & after[1], "one rater has one pseudonym on every board"
    Path(f"{db}.pseudonym-key").write_text("")  # say a disk filled up while it was written
    result = CliRunner().invoke(build_site_command, ["--db", str(db), "--out", str(site)])
    assert result.exit_code == 1 and "is not a pseudonym key" in result.output.splitlines()[-1]
    Path(f"{db}.pseudonym-key").unlink()


def _colliding_names() -> tuple[str, str]:
    """Two names whose words share the slug's 40 letters and whose short hashes coincide."""
    seen: dict[str, str] = {}
    for k in range(100_000):
        name = "x" * 40 + f" v{k}"
        digest = hashlib.sha1(name.encode()).hexdigest()[:6]
        if digest in seen:
            return seen[digest], name
        seen[digest] = name
    raise AssertionError("no collision found")


def test_slugs_are_unique_on_a_board_and_names_with_separators_keep_their_charts(
        tmp_path: Path) -> None:
    first, second = _colliding_names()
    assert slug(first) == slug(second)
    names = [first, second, "line\u2028break", "para\u2029graph", "bell\x07ctl", "plain"]
    db, board = make_named_database(tmp_path, [n.replace("\x07", "") for n in names], votes=60,
                                    tags=[[first], [second]])
    with sqlite3.connect(db) as conn:  # control characters are refused now; older files have them
        conn.execute("UPDATE models SET name = ? WHERE name = 'bellctl'", (names[4],))
    conn.close()
    site = tmp_path / "site"
    build_site(db, site, progress=None, settings=site_builder.Settings(n_bootstrap=0))
    folder = site / "boards" / board.id
    page = parse(folder / "index.html")
    links = {a.get_text(): a["href"] for a in page.select("table.standings td a")}
    assert len(set(links.values())) == len(names)
    for name, href in links.items():
        assert parse(folder / href).h1.get_text() == name
    tags = {a.get_text(): a["href"] for a in page.select("#tags thead a")}
    assert len(set(tags.values())) == 2
    for section in ("#scores", "#win-rates", "#vote-counts"):
        assert page.select_one(f"{section} svg") is not None, section


def test_the_site_holds_no_local_paths(two_boards: dict, tmp_path: Path) -> None:
    templates = tmp_path / "my-templates"
    templates.mkdir()
    (templates / "base.html").write_text('{% extends "default/base.html" %}', encoding="utf-8")
    site = tmp_path / "site"
    build_site(two_boards["db"], site, templates=templates, progress=None)
    local = [str(tmp_path), str(two_boards["folder"]), str(templates)]
    for path in site.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json", ".csv", ""):
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not any(p in text for p in local), path
    document = json.loads((site / "build.json").read_text(encoding="utf-8"))
    assert document["settings"]["templates"] not in (None, str(templates))


def test_media_are_published_with_the_extension_of_their_content_type(tmp_path: Path) -> None:
    db, board = make_named_database(tmp_path, ["alpha", "beta"], votes=6)
    with sqlite3.connect(db) as conn:  # a blob recorded with a wrong extension
        sha = conn.execute("SELECT sha256 FROM blobs ORDER BY sha256 LIMIT 1").fetchone()[0]
        conn.execute("UPDATE blobs SET ext = 'html' WHERE sha256 = ?", (sha,))
    conn.close()
    stored = db.parent / "media" / sha[:2]
    (stored / f"{sha}.png").rename(stored / f"{sha}.html")
    site = tmp_path / "site"
    build_site(db, site, progress=None, settings=site_builder.Settings(n_bootstrap=0))
    published = sorted(p.suffix for p in (site / "media").rglob("*.*"))
    assert published and set(published) == {".png"}
    assert (site / "media" / sha[:2] / f"{sha}.png").read_bytes()[:4] == b"\x89PNG"
    headers = (site / "_headers").read_text(encoding="ascii").splitlines()
    assert headers == ["/*", "  X-Content-Type-Options: nosniff"]
    assert np.all([p.name != ".html" for p in site.rglob("*.html")])
