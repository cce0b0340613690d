"""build-site end to end: pages, links, escaping, downloads, provenance, rebuilds, atomicity."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

import site_builder
from rater import LeaderboardNotFound
from rater.results.standings import load_votes
from site_builder import SiteError, build_site, vote_log_hash
from site_builder.cli import build_site as build_site_command
from site_support import (
    AUDIO_MODELS,
    BOARD_NAME,
    HOSTILE,
    INSTRUCTION,
    MODELS,
    PROMPTS,
    local_targets,
    make_database,
    pages,
    parse,
    vote_until,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("site")
    db, images, audio = make_database(folder)
    site = folder / "site"
    result = build_site(db, site, progress=None)
    return {"db": db, "site": site, "images": images, "audio": audio, "result": result}


def board_dir(built: dict, key: str = "images") -> Path:
    return built["site"] / "boards" / built[key].id


def test_index_has_one_card_per_board(built: dict) -> None:
    soup = parse(built["site"] / "index.html")
    cards = soup.select("a.board-card")
    assert [c.h2.get_text(strip=True) for c in cards] == [BOARD_NAME, "Tones"]
    first = cards[0]
    assert first.select_one(".instr").get_text() == INSTRUCTION
    figures = {dt.get_text(): dd.get_text() for dt, dd in
               zip(first.select("dt"), first.select("dd"))}
    assert figures["Models"] == str(len(MODELS))
    assert int(figures["Votes"]) == len(load_votes(built["images"]._client.store, built["images"].id))
    assert first.select_one(".leader-name").get_text() == MODELS[0]
    assert first.select_one(".badge").get_text(strip=True).split()[0] in {"settled", "placing"}
    assert first.select_one("time")["datetime"].endswith("Z")


def test_standings_table_matches_ranking(built: dict) -> None:
    soup = parse(board_dir(built) / "index.html")
    rows = soup.select("table.standings tbody tr")
    names = [r.select("td")[1].a.get_text() for r in rows]
    expected = list(built["images"].get_standings()["name"])
    assert names == expected
    assert names[0] == MODELS[0]
    headers = [th.get_text(strip=True) for th in soup.select("table.standings thead th")]
    assert headers[:6] == ["Rank", "Model", "Score", "Votes", "Win rate", "Ties"]
    score_cell = rows[0].select("td")[2]
    assert score_cell.strong is not None and score_cell.select_one(".ci") is not None


def test_inverse_board_ranks_the_less_often_chosen_first(built: dict) -> None:
    soup = parse(board_dir(built, "audio") / "index.html")
    names = [r.select("td")[1].a.get_text() for r in soup.select("table.standings tbody tr")]
    assert names == AUDIO_MODELS


def test_every_local_link_resolves(built: dict) -> None:
    site = built["site"].resolve()
    checked = 0
    for page in pages(built["site"]):
        for value, target in local_targets(page, parse(page)):
            assert target.is_relative_to(site), f"{page}: {value} leaves the site"
            assert target.is_file(), f"{page}: {value} does not resolve to a file"
            checked += 1
    assert checked > 200


def test_user_typed_text_is_escaped_everywhere(built: dict) -> None:
    for page in pages(built["site"]):
        soup = parse(page)
        scripts = soup.find_all("script")
        assert all(s.get("src", "").endswith("static/sort.js") and not s.string for s in scripts), page
        for tag in soup.find_all(True):
            assert not any(a.lower().startswith("on") for a in tag.attrs), (page, tag.name)
        assert not soup.find_all("b") and not soup.find_all("i"), page
        assert soup.find("img", src="x") is None
    board = parse(board_dir(built) / "index.html")
    assert board.h1.get_text() == BOARD_NAME
    assert board.select_one(".instruction").get_text() == INSTRUCTION
    assert PROMPTS[1] in [a.get_text() for a in board.select("#prompts a")][1]
    assert "<i>tag</i>" in [a.get_text() for a in board.select("#tags thead a")]
    model_links = [a.get_text() for a in board.select("table.standings td a")]
    assert HOSTILE in model_links and "O'Brien & \"Co\"" in model_links


def test_chart_svgs_are_inline_escaped_and_self_contained(built: dict) -> None:
    soup = parse(board_dir(built) / "index.html")
    svgs = soup.find_all("svg")
    assert len(svgs) >= 3
    texts = [t.get_text() for svg in svgs for t in svg.find_all("text")]
    assert any(HOSTILE[:20] in t for t in texts), "model names appear in the charts as text"
    for svg in svgs:
        assert not svg.find_all(["script", "foreignobject", "image", "a", "style"])
        for tag in svg.find_all(True):
            for name, value in tag.attrs.items():
                assert not name.lower().startswith("on")
                assert "http" not in str(value) or name == "xmlns"
    ids = [t["id"] for t in soup.find_all(id=True)]
    assert len(ids) == len(set(ids))


def test_prompt_pages_show_every_models_media(built: dict) -> None:
    soup = parse(board_dir(built) / "prompts" / "1.html")
    assert soup.select_one(".prompt-text").get_text() == PROMPTS[0]
    cards = soup.select(".media-card")
    assert {c.select_one(".who a").get_text() for c in cards} == set(MODELS)
    big = next(c for c in cards if c.select_one(".who a").get_text() == MODELS[0])
    link, img = big.a["href"], big.img["src"]
    assert "/media/" in link and "/thumbs/" in img and img.endswith(".webp")
    assert len(soup.select("table tbody tr")) == len(MODELS)
    audio = parse(board_dir(built, "audio") / "prompts" / "1.html")
    assert audio.find("audio")["controls"] is not None
    assert audio.select_one(".prompt-text") is None, "prompts a board does not publish stay hidden"
    asset = audio.select_one("#prompt-asset img")
    assert asset is not None and (board_dir(built, "audio") / "prompts" / asset["src"]).resolve().is_file()


def test_model_pages_have_per_prompt_and_per_opponent_tables(built: dict) -> None:
    board = parse(board_dir(built) / "index.html")
    href = board.select("table.standings tbody tr")[0].select("td")[1].a["href"]
    soup = parse(board_dir(built) / href)
    assert soup.h1.get_text() == MODELS[0]
    tables = soup.select("table")
    opponents = [r.td.a.get_text() for r in tables[0].select("tbody tr")]
    assert sorted(opponents) == sorted(MODELS[1:])
    assert len(tables[1].select("tbody tr")) == len(PROMPTS)


def test_downloads(built: dict) -> None:
    folder = board_dir(built)
    with open(folder / "standings.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["name"] for r in rows] == list(built["images"].get_standings()["name"])
    document = json.loads((folder / "standings.json").read_text(encoding="utf-8"))
    assert document["leaderboard"]["name"] == BOARD_NAME
    assert document["standings"][0]["name"] == MODELS[0]
    with open(folder / "votes.csv", newline="", encoding="utf-8") as fh:
        votes = list(csv.DictReader(fh))
    assert len(votes) == document["votes"] + document["excluded_votes"]
    raters = {v["rater"] for v in votes}
    assert raters and all(r.startswith("r-") and len(r) == 14 for r in raters)
    assert not any("rater-" in v["rater"] for v in votes)
    key = Path(f"{built['db']}.pseudonym-key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_build_json_traces_the_data(built: dict) -> None:
    document = json.loads((built["site"] / "build.json").read_text(encoding="utf-8"))
    assert document["version"] == site_builder.build.rater.__version__
    assert document["settings"]["n_bootstrap"] == 200
    entry = document["leaderboards"][built["images"].id]
    arrays = load_votes(built["images"]._client.store, built["images"].id)
    assert entry["card"]["vote_log_sha256"] == vote_log_hash(arrays)
    history = json.loads((built["site"] / "history.json").read_text(encoding="utf-8"))
    assert built["images"].id in history["builds"][-1]["boards"]


def test_rebuild_skips_when_nothing_changed_and_rebuilds_on_a_vote(tmp_path: Path) -> None:
    db, images, _audio = make_database(tmp_path)
    site = tmp_path / "site"
    first = build_site(db, site, progress=None)
    assert not first.skipped and len(first.rebuilt) == 2
    again = build_site(db, site, progress=None)
    assert again.skipped
    assert vote_until(images, 1, MODELS, prefix="late") == 1
    third = build_site(db, site, progress=None)
    assert third.rebuilt == [images.id], "the unchanged board is carried over"
    assert third.media is not None and third.media.copied == 0
    history = json.loads((site / "history.json").read_text(encoding="utf-8"))
    assert [list(b["boards"]) for b in history["builds"]] == [[images.id, _audio.id], [images.id]]
    assert not list(tmp_path.glob(".site.*")), "no temporary folders are left behind"


def test_refuses_to_replace_a_folder_it_did_not_build(built: dict, tmp_path: Path) -> None:
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work")
    with pytest.raises(SiteError, match="not empty"):
        build_site(built["db"], precious, progress=None)
    assert (precious / "thesis.txt").read_text() == "years of work"


def test_user_templates_override_and_extend_ours(built: dict, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "base.html").write_text(
        '{% extends "default/base.html" %}{% block footer %}<p id="mine">Our lab</p>{% endblock %}',
        encoding="utf-8")
    site = tmp_path / "custom"
    build_site(built["db"], site, templates=templates, progress=None)
    soup = parse(site / "boards" / built["images"].id / "index.html")
    assert soup.find(id="mine").get_text() == "Our lab"
    assert soup.select("table.standings tbody tr"), "the rest of our page is still there"


def test_selected_leaderboards_only(built: dict, tmp_path: Path) -> None:
    site = tmp_path / "one"
    result = build_site(built["db"], site, [built["audio"].id], progress=None)
    assert result.boards == [built["audio"].id]
    assert [p.name for p in (site / "boards").iterdir()] == [built["audio"].id]
    with pytest.raises(LeaderboardNotFound):
        build_site(built["db"], tmp_path / "two", ["nope1234"], progress=None)


def test_cli(built: dict, tmp_path: Path) -> None:
    runner = CliRunner()
    help_text = runner.invoke(build_site_command, ["--help"]).output
    assert "Example:" in help_text and "--watch" in help_text and "--templates" in help_text
    out = tmp_path / "cli-site"
    result = runner.invoke(build_site_command, ["--db", str(built["db"]), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "index.html").is_file()
    again = runner.invoke(build_site_command, ["--db", str(built["db"]), "--out", str(out)])
    assert again.exit_code == 0 and "up to date" in again.output
    bad = runner.invoke(build_site_command, ["--db", str(built["db"]), "--out", str(out),
                                             "--leaderboard", "missing1"])
    assert bad.exit_code == 1 and "missing1" in bad.output


def test_cli_uses_rater_db_variable(built: dict, tmp_path: Path) -> None:
    out = tmp_path / "env-site"
    result = CliRunner().invoke(build_site_command, ["--out", str(out)],
                                env={"RATER_DB": str(built["db"])})
    assert result.exit_code == 0, result.output
    assert (out / "build.json").is_file()


def test_watch_rebuilds_only_on_change(built: dict, tmp_path: Path) -> None:
    calls: list[bool] = []

    def fake_build(**options: object) -> object:
        result = build_site(**options)  # type: ignore[arg-type]
        calls.append(result.skipped)
        return result

    site = tmp_path / "watched"
    written = site_builder.watch(0.01, build=fake_build, max_builds=3, sleep=lambda s: None,
                                 db_path=built["db"], out=site, progress=None)
    assert written == 1 and calls == [False, True, True]


def test_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    from rater import DatabaseError

    with pytest.raises(DatabaseError, match="no database"):
        build_site(tmp_path / "none.db", tmp_path / "site", progress=None)
    assert not (tmp_path / "none.db").exists()


def test_package_never_imports_sqlite3() -> None:
    folder = Path(site_builder.__file__).parent
    for source in folder.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert "import sqlite3" not in text and "execute(" not in text, source.name
        assert len(text.splitlines()) < 400, source.name

