"""The passcode gate and the Raters and Standings pages, driven with AppTest."""

from __future__ import annotations

import pytest

from rater.app_pages import common

from app_support import button, click, labels, make_board, media_urls, open_app, page_text, start

RATERS = "app_pages/raters.py"
STANDINGS = "app_pages/standings.py"


@pytest.fixture(autouse=True)
def no_delay(monkeypatch):
    monkeypatch.setattr(common, "WRONG_PASSCODE_DELAY", 0.0)


@pytest.fixture
def board(client, png):
    lb = make_board(client, png, models=3, prompts=2, show_prompt=True, repeat_share=0.0)
    for rater, count in (("alice", 3), ("bob", 2)):
        for _ in range(count):
            pair = lb.next_matchup(rater)
            lb.record_vote(pair.id, "left", rater)
    return lb


def no_media(at) -> bool:
    return not any(media_urls(at, kind) for kind in ("image", "audio", "video"))


def enter(at, label: str, code: str):
    [field] = [t for t in at.text_input if t.label == label]
    field.input(code)
    return click(at, "Enter")


def test_passcode_gate_shows_nothing_before_the_passcode(client, board, monkeypatch):
    at = open_app(monkeypatch, client.db_path, board.id, passcode="s3cret")
    assert [t.label for t in at.text_input] == ["Passcode"]
    assert labels(at) == ["Enter"]
    assert no_media(at) and "Test board" not in page_text(at)
    assert not at.header and not at.dataframe  # no instruction, no figures
    enter(at, "Passcode", "guess")
    assert at.error[0].value == "Wrong passcode."
    assert labels(at) == ["Enter"] and no_media(at)
    enter(at, "Passcode", "s3cret")
    assert "Start rating" in labels(at)
    start(at, "alice")
    assert len(media_urls(at)) == 2


@pytest.mark.parametrize("page", [RATERS, STANDINGS])
def test_gate_also_guards_the_other_pages(client, board, monkeypatch, page):
    monkeypatch.setenv("RATER_DB", str(client.db_path))
    monkeypatch.setenv("RATER_PASSCODE", "s3cret")
    from streamlit.testing.v1 import AppTest

    from app_support import APP

    at = AppTest.from_file(str(APP), default_timeout=60).switch_page(page).run()
    assert labels(at) == ["Enter"] and not at.dataframe and no_media(at)


def test_raters_page_lists_quality_figures(client, board, monkeypatch):
    at = open_app(monkeypatch, client.db_path, board.id)
    at.switch_page(RATERS).run()
    table = at.dataframe[0].value
    assert list(table["Rater"]) == ["alice", "bob"]
    assert list(table["Votes"]) == [3, 2]
    assert list(table["Left rate %"]) == [100.0, 100.0]
    assert not table["Excluded"].any()


def test_owner_excludes_and_includes_a_rater(client, board, monkeypatch):
    at = open_app(monkeypatch, client.db_path, board.id)
    at.switch_page(RATERS).run()
    [picker] = [s for s in at.selectbox if s.label == "Rater"]
    picker.set_value("bob").run()
    click(at, "Exclude from standings")
    assert {s.name: s.excluded for s in board.raters()} == {"alice": False, "bob": True}
    assert list(at.dataframe[0].value["Excluded"]) == [False, True]
    at.switch_page(STANDINGS).run()
    assert "3 votes counted; 2 excluded" in page_text(at)
    assert board.get_standings(n_bootstrap=0).attrs["excluded_votes"] == 2
    at.switch_page(RATERS).run()
    [picker] = [s for s in at.selectbox if s.label == "Rater"]
    picker.set_value("bob").run()
    click(at, "Include again")
    assert not any(s.excluded for s in board.raters())
    at.switch_page(STANDINGS).run()
    assert "5 votes counted; none excluded" in page_text(at)


@pytest.mark.parametrize(("admin", "owner_code"), [(None, "s3cret"), ("adm1n", "adm1n")])
def test_owner_controls_need_the_owner_passcode(client, board, monkeypatch, admin, owner_code):
    at = open_app(monkeypatch, client.db_path, board.id, passcode="s3cret", admin_passcode=admin)
    enter(at, "Passcode", "s3cret")
    at.switch_page(RATERS).run()
    assert at.dataframe  # everyone past the gate sees the figures
    assert not [s for s in at.selectbox if s.label == "Rater"]  # but not the controls
    [owner_field] = at.text_input
    if admin:
        enter(at, owner_field.label, "s3cret")  # the raters' passcode is not enough
        assert at.error and not [s for s in at.selectbox if s.label == "Rater"]
    enter(at, owner_field.label, owner_code)
    assert [s for s in at.selectbox if s.label == "Rater"]
    button(at, "Exclude from standings")


def test_an_excluded_rater_still_rates_but_does_not_count(client, board, monkeypatch):
    board.exclude_rater("alice")
    at = start(open_app(monkeypatch, client.db_path, board.id), "alice")
    click(at, "A is better")
    assert board.summary()["votes"] == 6  # stored
    assert board.get_standings(n_bootstrap=0).attrs["excluded_votes"] == 4  # left out


def test_standings_page(client, board, monkeypatch):
    at = open_app(monkeypatch, client.db_path, board.id)
    at.switch_page(STANDINGS).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert sorted(table["name"]) == ["model-0", "model-1", "model-2"]
    assert list(table["rank"]) == sorted(table["rank"])
    assert {"score", "ci_low", "ci_high", "rank_low", "rank_high", "wins", "ties",
            "total_matches", "win_rate"} <= set(table.columns)
    assert "5 votes counted; none excluded" in page_text(at)


def test_pages_without_any_board(tmp_path, monkeypatch):
    from rater import Client

    Client(tmp_path / "empty.db", create=True).close()
    at = open_app(monkeypatch, tmp_path / "empty.db")
    assert "no leaderboards" in at.info[0].value
    for page in (RATERS, STANDINGS):
        at.switch_page(page).run()
        assert not at.exception and "no leaderboards" in at.info[0].value
