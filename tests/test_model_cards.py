"""Model cards (organisation, link, licence, release date, description): set through the API
and ``rater model-info``, validated all or nothing, shown on model pages and as standings
columns with a filter on the board page, escaped everywhere, neutralised in CSV."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import site_builder
from rater import Client, ModelCard, NotFoundError, ValidationError
from rater.cli.main import cli
from site_builder import build_site
from site_support import HOSTILE, make_named_database, parse

MODELS = ["alpha", "beta", "gamma"]

pytestmark = pytest.mark.both_backends  # the API, the CLI and the site on SQLite, then on PostgreSQL


@pytest.fixture
def board(tmp_path: Path, db_location: str):
    """``(database location, board)``."""
    return make_named_database(tmp_path, MODELS, votes=30, db=db_location)


def test_set_read_and_clear_a_card_through_the_api(board) -> None:
    db, lb = board
    assert lb.model_info("alpha") == ModelCard("alpha")  # nothing set: every field ""
    card = lb.set_model_info("alpha", organization="  Acme Labs ", url="https://example.org/a?x=1",
                             license="Apache-2.0", released="2024-02-29",
                             description="Two lines\nof text")
    assert card == ModelCard("alpha", "Acme Labs", "https://example.org/a?x=1", "Apache-2.0",
                             "2024-02-29", "Two lines\nof text")
    # only the fields given change; "" clears one
    assert lb.set_model_info("alpha", url="").url == "" and lb.model_info("alpha").license == "Apache-2.0"
    with Client(db) as other:  # stored, not cached
        assert other.mri.get_leaderboard_by_id(lb.id).model_info("alpha").organization == "Acme Labs"
    table = lb.get_standings()
    assert {"organization", "url", "license", "released", "description"} <= set(table.columns)
    row = table.set_index("name").loc["alpha"]
    assert (row["organization"], row["license"], row["released"]) == ("Acme Labs", "Apache-2.0", "2024-02-29")
    assert table.set_index("name").loc["beta", "organization"] == ""


@pytest.mark.parametrize(("change", "message"), [
    ({"url": "javascript:alert(1)"}, "url must be an http:// or https:// address"),
    ({"url": "JAVASCRIPT://x.org/%0aalert(1)"}, "url must be an http:// or https:// address"),
    ({"url": "data:text/html,<script>"}, "url must be an http:// or https:// address"),
    ({"url": "https://"}, "url must be an http:// or https:// address"),
    ({"url": 'https://x.org/"><script>'}, "url contains characters a link cannot have"),
    ({"released": "2023-02-29"}, "released is not a real date"),
    ({"released": "March 2024"}, "released must be a date as YYYY-MM-DD"),
    ({"organization": "a\nb"}, "organization contains control characters"),
    ({"license": "x" * 101}, "license is 101 characters long; the limit is 100"),
    ({"description": "d" * 1001}, "description is 1,001 characters long"),
    ({"organization": 3}, "organization must be text, got int"),
])
def test_bad_values_are_refused_whole_and_change_nothing(board, change, message) -> None:
    _, lb = board
    before = lb.set_model_info("beta", organization="Kept", url="https://kept.example")
    with pytest.raises(ValidationError, match=message):
        lb.set_model_info("beta", **{"released": "2020-01-01", **change})  # a good field too
    assert lb.model_info("beta") == before


def test_an_unknown_model_is_named(board) -> None:
    _, lb = board
    with pytest.raises(NotFoundError, match=r"has no model 'nope' \(models: 'alpha', 'beta', 'gamma'\)"):
        lb.set_model_info("nope", organization="x")
    with pytest.raises(NotFoundError, match="has no model 'nope'"):
        lb.model_info("nope")


def test_cli_sets_shows_and_clears_a_card(board) -> None:
    db, lb = board
    run = lambda *a: CliRunner().invoke(cli, ["--db", str(db), "model-info", lb.id, *a])  # noqa: E731
    result = run("alpha", "--organization", "Acme", "--url", "https://acme.example/m",
                 "--license", "MIT", "--released", "2025-01-31", "--description", "Fast")
    assert result.exit_code == 0, result.output
    assert result.output == ("organization: Acme\nurl: https://acme.example/m\nlicense: MIT\n"
                             "released: 2025-01-31\ndescription: Fast\n")
    assert run("alpha", "--url", "").output.splitlines()[1] == "url: "
    assert run("alpha").output.splitlines()[0] == "organization: Acme"  # no option: print it
    bad = run("alpha", "--url", "javascript:alert(1)", "--license", "GPL")
    assert bad.exit_code == 1
    assert bad.output.strip().count("\n") == 0 and "url must be an http:// or https://" in bad.output
    assert lb.model_info("alpha").license == "MIT"  # unchanged
    missing = run("nobody", "--license", "MIT")
    assert missing.exit_code == 1 and "has no model 'nobody'" in missing.output
    assert "Example:" in CliRunner().invoke(cli, ["model-info", "--help"]).output


def _build(db: Path, site: Path) -> Path:
    build_site(db, site, progress=None, settings=site_builder.Settings(n_bootstrap=0))
    return next((site / "boards").iterdir())


def test_site_shows_cards_escaped_with_a_safe_link_columns_and_a_filter(board, tmp_path) -> None:
    db, lb = board
    lb.set_model_info("alpha", organization=HOSTILE, url="https://example.org/alpha?a=1&b=2",
                      license="=HYPERLINK(\"http://evil\")", released="2024-05-06",
                      description=f"About {HOSTILE}")
    lb.set_model_info("beta", organization="Beta Org", license="MIT", released="2023-01-02")
    folder = _build(db, tmp_path / "site")

    model_page = next(p for p in (folder / "models").iterdir() if p.name.startswith("alpha-"))
    soup = parse(model_page)
    assert not soup.select("script:not([src])")  # the hostile text did not become a script
    card = soup.select_one("dl.model-card")
    fields = dict(zip([dt.get_text() for dt in card.select("dt")],
                      [dd.get_text() for dd in card.select("dd")]))
    assert fields["Organization"] == HOSTILE and fields["About"] == f"About {HOSTILE}"
    assert fields["Released"] == "2024-05-06" and fields["License"] == '=HYPERLINK("http://evil")'
    link = card.select_one("a")
    assert link["href"] == "https://example.org/alpha?a=1&b=2"
    assert set(link["rel"]) == {"noopener", "nofollow"}
    gamma = next(p for p in (folder / "models").iterdir() if p.name.startswith("gamma-"))
    assert parse(gamma).select_one("dl.model-card") is None  # no card, no empty box

    board_page = parse(folder / "index.html")
    table = board_page.select_one("#standings table.standings.sortable")
    heads = [th.get_text(strip=True) for th in table.select("thead th")]
    assert heads[-3:] == ["Organization", "License", "Released"]
    rows = {tr.select_one("a").get_text(): tr for tr in table.select("tbody tr")}
    assert rows["alpha"].select("td")[-3].get_text() == HOSTILE
    assert rows["alpha"]["data-organization"] == HOSTILE
    assert rows["beta"].select("td")[-1]["data-value"] == "2023-01-02"  # sortable by date
    assert rows["gamma"].select("td")[-1]["data-value"] == "0000"
    form = board_page.select_one("form#card-filter")
    assert form.has_attr("hidden")  # only the script shows it: without JS the table is whole
    organizations = [o["value"] for o in form.select("select[name=organization] option")]
    assert organizations == ["", HOSTILE, "Beta Org"]
    assert [o["value"] for o in form.select("select[name=license] option")] == [
        "", '=HYPERLINK("http://evil")', "MIT"]
    assert any(s.get("src", "").endswith("static/filter.js") for s in board_page.select("script"))

    with open(folder / "standings.csv", encoding="utf-8", newline="") as fh:
        by_name = {r["name"]: r for r in csv.DictReader(fh)}
    assert by_name["alpha"]["license"] == "'=HYPERLINK(\"http://evil\")"  # neutralised
    assert by_name["alpha"]["organization"] == HOSTILE and by_name["gamma"]["url"] == ""
    document = json.loads((folder / "standings.json").read_text(encoding="utf-8"))
    alpha = next(r for r in document["standings"] if r["name"] == "alpha")
    assert alpha["license"] == '=HYPERLINK("http://evil")'  # JSON keeps the exact text


def test_boards_without_cards_keep_their_table_and_a_card_edit_rebuilds(board, tmp_path) -> None:
    db, lb = board
    folder = _build(db, tmp_path / "site")
    page = parse(folder / "index.html")
    assert page.select_one("form#card-filter") is None
    assert "Organization" not in [th.get_text(strip=True) for th in page.select("#standings th")]
    lb.set_model_info("gamma", organization="Late Org")  # no vote, no new model: still rebuilt
    folder = _build(db, tmp_path / "site")
    rows = parse(folder / "index.html").select("#standings tbody tr")
    assert [r["data-organization"] for r in rows if r.select_one("a").get_text() == "gamma"] == ["Late Org"]
