"""A model with few votes is *preliminary*: marked in every table, listed after the established
models, kept off the podium and out of the index's "leader" (issue 16).

The board: three close models with ~200 votes each, then ``painter-newcomer`` with 7 votes (5
wins, 1 tie, 1 loss). Its fitted score is the board's highest, so without the rule it would be
crowned #1 on 7 votes, as it was.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from rater import Client, ValidationError
from rater.cli import cli
from site_builder import build_site

from app_support import open_app, page_text
from conftest import host_folders, make_png
from prebuilt import Prebuilt
from site_support import parse

NEWCOMER = "painter-newcomer"
ESTABLISHED = ["painter-a", "painter-b", "painter-c"]
PROMPTS = ["A harbour at night", "A field of poppies"]

pytestmark = pytest.mark.both_backends  # the boards on SQLite, then on PostgreSQL (the app: SQLite)


def _add(board, name: str, folder: Path, seed: int) -> None:
    board.evaluate_model(name, [make_png(folder / f"{name}-{p}.png", seed + p) for p in range(2)],
                         PROMPTS)


def _vote(board, rater: str, pick) -> bool:
    matchup = board.next_matchup(rater, continue_when_settled=True)
    while matchup is not None and matchup.is_repeat:
        matchup = board.next_matchup(rater, continue_when_settled=True)
    if matchup is None:
        return False
    board.record_vote(matchup.id, pick(matchup), rater)
    return True


def _build(folder: Path, location) -> dict:
    with Client(location("prelim"), create=True) as client:
        board = client.mri.create_new_leaderboard("Painters", "Which painting is better?", PROMPTS,
                                                  show_prompt=True, tags=[["night"], ["day"]],
                                                  strategy="uniform")
        for k, name in enumerate(ESTABLISHED):
            _add(board, name, folder, 10 * k)
        rng = random.Random(4)
        cast = k = 0
        while cast < 300:  # close models: the earlier one wins 55% of the time
            k += 1
            def pick(m):
                better = "left" if ESTABLISHED.index(m.left.model) < ESTABLISHED.index(m.right.model) else "right"
                return better if rng.random() < 0.55 else ("right" if better == "left" else "left")
            cast += _vote(board, f"rater-{k % 200}", pick)
        _add(board, NEWCOMER, folder, 90)
        outcomes = iter(["win"] * 5 + ["tie", "loss"])
        k = 0
        while True:
            k += 1
            matchup = board.next_matchup(f"fresh-{k}", continue_when_settled=True)
            if NEWCOMER not in (matchup.left.model, matchup.right.model):
                continue
            outcome = next(outcomes, None)
            if outcome is None:
                break
            mine = "left" if matchup.left.model == NEWCOMER else "right"
            other = "right" if mine == "left" else "left"
            board.record_vote(matchup.id, {"win": mine, "loss": other, "tie": "tie"}[outcome], f"fresh-{k}")
        thin = client.mri.create_new_leaderboard("Sketches", "Which sketch is better?", PROMPTS)
        for k, name in enumerate(["sketch-a", "sketch-b", "sketch-c"]):
            _add(thin, name, folder, 200 + 10 * k)
        for k in range(5):
            _vote(thin, f"r{k}", lambda m: "left")
        status = board.status()
    return {"board": board.id, "thin": thin.id, "placing": sum(1 for m in status.models if m.status == "placing")}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Prebuilt:
    return Prebuilt(tmp_path_factory, _build)


@pytest.fixture(scope="module")
def made(built: Prebuilt, request) -> dict:
    """The boards on SQLite, for the site's and the app's tests (which only read them)."""
    folder, locations, info = built.original("sqlite", request)
    return {"db": locations["prelim"], "folder": folder, **info}


@pytest.fixture
def on_backend(built: Prebuilt, backend: str, request, tmp_path: Path, monkeypatch) -> dict:
    """The same boards on the test's backend, for tests that only read them."""
    host_folders(monkeypatch, tmp_path)
    folder, locations, info = built.original(backend, request)
    return {"db": locations["prelim"], "folder": folder, **info}


@pytest.fixture
def copied(built: Prebuilt, backend: str, new_location, request) -> dict:
    """A copy of the boards on the test's backend, for tests that change them."""
    _, locations, info = built.copy(backend, new_location, request)
    return {"db": locations["prelim"], **info}


@pytest.fixture(scope="module")
def sites() -> dict[str, Path]:
    return {}


@pytest.fixture
def site(sites: dict[str, Path], on_backend: dict, backend: str) -> Path:
    """The site, built once per backend from the boards."""
    if backend not in sites:
        sites[backend] = on_backend["folder"] / f"site-{backend}"
        build_site(on_backend["db"], sites[backend], progress=None)
    return sites[backend]


def test_the_newcomer_is_preliminary_and_not_rank_one(on_backend: dict) -> None:
    made = on_backend
    with Client(made["db"]) as client:
        board = client.mri.get_leaderboard_by_id(made["board"])
        assert board.min_votes == 20  # the default
        df = board.get_standings(n_bootstrap=0)
    row = df.set_index("name").loc[NEWCOMER]
    assert (row.total_matches, row.wins, row.ties) == (7, 5, 1)
    assert df["score"].idxmax() == df.index[df["name"] == NEWCOMER][0]  # the fit puts it first...
    assert bool(row.preliminary) and row["rank"] == 4  # ...but it is published after the others
    assert df.loc[df["name"] != NEWCOMER, "total_matches"].min() > 150
    assert not df.loc[df["name"] != NEWCOMER, "preliminary"].any()
    assert list(df["rank"]) == [1, 2, 3, 4] and df["name"].iloc[0] != NEWCOMER
    assert df.attrs["min_votes"] == 20


def test_min_votes_is_a_board_setting(copied: dict) -> None:
    made = copied
    with Client(made["db"]) as client:
        board = client.mri.get_leaderboard_by_id(made["board"])
        for bad in (-1, 2.5, True, "10"):
            with pytest.raises(ValidationError, match="min_votes must be an integer of at least 0"):
                board.update(min_votes=bad)
        assert client.mri.get_leaderboard_by_id(board.id).min_votes == 20  # unchanged
        with pytest.raises(ValidationError, match="min_votes"):
            client.mri.create_new_leaderboard("x", "y", ["p"], min_votes=-3)
        tiny = client.mri.create_new_leaderboard("x", "y", ["p"], min_votes=5)
        assert tiny.min_votes == 5
    with Client(made["db"]) as client:
        board = client.mri.get_leaderboard_by_id(made["board"]).update(min_votes=300)
        assert board.min_votes == 300 and board.show_standings is False
        df = board.get_standings(n_bootstrap=0)
        assert df["preliminary"].all()  # nobody has 300 votes


def test_cli_marks_the_newcomer_and_lists_it_last(on_backend: dict) -> None:
    made = on_backend
    result = CliRunner().invoke(cli, ["--db", str(made["db"]), "standings", made["board"]],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if "painter" in line]
    assert len(rows) == 4 and NEWCOMER not in rows[0] and rows[0].split()[0] == "1"
    assert rows[-1].endswith(f"{NEWCOMER}  (preliminary)")
    assert sum("(preliminary)" in line for line in rows) == 1
    assert "(preliminary): fewer than 20 votes" in result.stderr  # the legend, off the table
    as_json = CliRunner().invoke(cli, ["--db", str(made["db"]), "standings", made["board"],
                                       "--format", "json"], catch_exceptions=False)
    table = json.loads(as_json.output)["standings"]
    assert [r["preliminary"] for r in table] == [False, False, False, True]


def test_cli_update_sets_min_votes(copied: dict) -> None:
    made, copy = copied, copied["db"]
    runner = CliRunner()
    bad = runner.invoke(cli, ["--db", str(copy), "update", made["board"], "--min-votes", "-2"])
    assert bad.exit_code == 1 and "min_votes must be an integer of at least 0" in bad.output
    ok = runner.invoke(cli, ["--db", str(copy), "update", made["board"], "--min-votes", "5"])
    assert ok.exit_code == 0 and "fewer than 5 votes are preliminary" in ok.output
    with Client(copy) as client:
        assert client.mri.get_leaderboard_by_id(made["board"]).min_votes == 5


def test_app_standings_page_lists_the_newcomer_last(made: dict, monkeypatch) -> None:
    at = open_app(monkeypatch, made["db"], made["board"])
    at.switch_page("views/standings.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["name"].iloc[0] != NEWCOMER and table["rank"].iloc[0] == 1
    assert list(table["name"])[-1] == NEWCOMER
    assert list(table["preliminary"]) == [False, False, False, True]
    assert "1 model is preliminary: fewer than 20 votes" in page_text(at)


def test_site_board_page_keeps_the_newcomer_off_the_podium(on_backend: dict, site: Path) -> None:
    made = on_backend
    page = parse(site / "boards" / made["board"] / "index.html")
    podium = [a.get_text(strip=True) for a in page.select("ol.podium a.name")]
    assert len(podium) == 3 and NEWCOMER not in podium
    established, thin = page.select("#standings table.standings tbody")
    assert NEWCOMER not in established.get_text()
    assert thin["class"] == ["preliminary"] and thin["title"].startswith("Preliminary: fewer than 20 votes")
    assert page.select_one("#standings .preliminary-note").get_text(" ", strip=True).startswith(
        "preliminary Preliminary: fewer than 20 votes")
    assert [a.get_text(strip=True) for a in thin.select("tr.preliminary a")] == [NEWCOMER]
    assert thin.select_one("tr.preliminary .badge.preliminary")
    assert page.select_one("#podium-preliminary") is None
    model = parse(site / "boards" / made["board"] / thin.select_one("tr.preliminary a")["href"])
    assert "too few votes" in model.select_one(".chips").get_text()
    night = next(a["href"] for a in page.select("a") if a.get_text(strip=True) == "night")
    tag = parse(site / "boards" / made["board"] / night)
    assert [a.get_text(strip=True) for a in tag.select("tbody.preliminary tr.preliminary a")] == [NEWCOMER]


def test_site_index_leader_and_badge(on_backend: dict, site: Path) -> None:
    made = on_backend
    index = parse(site / "index.html")
    cards = {c.select_one("h2").get_text(strip=True): c for c in index.select("a.board-card")}
    painters, sketches = cards["Painters"], cards["Sketches"]
    assert painters.select_one(".leader-name").get_text(strip=True) in ESTABLISHED
    assert made["placing"] > 1  # models with ~200 votes are still being placed
    badge = painters.select_one(".foot .badge").get_text(" ", strip=True)
    assert badge == f"placing · {made['placing']} of 4 models still being placed"
    assert "new" not in badge
    assert sketches.select_one(".leader-name") is None
    assert "standings preliminary" in sketches.select_one(".leader").get_text()


def test_site_all_preliminary_board_crowns_nobody(on_backend: dict, site: Path) -> None:
    made = on_backend
    page = parse(site / "boards" / made["thin"] / "index.html")
    assert page.select_one("ol.podium") is None
    assert "Standings are preliminary" in page.select_one("#podium-preliminary").get_text()
    rows = page.select("tbody.preliminary tr.preliminary")
    assert len(rows) == 3


@pytest.mark.slow
def test_preliminary_pages_pass_the_nu_html_checker(on_backend: dict, site: Path) -> None:
    made = on_backend
    from test_site_html_valid import check_pages

    check_pages(site)  # the preliminary band, badges and the "Standings are preliminary" note
